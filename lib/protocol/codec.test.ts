/**
 * Unit tests of the wire codec: round-trips, byte compatibility with y-protocols,
 * malformed frames, payload validation, awareness encoding and fuzzing. Every
 * Yjs payload comes from a real `Y.Doc`; only framing bytes are written by hand.
 */
import fc from 'fast-check';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it } from 'vitest';
import * as authProtocol from 'y-protocols/auth';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

import {
  assertValidStateVector,
  assertValidUpdate,
  decode,
  decodeAwarenessUpdate,
  parseAwarenessStateJson,
  readAwarenessEntries,
  readSavedPayload,
  encode,
  encodeAwarenessUpdate,
} from './codec';
import { ProtocolError, type ProtocolErrorReason } from './errors';
import { MESSAGE_TAGS, type AwarenessEntry, type Message, type MessageType } from './messages';

const FUZZ_RUNS = 500;

const disposables: { destroy(): void }[] = [];
afterEach(() => {
  for (const disposable of disposables.splice(0)) disposable.destroy();
});

function createDoc(): Y.Doc {
  const doc = new Y.Doc();
  disposables.push(doc);
  return doc;
}

function createAwareness(doc: Y.Doc = createDoc()): awarenessProtocol.Awareness {
  const awareness = new awarenessProtocol.Awareness(doc);
  disposables.push(awareness);
  return awareness;
}

/** A doc with text, map and array content, including a deletion. */
function createEditedDoc(): Y.Doc {
  const doc = createDoc();
  doc.getText('body').insert(0, 'Hello, wörld ✍️');
  doc.getMap('meta').set('title', { text: 'Draft', tags: ['a', 'b'], pinned: true });
  doc.getArray('blocks').insert(0, [1, 2.5, null, new Uint8Array([7, 8])]);
  doc.getText('body').delete(5, 2);
  return doc;
}

function buildFrame(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** A frame of the outer `tag` followed by whatever `write` adds (y-websocket's framing). */
function buildTaggedFrame(tag: number, write: (encoder: encoding.Encoder) => void = () => {}): Uint8Array {
  return buildFrame((encoder) => {
    encoding.writeVarUint(encoder, tag);
    write(encoder);
  });
}

/** One awareness entry whose state bytes are written as given (to build invalid states). */
function buildRawAwarenessUpdate(stateBytes: Uint8Array): Uint8Array {
  return buildFrame((encoder) => {
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, 7);
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint8Array(encoder, stateBytes);
  });
}

function expectProtocolError(run: () => unknown, code: ProtocolErrorReason): void {
  expect(run).toThrow(ProtocolError);
  expect(run).toThrow(expect.objectContaining({ code }));
}

/** Runs `call`, rethrowing anything but a ProtocolError. (How fast bad input is refused is the chaos fuzz's and the bench's to measure.) */
function expectOnlyProtocolErrors(call: () => unknown): void {
  try {
    call();
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
  }
}

describe('encode/decode round-trip', () => {
  function sampleMessages(): Record<MessageType, Message> {
    const doc = createEditedDoc();
    const awareness = createAwareness(doc);
    awareness.setLocalState({ user: { name: 'Ada', color: '#f80' }, cursor: null });
    return {
      'sync-step-1': { type: 'sync-step-1', stateVector: Y.encodeStateVector(doc) },
      'sync-step-2': { type: 'sync-step-2', update: Y.encodeStateAsUpdate(doc) },
      update: { type: 'update', update: Y.encodeStateAsUpdate(doc) },
      awareness: { type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]) },
      'query-awareness': { type: 'query-awareness' },
      'permission-denied': { type: 'permission-denied', reason: 'token expired — läuft ab 🔒' },
      saved: { type: 'saved', stateVector: Y.encodeStateVector(doc), changeFramesSaved: 3 },
      'not-saved': { type: 'not-saved', reason: 'storage writes failing: ENOSPC' },
    };
  }

  it.each(Object.keys(sampleMessages()) as MessageType[])('round-trips %s', (type) => {
    const message = sampleMessages()[type];
    expect(decode(encode(message))).toEqual(message);
  });

  it('round-trips an empty doc’s update and state vector, and an empty reason', () => {
    const doc = createDoc();
    const messages: Message[] = [
      { type: 'update', update: Y.encodeStateAsUpdate(doc) },
      { type: 'sync-step-1', stateVector: Y.encodeStateVector(doc) },
      { type: 'permission-denied', reason: '' },
    ];
    for (const message of messages) expect(decode(encode(message))).toEqual(message);
  });
});

