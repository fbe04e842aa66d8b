/**
 * What the fuzzer sends, as fast-check arbitraries. Each sample is one fuzz
 * frame for one fresh socket, labelled with the family it comes from:
 *
 * - `random-bytes`: any bytes, bare or behind a real tag so the reader gets further.
 * - `truncated`: a valid message cut short.
 * - `mutated`: a valid message with bytes flipped, set, inserted or deleted.
 * - `huge-varint`: lengths, counts, tags and Yjs fields of 2^31 … 2^53 and past, and var-ints that never end.
 * - `corrupted-update`: a real Yjs update with its structs damaged, correctly framed.
 * - `broken-awareness`: awareness framing that is fine around a state that is not JSON.
 * - `unknown-type`: tags and sync sub-tags nobody defined, and the relay-only `auth` and `saved`.
 * - `text-frame`: a WebSocket text frame (valid or invalid UTF-8).
 * - `bad-framing`: WebSocket framing a client must not send: reserved opcodes, RSV bits, no mask,
 *   oversized or fragmented control frames, a stray continuation, a length past the relay's cap.
 */
import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

import { OPCODES, clientFrame, oversizeFrameHeader } from './raw-ws-client';

/** One fuzz frame: a binary message (framed by the client), or bytes written raw after the upgrade. */
export type FuzzFrame =
  | { readonly kind: 'message'; readonly family: FuzzFamily; readonly message: Uint8Array }
  | { readonly kind: 'wire'; readonly family: FuzzFamily; readonly bytes: Uint8Array };

export const FUZZ_FAMILIES = [
  'random-bytes',
  'truncated',
  'mutated',
  'huge-varint',
  'corrupted-update',
  'broken-awareness',
  'unknown-type',
  'text-frame',
  'bad-framing',
] as const;
export type FuzzFamily = (typeof FUZZ_FAMILIES)[number];

/** The relay's default COLLAB_MAX_MESSAGE_BYTES; the fuzz relay keeps it. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

const varUint = (value: number): Uint8Array => {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, value);
  return encoding.toUint8Array(encoder);
};
const varBytes = (bytes: Uint8Array): Uint8Array => concat(varUint(bytes.byteLength), bytes);
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
};

/** A real Yjs v1 update: text with and without formatting, map entries, array items, deletions. */
const yjsUpdate: fc.Arbitrary<Uint8Array> = fc
  .record({
    clientId: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    edits: fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('insert' as const), text: fc.string({ maxLength: 24, unit: 'binary' }), bold: fc.boolean() }),
        fc.record({ op: fc.constant('delete' as const), at: fc.nat(40), length: fc.integer({ min: 1, max: 8 }) }),
        fc.record({ op: fc.constant('map' as const), key: fc.string({ maxLength: 8 }), value: fc.jsonValue({ maxDepth: 2 }) }),
        fc.record({ op: fc.constant('array' as const), items: fc.array(fc.oneof(fc.integer(), fc.string(), fc.boolean()), { maxLength: 4 }) }),
      ),
      { minLength: 1, maxLength: 6 },
    ),
  })
  .map(({ clientId, edits }) => {
    const doc = new Y.Doc();
    doc.clientID = clientId;
    const text = doc.getText('t');
    for (const edit of edits) {
      if (edit.op === 'insert') text.insert(text.length, edit.text, edit.bold ? { bold: true } : undefined);
      else if (edit.op === 'delete' && text.length > 0) {
        const at = Math.min(edit.at, text.length - 1);
        text.delete(at, Math.min(edit.length, text.length - at));
      }
      else if (edit.op === 'map') doc.getMap('m').set(edit.key, edit.value);
      else if (edit.op === 'array') doc.getArray('a').push(edit.items);
    }
    const update = Y.encodeStateAsUpdate(doc);
    doc.destroy();
    return update;
  });

const stateVector = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.nat()), { maxLength: 4 })
  .map((entries) => concat(varUint(entries.length), ...entries.flatMap(([client, clock]) => [varUint(client), varUint(clock)])));

const awarenessUpdate = (states: fc.Arbitrary<Uint8Array[]>): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(states, fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.nat(1000))
    .map(([encodedStates, clientId, clock]) =>
      concat(varUint(encodedStates.length), ...encodedStates.flatMap((state, i) => [varUint(clientId + i), varUint(clock), varBytes(state)])),
    );

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

const validAwarenessState = fc
  .record({ name: fc.string({ maxLength: 20 }), color: fc.constantFrom('#1971c2', '#e03131', '#2f9e44') })
  .map((user) => utf8(JSON.stringify({ user, cursor: null })));

