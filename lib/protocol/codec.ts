/**
 * Pure encoder/decoder for the wire protocol. Knows nothing of sockets.
 *
 * Frame layout (lib0 var-uint encoding throughout):
 *   sync:            [0][sub-tag][var-bytes payload]   sub-tag 0 = step 1 (state vector),
 *                                                      1 = step 2, 2 = update (Yjs update)
 *   awareness:       [1][var-bytes awareness update]
 *   auth:            [2][0 = permission denied][var-string reason]
 *   query-awareness: [3]
 *   saved:           [100][var-bytes state vector][var-uint change frames saved]
 *                                                      (Inkwell only, opt-in)
 *   not-saved:       [101][var-string reason]         (Inkwell only, opt-in)
 *
 * Handshake: each side sends sync step 1; each answers the other's with step 2;
 * afterwards both sides stream `update`s and `awareness`.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

import { PROTOCOL_ERROR_REASONS, ProtocolError } from './errors';
import { AUTH_TAGS, DENIAL_CODES, MESSAGE_TAGS, SYNC_TAGS, type AwarenessEntry, type DenialCode, type Message, type RawAwarenessEntry, type NotSavedMessage, type SavedMessage } from './messages';

/** Decodes one frame. Throws `ProtocolError` for anything that is not exactly one valid message. */
export function decode(frame: Uint8Array): Message {
  const decoder = decoding.createDecoder(frame);
  const message = readMessage(decoder);
  if (decoding.hasContent(decoder)) {
    throw malformed(`trailing bytes after ${message.type} message`);
  }
  return message;
}

/**
 * Reads a `saved` message from a decoder positioned after its tag: what a
 * y-websocket message handler, which the provider calls with the tag already
 * read, needs. `decode` reads the same fields this way. Throws `ProtocolError`.
 */
export function readSavedPayload(decoder: decoding.Decoder): SavedMessage {
  return { type: 'saved', stateVector: readBytes(decoder), changeFramesSaved: readUint(decoder) };
}

/** Reads a `not-saved` message from a decoder positioned after its tag (as `readSavedPayload`). */
export function readNotSavedPayload(decoder: decoding.Decoder): NotSavedMessage {
  return { type: 'not-saved', reason: readCheckedString(decoder) };
}

/** Encodes one message into a frame. */
export function encode(message: Message): Uint8Array {
  // The relay encodes a frame per change it forwards: these two are sized exactly and written directly.
  if (message.type === 'update') return encodeFrame([MESSAGE_TAGS.sync, SYNC_TAGS.update], message.update);
  if (message.type === 'awareness') return encodeFrame([MESSAGE_TAGS.awareness], message.update);
  const encoder = encoding.createEncoder();
  switch (message.type) {
    case 'sync-step-1':
      writeSync(encoder, SYNC_TAGS.step1, message.stateVector);
      break;
    case 'sync-step-2':
      writeSync(encoder, SYNC_TAGS.step2, message.update);
      break;
    case 'query-awareness':
      encoding.writeVarUint(encoder, MESSAGE_TAGS.queryAwareness);
      break;
    case 'permission-denied':
      encoding.writeVarUint(encoder, MESSAGE_TAGS.auth);
      encoding.writeVarUint(encoder, AUTH_TAGS.permissionDenied);
      encoding.writeVarString(encoder, message.reason);
      break;
    case 'saved':
      encoding.writeVarUint(encoder, MESSAGE_TAGS.saved);
      encoding.writeVarUint8Array(encoder, message.stateVector);
      encoding.writeVarUint(encoder, message.changeFramesSaved);
      break;
    case 'not-saved':
      encoding.writeVarUint(encoder, MESSAGE_TAGS.notSaved);
      encoding.writeVarString(encoder, message.reason);
      break;
    default:
      return assertNever(message);
  }
  return encoding.toUint8Array(encoder);
}

/**
 * Checks that `update` is a well-formed Yjs (v1) update, so that nothing from a
 * malformed frame is ever applied. Throws `ProtocolError`. Bytes after a valid
 * update are ignored by every Yjs reader; the relay logs and forwards updates as
 * received, so such bytes travel along but are never interpreted.
 */