describe('compatibility with y-protocols', () => {
  /** Frames written with y-protocols' own encoders, paired with the message they carry. */
  function yProtocolsFrames(): Record<MessageType, { frame: Uint8Array; message: Message } | null> {
    const doc = createEditedDoc();
    const updates: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => updates.push(update));
    doc.getMap('meta').set('title', 'Final');
    const [update] = updates;
    if (!update) throw new Error('expected an update event');
    const peerStateVector = Y.encodeStateVector(createDoc());
    const awareness = createAwareness(doc);
    awareness.setLocalState({ user: { name: 'Grace' }, selection: { anchor: 3, head: 9 } });
    const awarenessUpdate = awarenessProtocol.encodeAwarenessUpdate(awareness, [awareness.clientID]);
    return {
      'sync-step-1': {
        frame: buildTaggedFrame(MESSAGE_TAGS.sync, (encoder) => syncProtocol.writeSyncStep1(encoder, doc)),
        message: { type: 'sync-step-1', stateVector: Y.encodeStateVector(doc) },
      },
      'sync-step-2': {
        frame: buildTaggedFrame(MESSAGE_TAGS.sync, (encoder) => syncProtocol.writeSyncStep2(encoder, doc, peerStateVector)),
        message: { type: 'sync-step-2', update: Y.encodeStateAsUpdate(doc, peerStateVector) },
      },
      update: {
        frame: buildTaggedFrame(MESSAGE_TAGS.sync, (encoder) => syncProtocol.writeUpdate(encoder, update)),
        message: { type: 'update', update },
      },
      awareness: {
        frame: buildTaggedFrame(MESSAGE_TAGS.awareness, (encoder) => encoding.writeVarUint8Array(encoder, awarenessUpdate)),
        message: { type: 'awareness', update: awarenessUpdate },
      },
      'query-awareness': { frame: buildTaggedFrame(MESSAGE_TAGS.queryAwareness), message: { type: 'query-awareness' } },
      'permission-denied': {
        frame: buildTaggedFrame(MESSAGE_TAGS.auth, (encoder) => authProtocol.writePermissionDenied(encoder, 'read-only')),
        message: { type: 'permission-denied', reason: 'read-only' },
      },
      // Inkwell's own messages: y-protocols has no encoder for them.
      saved: null,
      'not-saved': null,
    };
  }

  const cases = Object.entries(yProtocolsFrames()).filter(([, entry]) => entry !== null);
  it.each(cases.map(([type]) => type))('decodes y-protocols’ %s frame and encodes it byte-identically', (type) => {
    const entry = yProtocolsFrames()[type as MessageType];
    if (!entry) throw new Error(`no y-protocols frame for ${type}`);
    expect(entry.message.type).toBe(type);
    expect(decode(entry.frame)).toEqual(entry.message);
    expect(encode(entry.message)).toEqual(entry.frame);
  });

  it('decodes a y-protocols sync step 2 whose update brings the peer up to date', () => {
    const doc = createEditedDoc();
    const peer = createDoc();
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc));
    doc.getText('body').insert(0, 'More: ');
    const peerStateVector = Y.encodeStateVector(peer);
    const frame = buildTaggedFrame(MESSAGE_TAGS.sync, (encoder) => syncProtocol.writeSyncStep2(encoder, doc, peerStateVector));
    const message = decode(frame);
    if (message.type !== 'sync-step-2') throw new Error(`expected sync-step-2, got ${message.type}`);
    Y.applyUpdate(peer, message.update);
    expect(Y.encodeStateAsUpdate(peer)).toEqual(Y.encodeStateAsUpdate(doc));
  });

  it('produces update frames that y-protocols applies to a doc', () => {
    const source = createEditedDoc();
    const target = createDoc();
    const frame = encode({ type: 'update', update: Y.encodeStateAsUpdate(source) });
    const decoder = decoding.createDecoder(frame);
    expect(decoding.readVarUint(decoder)).toBe(MESSAGE_TAGS.sync);
    const syncType = syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), target, 'test');
    expect(syncType).toBe(syncProtocol.messageYjsUpdate);
    expect(Y.encodeStateAsUpdate(target)).toEqual(Y.encodeStateAsUpdate(source));
  });
});