/** Every kind of message a client may send, well formed. */
const validMessage: fc.Arbitrary<Uint8Array> = fc.oneof(
  yjsUpdate.map((update) => concat(Uint8Array.of(0, 2), varBytes(update))),
  yjsUpdate.map((update) => concat(Uint8Array.of(0, 1), varBytes(update))),
  stateVector.map((sv) => concat(Uint8Array.of(0, 0), varBytes(sv))),
  awarenessUpdate(fc.array(validAwarenessState, { minLength: 1, maxLength: 3 })).map((update) => concat(Uint8Array.of(1), varBytes(update))),
  fc.constant(Uint8Array.of(3)),
);

type Mutation = { readonly kind: 'flip' | 'set' | 'insert' | 'delete'; readonly at: number; readonly value: number };
const mutations = fc.array(
  fc.record({ kind: fc.constantFrom('flip', 'set', 'insert', 'delete'), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  { minLength: 1, maxLength: 4 },
);

/** Applies `list` to a copy of `bytes`, leaving the first `keep` bytes alone. */
function mutate(bytes: Uint8Array, list: readonly Mutation[], keep = 0): Uint8Array {
  const out = [...bytes];
  for (const { kind, at, value } of list) {
    const span = out.length - keep;
    if (span <= 0 && kind !== 'insert') continue;
    const index = keep + (span > 0 ? at % span : 0);
    if (kind === 'flip') out[index] = out[index]! ^ (1 << (value % 8));
    else if (kind === 'set') out[index] = value;
    else if (kind === 'insert') out.splice(Math.min(index, out.length), 0, value);
    else out.splice(index, 1);
  }
  return Uint8Array.from(out);
}

const HUGE_VALUES = [2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER];
/** Var-ints of huge values, var-ints whose value is past 2^53, and var-ints that never end. */
const hugeVarUint: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom(...HUGE_VALUES).map(varUint),
  fc.integer({ min: 9, max: 12 }).map((length) => Uint8Array.from([...new Array<number>(length - 1).fill(0x80), 0x7f])),
  fc.integer({ min: 1, max: 16 }).map((length) => new Uint8Array(length).fill(0xff)),
);

const hugeVarint: fc.Arbitrary<Uint8Array> = fc.oneof(
  hugeVarUint,
  fc.tuple(hugeVarUint, fc.uint8Array({ maxLength: 16 })).map(([tag, rest]) => concat(tag, rest)),
  fc.tuple(hugeVarUint, fc.uint8Array({ maxLength: 16 })).map(([subTag, rest]) => concat(Uint8Array.of(0), subTag, rest)),
  fc.tuple(fc.constantFrom(0, 1, 2), hugeVarUint, fc.uint8Array({ maxLength: 32 })).map(([syncTag, length, rest]) => concat(Uint8Array.of(0, syncTag), length, rest)),
  fc.tuple(hugeVarUint, fc.uint8Array({ maxLength: 32 })).map(([length, rest]) => concat(Uint8Array.of(1), length, rest)),
  // Awareness entry count, and a state vector's count, huge inside a correct length.
  fc.tuple(hugeVarUint, fc.uint8Array({ maxLength: 16 })).map(([count, rest]) => concat(Uint8Array.of(1), varBytes(concat(count, rest)))),
  fc.tuple(hugeVarUint, fc.uint8Array({ maxLength: 16 })).map(([count, rest]) => concat(Uint8Array.of(0, 0), varBytes(concat(count, rest)))),
  // A Yjs update whose first fields (clients, structs, client id, clock) are huge.
  fc.tuple(yjsUpdate, hugeVarUint, fc.nat(3)).map(([update, huge, field]) => {
    const fields = [...update];
    // The first four fields of a v1 update are single bytes for small documents; replace one by a huge value.
    const before = Uint8Array.from(fields.slice(0, field));
    const after = Uint8Array.from(fields.slice(field + 1));
    return concat(Uint8Array.of(0, 2), varBytes(concat(before, huge, after)));
  }),
);

const brokenJson: fc.Arbitrary<Uint8Array> = fc.oneof(
  validAwarenessState.chain((state) => fc.integer({ min: 1, max: Math.max(1, state.byteLength - 1) }).map((cut) => state.slice(0, cut))),
  fc.constantFrom('{', '{"user":', 'undefined', 'NaN', "{'a':1}", '{"a":1,}', '[1,2', '"unterminated', 'nul', 'tru', '{"a":01}').map(utf8),
  fc.string({ minLength: 1, maxLength: 40 }).filter((text) => !isJson(text)).map(utf8),
);

const brokenAwareness: fc.Arbitrary<Uint8Array> = fc.oneof(
  // The broken state first, then maybe good ones.
  awarenessUpdate(fc.tuple(brokenJson, fc.array(validAwarenessState, { maxLength: 2 })).map(([bad, good]) => [bad, ...good])),
  // States whose bytes are not UTF-8 at all, anywhere in the message.
  awarenessUpdate(
    fc.tuple(fc.array(validAwarenessState, { maxLength: 2 }), fc.constantFrom(Uint8Array.of(0xff), Uint8Array.of(0xc3), Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(0x7b, 0xfe, 0x7d))).map(([good, bad]) => [...good, bad]),
  ),
).map((update) => concat(Uint8Array.of(1), varBytes(update)));

const unknownType: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(fc.oneof(fc.constant(2), fc.integer({ min: 4, max: 99 }), fc.integer({ min: 100, max: 100_000 })), fc.uint8Array({ maxLength: 32 })).map(([tag, rest]) => concat(varUint(tag), rest)),
  // `auth` permission-denied and `saved`, well formed: the relay's messages, never a client's (P10).
  fc.string({ maxLength: 40 }).map((reason) => concat(Uint8Array.of(2, 0), varBytes(utf8(reason)))),
  fc.tuple(stateVector, fc.nat(1000)).map(([sv, count]) => concat(Uint8Array.of(100), varBytes(sv), varUint(count))),
  fc.tuple(fc.integer({ min: 3, max: 1000 }), fc.uint8Array({ maxLength: 16 })).map(([syncTag, payload]) => concat(Uint8Array.of(0), varUint(syncTag), varBytes(payload))),
);