export function assertValidUpdate(update: Uint8Array): void {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch (cause) {
    throw malformed('invalid Yjs update', cause);
  }
  // Yjs writes every client id and clock back as a var-uint and reads it again as one
  // of at most 53 bits. lib0 decodes longer var-uints into imprecise numbers, so an
  // update can carry a client id of 2^76 that applies, after which the document's
  // own encoding no longer decodes and every sync reply throws (chaos fuzz).
  for (const struct of decoded.structs) {
    assertSafeId(struct.id.client, struct.id.clock + struct.length);
    if (struct instanceof Y.Item) {
      for (const id of [struct.origin, struct.rightOrigin, struct.parent instanceof Y.ID ? struct.parent : null]) {
        if (id) assertSafeId(id.client, id.clock);
      }
    }
  }
  for (const [client, deletions] of decoded.ds.clients) {
    for (const deletion of deletions) assertSafeId(client, deletion.clock + deletion.len);
  }
}

function assertSafeId(client: number, clock: number): void {
  if (!Number.isSafeInteger(client) || client < 0) throw malformed(`client id ${client} is not an integer Yjs can encode`);
  if (!Number.isSafeInteger(clock) || clock > MAX_CLOCK) throw malformed(`clock ${clock} of client ${client} is past ${MAX_CLOCK}`);
}

/** The largest clock (plus length) an update may reach; see `assertValidUpdate`. */
const MAX_CLOCK = 2 ** 48;

/** True for a valid update that carries nothing: no structs and no deletions. */
export function isEmptyUpdate(update: Uint8Array): boolean {
  const decoded = Y.decodeUpdate(update);
  return decoded.structs.length === 0 && decoded.ds.clients.size === 0;
}

/** Checks that a state vector decodes. Throws `ProtocolError`. */
export function assertValidStateVector(stateVector: Uint8Array): void {
  try {
    const decoder = decoding.createDecoder(stateVector);
    const count = decoding.readVarUint(decoder);
    for (let i = 0; i < count; i++) {
      decoding.readVarUint(decoder);
      decoding.readVarUint(decoder);
    }
    if (decoding.hasContent(decoder)) throw new Error('trailing bytes');
  } catch (cause) {
    throw malformed('invalid state vector', cause);
  }
}

/**
 * Reads an awareness update's entries without parsing their states, so a
 * reader can skip entries it ignores (echoes of other clients' states) at the
 * cost of a few var-uints each. Checks the framing and that every state is
 * UTF-8. Throws `ProtocolError`: `malformed`, or `policy-violation` past
 * `maxEntries` (checked before anything else is read).
 */
export function readAwarenessEntries(update: Uint8Array, options: { maxEntries?: number } = {}): RawAwarenessEntry[] {
  const decoder = decoding.createDecoder(update);
  try {
    const count = decoding.readVarUint(decoder);
    if (options.maxEntries !== undefined && count > options.maxEntries) {
      throw new ProtocolError(PROTOCOL_ERROR_REASONS.policyViolation, `awareness update of ${count} entries exceeds the limit of ${options.maxEntries}`);
    }
    const entries: RawAwarenessEntry[] = [];
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const stateBytes = readBytes(decoder);
      entries.push({ clientId, clock, stateJson: decodeUtf8(stateBytes), stateByteLength: stateBytes.byteLength });
    }
    if (decoding.hasContent(decoder)) throw new Error('trailing bytes');
    return entries;
  } catch (cause) {
    if (cause instanceof ProtocolError) throw cause;
    throw malformed('invalid awareness update', cause);
  }
}

/** Parses one state's JSON. Throws `ProtocolError` (malformed) for anything that is not JSON. */
export function parseAwarenessStateJson(stateJson: string): unknown {
  try {
    return JSON.parse(stateJson) as unknown;
  } catch (cause) {
    throw malformed('awareness state is not JSON', cause);
  }
}

/** Decodes an awareness update into its entries, validating every state's JSON. */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  return readAwarenessEntries(update).map(({ clientId, clock, stateJson }) => ({ clientId, clock, state: parseAwarenessStateJson(stateJson) }));
}

/** Encodes awareness entries in the y-protocols awareness format. */
export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, JSON.stringify(entry.state));
  }
  return encoding.toUint8Array(encoder);
}