describe('update and awareness frames', () => {
  it('are byte-identical to y-protocols and lib0 at every length-prefix width', () => {
    for (const length of [0, 1, 127, 128, 16_383, 16_384, 2_097_152]) {
      const update = new Uint8Array(length).map((_, i) => i % 251);
      const reference = encoding.createEncoder();
      encoding.writeVarUint(reference, MESSAGE_TAGS.sync);
      syncProtocol.writeUpdate(reference, update);
      // Buffer.equals, not toEqual: a deep compare of 2 MiB element by element takes a minute.
      expect(Buffer.from(encode({ type: 'update', update })).equals(encoding.toUint8Array(reference))).toBe(true);
      const awareness = encoding.createEncoder();
      encoding.writeVarUint(awareness, MESSAGE_TAGS.awareness);
      encoding.writeVarUint8Array(awareness, update);
      expect(Buffer.from(encode({ type: 'awareness', update })).equals(encoding.toUint8Array(awareness))).toBe(true);
    }
  });
});

describe('readSavedPayload', () => {
  const savedFrame = (stateVector: Uint8Array, changeFramesSaved: number): Uint8Array =>
    encode({ type: 'saved', stateVector, changeFramesSaved });

  // y-websocket reads the tag and hands its message handler the decoder where the payload starts.
  function readAfterTag(frame: Uint8Array): { message: ReturnType<typeof readSavedPayload>; hasRest: boolean } {
    const decoder = decoding.createDecoder(frame);
    expect(decoding.readVarUint(decoder)).toBe(MESSAGE_TAGS.saved);
    const message = readSavedPayload(decoder);
    return { message, hasRest: decoding.hasContent(decoder) };
  }

  it('[P9a] reads, after the tag, the state vector and frame count that encode wrote, as decode does', () => {
    const stateVector = Y.encodeStateVector(createEditedDoc());
    for (const count of [0, 1, 127, 128, 2 ** 31]) {
      const frame = savedFrame(stateVector, count);
      const { message, hasRest } = readAfterTag(frame);
      expect(message).toEqual(decode(frame));
      expect(message).toEqual({ type: 'saved', stateVector, changeFramesSaved: count });
      expect(hasRest).toBe(false);
    }
  });

  it('[P9a] rejects every truncation of a saved frame as malformed', () => {
    const frame = savedFrame(Y.encodeStateVector(createEditedDoc()), 300);
    for (let length = 1; length < frame.length; length++) {
      expectProtocolError(() => readAfterTag(frame.subarray(0, length)), 'malformed');
    }
  });
});