const message = (family: FuzzFamily, arbitrary: fc.Arbitrary<Uint8Array>): fc.Arbitrary<FuzzFrame> =>
  arbitrary.map((bytes) => ({ kind: 'message', family, message: bytes }));
const wire = (family: FuzzFamily, arbitrary: fc.Arbitrary<Uint8Array>): fc.Arbitrary<FuzzFrame> =>
  arbitrary.map((bytes) => ({ kind: 'wire', family, bytes }));

const RESERVED_OPCODES = [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf];

/** Every fuzz frame, weighted towards the message families. */
export const fuzzFrame: fc.Arbitrary<FuzzFrame> = fc.oneof(
  {
    weight: 3,
    arbitrary: message(
      'random-bytes',
      fc.oneof(
        { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 65, maxLength: 4096 }) },
        { weight: 3, arbitrary: fc.tuple(fc.constantFrom(0, 1, 2, 3, 100), fc.uint8Array({ maxLength: 64 })).map(([tag, rest]) => concat(Uint8Array.of(tag), rest)) },
      ),
    ),
  },
  { weight: 3, arbitrary: message('truncated', validMessage.chain((bytes) => fc.nat(Math.max(0, bytes.byteLength - 1)).map((cut) => bytes.slice(0, cut)))) },
  { weight: 3, arbitrary: message('mutated', fc.tuple(validMessage, mutations).map(([bytes, list]) => mutate(bytes, list))) },
  { weight: 2, arbitrary: message('huge-varint', hugeVarint) },
  {
    weight: 3,
    arbitrary: message(
      'corrupted-update',
      // The two-byte sync header stays; the length prefix follows the damaged update, so only its structs are wrong.
      fc.tuple(yjsUpdate, mutations, fc.constantFrom(1, 2)).map(([update, list, syncTag]) => concat(Uint8Array.of(0, syncTag), varBytes(mutate(update, list, 1)))),
    ),
  },
  { weight: 2, arbitrary: message('broken-awareness', brokenAwareness) },
  { weight: 2, arbitrary: message('unknown-type', unknownType) },
  {
    weight: 1,
    arbitrary: wire(
      'text-frame',
      fc.oneof(
        fc.string({ maxLength: 64 }).map((text) => clientFrame({ opcode: OPCODES.text, payload: utf8(text) })),
        fc.uint8Array({ minLength: 1, maxLength: 16 }).map((bytes) => clientFrame({ opcode: OPCODES.text, payload: concat(bytes, Uint8Array.of(0xff)) })),
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: wire(
      'bad-framing',
      fc.oneof(
        fc.tuple(fc.constantFrom(...RESERVED_OPCODES), fc.uint8Array({ maxLength: 16 })).map(([opcode, payload]) => clientFrame({ opcode, payload })),
        fc.tuple(fc.constantFrom(0x40, 0x20, 0x10, 0x70), validMessage).map(([rsv, payload]) => clientFrame({ opcode: OPCODES.binary, payload, rsv })),
        validMessage.map((payload) => clientFrame({ opcode: OPCODES.binary, payload, isMasked: false })),
        fc.uint8Array({ minLength: 126, maxLength: 200 }).map((payload) => clientFrame({ opcode: OPCODES.ping, payload })),
        fc.uint8Array({ maxLength: 8 }).map((payload) => clientFrame({ opcode: OPCODES.ping, payload, fin: false })),
        validMessage.map((payload) => clientFrame({ opcode: OPCODES.continuation, payload })),
        fc.bigInt({ min: BigInt(MAX_MESSAGE_BYTES + 1), max: 2n ** 53n - 1n }).map(oversizeFrameHeader),
      ),
    ),
  },
);

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