/** True for a frame that can change the document (sync step 2 or update), read from its first two bytes. */
export function isChangeFrame(frame: Uint8Array): boolean {
  return frame[0] === MESSAGE_TAGS.sync && (frame[1] === SYNC_TAGS.step2 || frame[1] === SYNC_TAGS.update);
}

/** The denial code a permission-denied reason starts with, or null for a reason without a known one. */
export function denialCodeOf(reason: string): DenialCode | null {
  const code = reason.split(':', 1)[0];
  return (Object.values(DENIAL_CODES) as string[]).includes(code ?? '') ? (code as DenialCode) : null;
}

/** Compile-time exhaustiveness check for switches over unions. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

function readMessage(decoder: decoding.Decoder): Message {
  const tag = readUint(decoder);
  switch (tag) {
    case MESSAGE_TAGS.sync:
      return readSync(decoder);
    case MESSAGE_TAGS.awareness:
      return { type: 'awareness', update: readBytes(decoder) };
    case MESSAGE_TAGS.auth: {
      const authTag = readUint(decoder);
      if (authTag !== AUTH_TAGS.permissionDenied) {
        throw new ProtocolError(PROTOCOL_ERROR_REASONS.unknownMessage, `unknown auth message ${authTag}`);
      }
      return { type: 'permission-denied', reason: readCheckedString(decoder) };
    }
    case MESSAGE_TAGS.queryAwareness:
      return { type: 'query-awareness' };
    case MESSAGE_TAGS.saved:
      return readSavedPayload(decoder);
    case MESSAGE_TAGS.notSaved:
      return readNotSavedPayload(decoder);
    default:
      throw new ProtocolError(PROTOCOL_ERROR_REASONS.unknownMessage, `unknown message type ${tag}`);
  }
}

function readSync(decoder: decoding.Decoder): Message {
  const syncTag = readUint(decoder);
  const payload = readBytes(decoder);
  switch (syncTag) {
    case SYNC_TAGS.step1:
      return { type: 'sync-step-1', stateVector: payload };
    case SYNC_TAGS.step2:
      return { type: 'sync-step-2', update: payload };
    case SYNC_TAGS.update:
      return { type: 'update', update: payload };
    default:
      throw new ProtocolError(PROTOCOL_ERROR_REASONS.unknownMessage, `unknown sync message ${syncTag}`);
  }
}

function writeSync(encoder: encoding.Encoder, syncTag: number, payload: Uint8Array): void {
  encoding.writeVarUint(encoder, MESSAGE_TAGS.sync);
  encoding.writeVarUint(encoder, syncTag);
  encoding.writeVarUint8Array(encoder, payload);
}

function readUint(decoder: decoding.Decoder): number {
  try {
    return decoding.readVarUint(decoder);
  } catch (cause) {
    throw malformed('truncated var-uint', cause);
  }
}

// lib0's readVarUint8Array silently returns a short view past the end; check the length ourselves.
function readBytes(decoder: decoding.Decoder): Uint8Array {
  const length = readUint(decoder);
  if (decoder.pos + length > decoder.arr.length) {
    throw malformed(`payload length ${length} exceeds the frame`);
  }
  return decoding.readUint8Array(decoder, length);
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function readCheckedString(decoder: decoding.Decoder): string {
  return decodeUtf8(readBytes(decoder));
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch (cause) {
    throw malformed('string is not valid UTF-8', cause);
  }
}

function malformed(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(PROTOCOL_ERROR_REASONS.malformed, message, { cause });
}

// `[tags…][var-uint length][payload]`, as lib0's encoder writes it (tags below 128), in one allocation.
function encodeFrame(tags: readonly number[], payload: Uint8Array): Uint8Array {
  let lengthBytes = 1;
  for (let rest = payload.byteLength; rest > 0x7f; rest = Math.floor(rest / 0x80)) lengthBytes += 1;
  const frame = new Uint8Array(tags.length + lengthBytes + payload.byteLength);
  frame.set(tags);
  let offset = tags.length;
  let rest = payload.byteLength;
  while (rest > 0x7f) {
    frame[offset++] = 0x80 | (rest & 0x7f);
    rest = Math.floor(rest / 0x80);
  }
  frame[offset++] = rest;
  frame.set(payload, offset);
  return frame;
}
