/**
 * Room with recording peers, on fake timers, over a memory store behind
 * injected faults: acknowledgements, refusals and resets (SPEC P9, P10a,
 * P10b, P13, F1, F2).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';

import { toConnectionId } from '../lib/ids';
import { CLOSE_CODES, DENIAL_CODES, decode, encode, type CloseCode, type Message } from '../lib/protocol';
import type { Role } from '../lib/roles';
import { UPDATE_THAT_BREAKS_OFF, testDocId } from '../tests/helpers/documents';
import { FaultyStore } from '../tests/helpers/faulty-store';
import { createSilentLogger } from './logger';
import { createRelayMetrics } from './metrics';
import { Room, type RoomLimits, type RoomPeer } from './room';
import { EMPTY_STORED_DOC } from './storage/doc-store';
import { createMemoryStore } from './storage/memory';

const LIMITS: RoomLimits = {
  compactAfterUpdates: 1_000,
  compactAfterBytes: 1 << 30,
  maxDocBytes: 1 << 30,
  maxUnsavedBytes: 1 << 30,
  writeStallMs: 60_000,
  maxAwarenessIdsPerConnection: 4,
};

interface RecordingPeer extends RoomPeer {
  readonly received: Message[];
  readonly closes: { code: CloseCode; reason: string }[];
}

function peer(name: string, options: { role?: Role; wantsSavedAcks?: boolean; issuedAt?: number } = {}): RecordingPeer {
  const received: Message[] = [];
  const closes: { code: CloseCode; reason: string }[] = [];
  return {
    id: toConnectionId(name),
    role: options.role ?? 'editor',
    wantsSavedAcks: options.wantsSavedAcks ?? false,
    issuedAt: options.issuedAt ?? 0,
    received,
    closes,
    send: (frame) => received.push(decode(frame)),
    close: (code, reason) => closes.push({ code, reason }),
  };
}

function setup(limits: Partial<RoomLimits> = {}) {
  const store = new FaultyStore(createMemoryStore());
  const corruptions: number[] = [];
  const room = new Room({
    docId: testDocId('roomy'),
    store,
    stored: EMPTY_STORED_DOC,
    logger: createSilentLogger(),
    metrics: createRelayMetrics(() => ({ count: 0, approxBytes: 0 })),
    limits: { ...LIMITS, ...limits },
    onCorrupted: () => corruptions.push(Date.now()),
  });
  return { store, room, corruptions };
}

/** A client's document whose edits come out as update messages. */
function editor() {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  return {
    type(text: string): Message {
      doc.getText('t').insert(doc.getText('t').length, text);
      return { type: 'update', update: updates.at(-1)! };
    },
  };
}