describe('malformed frames', () => {
  const validUpdateFrame = (): Uint8Array => encode({ type: 'update', update: Y.encodeStateAsUpdate(createEditedDoc()) });

  it('rejects an empty frame as malformed', () => {
    expectProtocolError(() => decode(new Uint8Array(0)), 'malformed');
  });

  it('rejects a truncated var-uint as malformed', () => {
    expectProtocolError(() => decode(Uint8Array.of(0x80)), 'malformed');
    expectProtocolError(() => decode(Uint8Array.of(MESSAGE_TAGS.sync, 0x80)), 'malformed');
    expectProtocolError(() => decode(Uint8Array.of(MESSAGE_TAGS.awareness, 0xff, 0xff)), 'malformed');
  });

  it('rejects a payload length past the end of the frame as malformed', () => {
    const frame = validUpdateFrame();
    expectProtocolError(() => decode(frame.subarray(0, frame.length - 1)), 'malformed');
    expectProtocolError(() => decode(Uint8Array.of(MESSAGE_TAGS.awareness, 10, 1, 2)), 'malformed');
    expectProtocolError(() => decode(Uint8Array.of(MESSAGE_TAGS.saved, 0xff, 0xff, 0xff, 0xff, 0x0f)), 'malformed');
  });

  it('rejects trailing bytes after a complete message as malformed', () => {
    expectProtocolError(() => decode(Uint8Array.of(...validUpdateFrame(), 0)), 'malformed');
    expectProtocolError(() => decode(Uint8Array.of(MESSAGE_TAGS.queryAwareness, 0)), 'malformed');
  });

  it('rejects an unknown outer tag as unknown-message', () => {
    for (const tag of [4, 99, 102, 300]) expectProtocolError(() => decode(buildTaggedFrame(tag)), 'unknown-message');
  });

  it('rejects an unknown sync or auth sub-tag as unknown-message', () => {
    expectProtocolError(() => decode(Uint8Array.of(MESSAGE_TAGS.sync, 3, 0)), 'unknown-message');
    expectProtocolError(() => decode(Uint8Array.of(MESSAGE_TAGS.auth, 1)), 'unknown-message');
  });

  it('rejects a permission-denied reason that is not UTF-8 as malformed', () => {
    const frame = buildTaggedFrame(MESSAGE_TAGS.auth, (encoder) => {
      encoding.writeVarUint(encoder, authProtocol.messagePermissionDenied);
      encoding.writeVarUint8Array(encoder, Uint8Array.of(0xff));
    });
    expectProtocolError(() => decode(frame), 'malformed');
  });
});

describe('assertValidUpdate', () => {
  it('accepts full, incremental and empty Yjs updates', () => {
    const doc = createEditedDoc();
    const updates: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => updates.push(update));
    doc.getText('body').insert(3, 'xyz');
    doc.getArray('blocks').delete(0, 1);
    expect(updates).toHaveLength(2);
    for (const update of [Y.encodeStateAsUpdate(doc), ...updates, Y.encodeStateAsUpdate(createDoc())]) {
      expect(() => assertValidUpdate(update)).not.toThrow();
    }
  });

  it('rejects garbage as malformed', () => {
    expectProtocolError(() => assertValidUpdate(new Uint8Array(0)), 'malformed');
    expectProtocolError(() => assertValidUpdate(Uint8Array.of(1, 2, 3, 4, 5)), 'malformed');
    expectProtocolError(() => assertValidUpdate(new TextEncoder().encode('not a yjs update')), 'malformed');
  });

  it('rejects every truncation of a real update as malformed', () => {
    const update = Y.encodeStateAsUpdate(createEditedDoc());
    for (let length = 0; length < update.length; length++) {
      expectProtocolError(() => assertValidUpdate(update.subarray(0, length)), 'malformed');
    }
  });
});

describe('assertValidStateVector', () => {
  it('accepts real state vectors, including an empty doc’s', () => {
    const doc = createEditedDoc();
    const peer = createDoc();
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc));
    peer.getText('body').insert(0, '!');
    for (const candidate of [doc, peer, createDoc()]) {
      expect(() => assertValidStateVector(Y.encodeStateVector(candidate))).not.toThrow();
    }
  });

  it('rejects garbage, truncations and trailing bytes as malformed', () => {
    const stateVector = Y.encodeStateVector(createEditedDoc());
    expectProtocolError(() => assertValidStateVector(Uint8Array.of(0x80)), 'malformed');
    expectProtocolError(() => assertValidStateVector(Uint8Array.of(...stateVector, 0)), 'malformed');
    for (let length = 0; length < stateVector.length; length++) {
      expectProtocolError(() => assertValidStateVector(stateVector.subarray(0, length)), 'malformed');
    }
  });
});

