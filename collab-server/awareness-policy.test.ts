import { describe, expect, it } from 'vitest';

import type { RawAwarenessEntry } from '../lib/protocol';
import type { Role } from '../lib/roles';
import { AwarenessPolicy, type AwarenessJudgement } from './awareness-policy';

interface TestPeer {
  readonly name: string;
  readonly role: Role;
}

const alice: TestPeer = { name: 'alice', role: 'editor' };
const bob: TestPeer = { name: 'bob', role: 'editor' };
const victor: TestPeer = { name: 'victor', role: 'viewer' };

function entry(clientId: number, clock: number, state: unknown): RawAwarenessEntry {
  const stateJson = JSON.stringify(state);
  return { clientId, clock, stateJson, stateByteLength: new TextEncoder().encode(stateJson).byteLength };
}

const ADA = { user: { name: 'Ada', color: '#1971c2' }, role: 'editor' };

function kinds(judgements: AwarenessJudgement[]): string[] {
  return judgements.map((judgement) => judgement.kind);
}

describe('AwarenessPolicy', () => {
  it('accepts a valid state exactly as sent, and makes the sender own its id', () => {
    const policy = new AwarenessPolicy<TestPeer>({ maxIdsPerConnection: 4 });
    expect(policy.judge(alice, entry(10, 1, ADA), undefined, 0)).toEqual({ kind: 'accept', clientId: 10, clock: 1, state: ADA, isExact: true });
    expect(policy.ownedCount(alice)).toBe(1);
    expect(policy.judge(bob, entry(10, 2, ADA), 1, 0)).toEqual({ kind: 'refuse', reason: 'client id 10 belongs to another connection' });
    // An echo of alice's state by bob, no newer than the room's clock, is harmless.
    expect(policy.judge(bob, entry(10, 1, ADA), 1, 0)).toEqual({ kind: 'skip' });
  });

  it('sets the role of the link, whatever the client wrote, and drops unknown fields', () => {
    const policy = new AwarenessPolicy<TestPeer>({ maxIdsPerConnection: 4 });
    expect(policy.judge(victor, entry(20, 1, { ...ADA, extra: 'x' }), undefined, 0)).toEqual({
      kind: 'accept',
      clientId: 20,
      clock: 1,
      state: { ...ADA, role: 'viewer' },
      isExact: false,
    });
    expect(policy.judge(victor, entry(20, 2, { user: ADA.user }), 1, 0)).toMatchObject({ state: { role: 'viewer' }, isExact: false });
  });

  it('refuses invalid states, oversize states and more ids than allowed', () => {
    const policy = new AwarenessPolicy<TestPeer>({ maxIdsPerConnection: 2 });
    expect(policy.judge(alice, entry(1, 1, { cursor: { anchor: null } }), undefined, 0)).toMatchObject({ kind: 'refuse' });
    expect(policy.judge(alice, entry(1, 1, { user: { name: 'x', color: '#000;position:fixed;inset:0' } }), undefined, 0)).toMatchObject({
      kind: 'refuse',
    });
    expect(policy.judge(alice, entry(1, 1, { pad: 'x'.repeat(2048) }), undefined, 0)).toMatchObject({
      kind: 'refuse',
      reason: expect.stringContaining('exceeds 2048'),
    });
    expect(policy.ownedCount(alice)).toBe(0);
    expect(kinds([1, 2, 3].map((id) => policy.judge(alice, entry(id, 1, ADA), undefined, 0)))).toEqual(['accept', 'accept', 'refuse']);
    // Its own ids stay usable.
    expect(policy.judge(alice, entry(2, 2, ADA), 1, 0)).toMatchObject({ kind: 'accept' });
  });

  it('skips removals of ids nobody owns and stale clocks, and lets owners remove their state', () => {
    const policy = new AwarenessPolicy<TestPeer>({ maxIdsPerConnection: 4 });
    expect(policy.judge(alice, entry(5, 3, null), undefined, 0)).toEqual({ kind: 'skip' });
    policy.judge(alice, entry(5, 3, ADA), undefined, 0);
    expect(policy.judge(alice, entry(5, 2, ADA), 3, 0)).toEqual({ kind: 'skip' });
    expect(policy.judge(alice, entry(5, 4, null), 3, 0)).toEqual({ kind: 'accept', clientId: 5, clock: 4, state: null, isExact: true });
  });

  it('forgets a closed connection’s ids, so the person returning is heard whatever the clock', () => {
    const policy = new AwarenessPolicy<TestPeer>({ maxIdsPerConnection: 4 });
    policy.judge(alice, entry(7, 40, ADA), undefined, 0);
    expect(policy.release(alice, () => 41, 1_000)).toEqual([7]);
    // An attacker claims the id with a huge clock, then leaves: nothing of it lingers.
    const mallory: TestPeer = { name: 'mallory', role: 'viewer' };
    expect(policy.judge(mallory, entry(7, 2 ** 50, ADA), undefined, 2_000)).toMatchObject({ kind: 'accept' });
    policy.release(mallory, () => 2 ** 50, 3_000);
    const returning: TestPeer = { name: 'alice again', role: 'editor' };
    expect(policy.judge(returning, entry(7, 41, ADA), undefined, 4_000)).toMatchObject({ kind: 'accept' });
  });

  it('does not let a late echo of a departed client’s state resurrect it as a ghost', () => {
    const policy = new AwarenessPolicy<TestPeer>({ maxIdsPerConnection: 4 });
    policy.judge(alice, entry(7, 40, ADA), undefined, 0);
    policy.judge(bob, entry(8, 1, ADA), undefined, 0);
    policy.release(alice, () => 41, 1_000);
    // Bob echoes alice's last state, sent before the removal reached him.
    expect(policy.judge(bob, entry(7, 40, ADA), undefined, 1_010)).toEqual({ kind: 'skip' });
    expect(policy.ownedCount(bob)).toBe(1);
    // Long after, the id is free again for anyone.
    expect(policy.judge(bob, entry(7, 40, ADA), undefined, 31_000)).toMatchObject({ kind: 'accept' });
  });

  it('cuts a connection off once it keeps sending refused entries, and only that one', () => {
    const policy = new AwarenessPolicy<TestPeer>({ maxIdsPerConnection: 4 });
    expect(policy.strike(alice, 8, 0)).toBe(false);
    expect(policy.strike(bob, 1, 0)).toBe(false);
    expect(policy.strike(alice, 1, 0)).toBe(true);
    // Strikes come back slowly: one every five seconds.
    expect(policy.strike(bob, 7, 0)).toBe(false);
    expect(policy.strike(bob, 1, 5_000)).toBe(false);
  });

  it('allows as many entries per message as the room knows ids, plus a little', () => {
    const policy = new AwarenessPolicy<TestPeer>({ maxIdsPerConnection: 4 });
    expect(policy.maxEntriesPerMessage(0)).toBe(20);
    policy.judge(alice, entry(1, 1, ADA), undefined, 0);
    policy.release(alice, () => 1, 0);
    expect(policy.maxEntriesPerMessage(100)).toBe(121);
  });
});