function send(room: Room, from: RoomPeer, message: Message): void {
  room.receive(from, message, encode(message));
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Room', () => {
  it('[P9] broadcasts a change at once and acknowledges it only once it is on disk', async () => {
    const { room } = setup();
    const alice = peer('alice', { wantsSavedAcks: true });
    const bob = peer('bob');
    room.join(alice);
    room.join(bob);
    send(room, alice, editor().type('hello'));
    expect(bob.received.map((message) => message.type)).toEqual(['update']);
    expect(alice.received.filter((message) => message.type === 'saved')).toEqual([]);
    await vi.runAllTimersAsync();
    expect(alice.received.filter((message) => message.type === 'saved')).toEqual([expect.objectContaining({ changeFramesSaved: 1 })]);
  });

  it('[F1] tells a waiting peer once that its change is not saved, and acknowledges it after recovery', async () => {
    const { store, room } = setup();
    const alice = peer('alice', { wantsSavedAcks: true });
    const bob = peer('bob', { wantsSavedAcks: true });
    room.join(alice);
    room.join(bob);
    store.injectWriteFault({ kind: 'fail', message: 'ENOSPC' });
    const typing = editor();
    send(room, alice, typing.type('a'));
    await vi.advanceTimersByTimeAsync(1_000);
    send(room, alice, typing.type('b'));
    await vi.advanceTimersByTimeAsync(1_000);
    const notSaved = alice.received.filter((message) => message.type === 'not-saved');
    expect(notSaved).toEqual([{ type: 'not-saved', reason: expect.stringContaining('ENOSPC') }]);
    // Bob changed nothing: nothing of his is unsaved.
    expect(bob.received.some((message) => message.type === 'not-saved')).toBe(false);
    store.heal();
    await vi.runAllTimersAsync();
    expect(alice.received.filter((message) => message.type === 'saved').at(-1)).toEqual(expect.objectContaining({ changeFramesSaved: 2 }));
  });

  it('[F2] past the unsaved bound refuses a change whole, says why, and closes with 1013; nothing of it reaches anyone', async () => {
    const { store, room } = setup({ maxUnsavedBytes: 100 });
    const alice = peer('alice', { wantsSavedAcks: true });
    const bob = peer('bob');
    room.join(alice);
    room.join(bob);
    store.injectWriteFault({ kind: 'fail', message: 'EIO' });
    const typing = editor();
    send(room, alice, typing.type('x'.repeat(60)));
    send(room, alice, typing.type('y'.repeat(60)));
    expect(alice.closes).toEqual([{ code: CLOSE_CODES.tryAgainLater, reason: expect.any(String) }]);
    const denial = alice.received.find((message) => message.type === 'permission-denied');
    expect(denial).toEqual({ type: 'permission-denied', reason: expect.stringMatching(new RegExp(`^${DENIAL_CODES.storageUnavailable}:`)) });
    expect(bob.received.filter((message) => message.type === 'update')).toHaveLength(1);
  });

  it('[P13] refuses a change that would take the document past its size limit, and stores nothing of it', async () => {
    const { store, room } = setup({ maxDocBytes: 100 });
    const alice = peer('alice');
    room.join(alice);
    send(room, alice, editor().type('z'.repeat(200)));
    await vi.runAllTimersAsync();
    expect(alice.received).toEqual([{ type: 'permission-denied', reason: expect.stringMatching(/^document-too-large:/) }]);
    expect(store.appendsWritten).toBe(0);
  });

  it('[P10a] never applies a viewer’s change', async () => {
    const { store, room } = setup();
    const viewer = peer('viewer', { role: 'viewer' });
    const bob = peer('bob');
    room.join(viewer);
    room.join(bob);
    send(room, viewer, editor().type('sneaky'));
    await vi.runAllTimersAsync();
    expect(bob.received).toEqual([]);
    expect(store.appendsWritten).toBe(0);
  });

  it('[P5] an update that breaks off while being integrated closes everyone else with 1012, acknowledges nothing more, and asks to be reloaded', async () => {
    const { store, room, corruptions } = setup();
    const alice = peer('alice', { wantsSavedAcks: true });
    const mallory = peer('mallory');
    room.join(alice);
    room.join(mallory);
    const typing = editor();
    send(room, alice, typing.type('kept'));
    expect(() => send(room, mallory, { type: 'update', update: UPDATE_THAT_BREAKS_OFF })).toThrow(/could not be integrated/);
    expect(corruptions).toHaveLength(1);
    expect(alice.closes).toEqual([{ code: CLOSE_CODES.serviceRestart, reason: 'document reloading' }]);
    // The sender's connection closes it with 1002 for the error thrown.
    expect(mallory.closes).toEqual([]);
    // Nothing more is taken, and the batch written after is not acknowledged from the damaged copy.
    send(room, alice, typing.type('ignored'));
    await vi.runAllTimersAsync();
    expect(alice.received.filter((message) => message.type === 'saved')).toEqual([]);
    expect((await store.load(testDocId('roomy'))).updates).toHaveLength(1);
  });

  it('[P10b] a reset of the links ends the sessions opened with links it voids, and only those', () => {
    const { room } = setup();
    const old = peer('old', { issuedAt: 1_000 });
    const fresh = peer('fresh', { issuedAt: 3_000 });
    room.join(old);
    room.join(fresh);
    room.noteLinksReset(2_000);
    expect(old.closes).toEqual([{ code: CLOSE_CODES.linkReset, reason: 'link-reset' }]);
    expect(fresh.closes).toEqual([]);
    expect(room.linksResetAt).toBe(2_000);
  });
});