describe('awareness updates', () => {
  const entries: AwarenessEntry[] = [
    { clientId: 1, clock: 1, state: { user: { name: 'Ada', color: '#f80' }, cursor: { anchor: 1, head: 4 } } },
    { clientId: 2 ** 31, clock: 17, state: { note: 'ünïcødé ✍️', list: [1, 'two', false, null] } },
    { clientId: 42, clock: 3, state: null },
  ];

  it('round-trips entries, including removed (null) states', () => {
    expect(decodeAwarenessUpdate(encodeAwarenessUpdate(entries))).toEqual(entries);
    expect(decodeAwarenessUpdate(encodeAwarenessUpdate([]))).toEqual([]);
  });

  it('decodes y-protocols’ encoding and re-encodes it byte-identically', () => {
    const alice = createAwareness();
    alice.setLocalState({ user: { name: 'Alice' } });
    alice.setLocalStateField('cursor', { anchor: 2, head: 2 });
    const update = awarenessProtocol.encodeAwarenessUpdate(alice, [alice.clientID]);
    const decoded = decodeAwarenessUpdate(update);
    expect(decoded).toEqual([
      { clientId: alice.clientID, clock: alice.meta.get(alice.clientID)?.clock, state: alice.getLocalState() },
    ]);
    expect(encodeAwarenessUpdate(decoded)).toEqual(update);
  });

  it('is applied by y-protocols’ applyAwarenessUpdate to a fresh Awareness', () => {
    const awareness = createAwareness();
    const live = entries.filter((entry) => entry.state !== null);
    awarenessProtocol.applyAwarenessUpdate(awareness, encodeAwarenessUpdate(live), 'test');
    for (const entry of live) {
      expect(awareness.getStates().get(entry.clientId)).toEqual(entry.state);
      expect(awareness.meta.get(entry.clientId)?.clock).toBe(entry.clock);
    }
    const removal: AwarenessEntry = { clientId: 1, clock: 2, state: null };
    awarenessProtocol.applyAwarenessUpdate(awareness, encodeAwarenessUpdate([removal]), 'test');
    expect(awareness.getStates().has(1)).toBe(false);
  });

  it('reads entries without parsing their states, with each state’s size as sent', () => {
    const update = encodeAwarenessUpdate(entries);
    const raw = readAwarenessEntries(update);
    expect(raw.map(({ clientId, clock }) => ({ clientId, clock }))).toEqual(entries.map(({ clientId, clock }) => ({ clientId, clock })));
    expect(raw.map((entry) => entry.stateJson)).toEqual(entries.map((entry) => JSON.stringify(entry.state)));
    expect(raw.map((entry) => entry.stateByteLength)).toEqual(entries.map((entry) => new TextEncoder().encode(JSON.stringify(entry.state)).byteLength));
    // Bad JSON is not looked at until a reader parses that state.
    const badJson = buildRawAwarenessUpdate(new TextEncoder().encode('{"user": '));
    expect(readAwarenessEntries(badJson)[0]?.stateJson).toBe('{"user": ');
    expectProtocolError(() => parseAwarenessStateJson('{"user": '), 'malformed');
  });

  it('refuses more entries than allowed as a policy violation, before reading them', () => {
    const update = encodeAwarenessUpdate(entries);
    expect(readAwarenessEntries(update, { maxEntries: 3 })).toHaveLength(3);
    expectProtocolError(() => readAwarenessEntries(update, { maxEntries: 2 }), 'policy-violation');
    // A count far past what the frame could hold is refused without a read past the count.
    expectProtocolError(() => readAwarenessEntries(Uint8Array.of(0xff, 0xff, 0xff, 0x7f), { maxEntries: 10 }), 'policy-violation');
  });

  it('rejects a state that is not valid JSON as malformed', () => {
    const update = buildRawAwarenessUpdate(new TextEncoder().encode('{"user": '));
    expectProtocolError(() => decodeAwarenessUpdate(update), 'malformed');
  });

  it('rejects a state that is not UTF-8, a truncation or trailing bytes as malformed', () => {
    const notUtf8 = buildRawAwarenessUpdate(Uint8Array.of(0x22, 0xff, 0x22));
    expectProtocolError(() => decodeAwarenessUpdate(notUtf8), 'malformed');
    const valid = encodeAwarenessUpdate(entries);
    expectProtocolError(() => decodeAwarenessUpdate(valid.subarray(0, valid.length - 1)), 'malformed');
    expectProtocolError(() => decodeAwarenessUpdate(Uint8Array.of(...valid, 0)), 'malformed');
  });
});

