/**
 * Attack: awareness states crafted to break other people's pages — a caret
 * whose anchor is null (made every page throw on each remote change), a colour
 * that injects CSS, a name of 10,000 characters. Rules (SPEC P6b): every state
 * is checked against the app's schema before it is stored or forwarded;
 * invalid ones reach nobody, and a connection that keeps sending them is
 * closed with 1008 and a reason. Unknown top-level fields are dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { CLOSE_CODES, encode, encodeAwarenessUpdate } from '../../lib/protocol';
import { Teardown, connectClient, makeTempDir, openRawSocket, socketUrl, startRelay, waitForSync, waitUntil } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

const CARET = { type: null, tname: 'content', item: null, assoc: 0 };

describe('[P6b] awareness states', () => {
  it('forwards no invalid state, drops unknown fields, and closes a connection that keeps sending invalid ones', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const watcher = connectClient(teardown, relay, 'crafted');
    await waitForSync(watcher);
    const raw = await openRawSocket(teardown, socketUrl(relay, 'crafted'));
    const send = (clock: number, state: unknown): void =>
      raw.send(encode({ type: 'awareness', update: encodeAwarenessUpdate([{ clientId: 4242, clock, state }]) }));

    send(1, { user: { name: 'Eve', color: '#000000' }, cursor: { anchor: null } });
    send(2, { user: { name: 'Eve', color: '#000;position:fixed;inset:0' } });
    send(3, { user: { name: 'E'.repeat(10_000), color: '#000000' } });
    // A valid state with a field the app does not use: stored and forwarded without it.
    send(4, { user: { name: 'Eve', color: '#000000' }, cursor: { anchor: CARET, head: CARET }, script: '<img onerror=alert(1)>' });
    await waitUntil(() => watcher.provider.awareness.getStates().has(4242), { what: 'the valid state' });
    expect(watcher.provider.awareness.getStates().get(4242)).toEqual({
      user: { name: 'Eve', color: '#000000' },
      cursor: { anchor: CARET, head: CARET },
      role: 'editor',
    });

    for (let clock = 5; raw.socket.readyState === raw.socket.OPEN && clock < 40; clock++) send(clock, { cursor: { anchor: null } });
    const closed = await raw.closed;
    expect(closed.code).toBe(CLOSE_CODES.policyViolation);
    expect(closed.reason).toMatch(/^repeated invalid awareness: invalid awareness state: cursor/);
    await waitUntil(() => !watcher.provider.awareness.getStates().has(4242), { what: 'its state leaves with it' });
  });
});