describe('properties', () => {
  const anyBytes = fc.uint8Array({ maxLength: 200 });
  // Random bytes rarely form a valid header, so also fuzz a known tag prefix + length-prefixed payload + tail.
  const taggedFrame = fc
    .tuple(
      fc.constantFrom([0, 0], [0, 1], [0, 2], [0, 7], [1], [2, 0], [2, 1], [3], [100]),
      fc.uint8Array({ maxLength: 100 }),
      fc.uint8Array({ maxLength: 4 }),
    )
    .map(([prefix, payload, tail]) =>
      buildFrame((encoder) => {
        for (const byte of prefix) encoding.writeUint8(encoder, byte);
        encoding.writeVarUint8Array(encoder, payload);
        encoding.writeUint8Array(encoder, tail);
      }),
    );

  const runs = { numRuns: FUZZ_RUNS };
  it('decode of arbitrary bytes returns a message or throws ProtocolError', () => {
    fc.assert(fc.property(anyBytes, (bytes) => expectOnlyProtocolErrors(() => decode(bytes))), runs);
  });

  it('decode of a known tag with an arbitrary payload returns a message or throws ProtocolError', () => {
    fc.assert(fc.property(taggedFrame, (bytes) => expectOnlyProtocolErrors(() => decode(bytes))), runs);
  });

  it('assertValidUpdate of arbitrary bytes returns or throws ProtocolError', () => {
    fc.assert(fc.property(anyBytes, (bytes) => expectOnlyProtocolErrors(() => assertValidUpdate(bytes))), runs);
  });

  it('assertValidUpdate of a real update with corrupted bytes returns or throws ProtocolError', () => {
    const update = Y.encodeStateAsUpdate(createEditedDoc());
    const corruption = fc.array(fc.tuple(fc.nat(update.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(corruption, (changes) => {
        const corrupted = update.slice();
        for (const [index, value] of changes) corrupted[index] = value;
        expectOnlyProtocolErrors(() => assertValidUpdate(corrupted));
      }),
      runs,
    );
  });

  it('update messages from random text edits round-trip and rebuild the same text', () => {
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 30 }), (edits) => {
        const source = new Y.Doc();
        const replica = new Y.Doc();
        const text = source.getText('body');
        source.on('update', (update: Uint8Array) => {
          const message: Message = { type: 'update', update };
          expect(decode(encode(message))).toEqual(message);
          Y.applyUpdate(replica, update);
        });
        for (const change of edits) {
          const at = change.at % (text.length + 1);
          if (change.kind === 'insert') text.insert(at, change.text);
          else if (text.length > 0) {
            const from = Math.min(at, text.length - 1);
            text.delete(from, Math.min(change.length, text.length - from));
          }
        }
        expect(replica.getText('body').toString()).toBe(text.toString());
        source.destroy();
        replica.destroy();
      }),
      { numRuns: 200 },
    );
  });
});

describe('assertValidUpdate and ids Yjs cannot encode back', () => {
  // Found by the chaos fuzz: a client id written as an 11-byte var-uint (about 2^76).
  const HUGE_CLIENT_UPDATE = Uint8Array.from(
    Buffer.from('010480808080808080808080807f000601017404626f6c640474727565841a0004f385868a861a0204626f6c64046e756c6c2801016d0771552d3d74627b017be0b6d7af3228b73400', 'hex'),
  );

  it('[P5b] refuses an update whose client id is past 2^53, which Yjs applies but whose document then no longer encodes', () => {
    const doc = createDoc();
    Y.applyUpdate(doc, HUGE_CLIENT_UPDATE);
    expect(() => Y.diffUpdate(Y.encodeStateAsUpdate(doc), Y.encodeStateVector(createDoc()))).toThrow();
    expectProtocolError(() => assertValidUpdate(HUGE_CLIENT_UPDATE), 'malformed');
  });

  it('accepts ordinary updates', () => {
    const doc = createEditedDoc();
    expect(() => assertValidUpdate(Y.encodeStateAsUpdate(doc))).not.toThrow();
  });
});
