/**
 * The fuzzer's oracle: reads a binary message the way SPEC.md says the relay
 * must, independently of the relay's codec, and says whether the relay is bound
 * to refuse it (close the socket, apply nothing) or may act on it.
 *
 * It errs one way only: `must-refuse` is said only when a rule leaves the relay
 * no choice; anything the relay could legitimately take (a frame that decodes, a
 * Yjs update that decodes, an awareness state that is JSON) is `may-apply`.
 * Refused messages are sent into a room with live honest peers; the others go to
 * a sandbox room, since some of them really change its document.
 *
 * Rules read: the message table and P5 (tags, sub-tags, exact framing, a Yjs v1
 * update), P10 (`auth` and `saved` from a client are unknown types), P6a (too many
 * awareness entries), P6b (states are JSON), and the close-code table.
 */
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';

import { MAX_AWARENESS_STATE_BYTES } from '../lib/awareness-state';

/** What the relay must do with a message. */
export type Verdict = 'must-refuse' | 'may-apply';

/**
 * Entries an awareness message may carry in the refused-frames room, where no
 * one holds presence: P6a allows the room's known ids, its released ids, the
 * per-connection allowance (4 by default) and 16. 64 is past that bound with room
 * to spare, so a longer message must be refused.
 */
const AWARENESS_ENTRIES_BEYOND_BOUND = 64;

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Judges one binary WebSocket message. */
export function judgeMessage(message: Uint8Array): Verdict {
  try {
    return judge(decoding.createDecoder(message));
  } catch {
    // Any read past the end, out-of-range var-uint or bad length: malformed (1002).
    return 'must-refuse';
  }
}

function judge(decoder: decoding.Decoder): Verdict {
  const tag = decoding.readVarUint(decoder);
  switch (tag) {
    case 0: {
      const syncTag = decoding.readVarUint(decoder);
      const payload = readExactBytes(decoder);
      if (decoding.hasContent(decoder)) return 'must-refuse';
      if (syncTag === 0) return isStateVector(payload) ? 'may-apply' : 'must-refuse';
      if (syncTag === 1 || syncTag === 2) return isYjsUpdate(payload) ? 'may-apply' : 'must-refuse';
      return 'must-refuse';
    }
    case 1: {
      const update = readExactBytes(decoder);
      if (decoding.hasContent(decoder)) return 'must-refuse';
      return judgeAwareness(update);
    }
    case 3:
      return decoding.hasContent(decoder) ? 'must-refuse' : 'may-apply';
    default:
      // 2 (auth) and 100 (saved) are the relay's to send (P10); anything else is unknown.
      return 'must-refuse';
  }
}

/**
 * An awareness update is refused when its framing or UTF-8 is broken, when it is
 * too long for the room (above), or when its first entry is a state the relay has
 * to read and cannot: in a room where nobody holds presence, the first entry of a
 * socket that owns nothing is always read unless it is a removal or over the size
 * cap (then it is a strike, not a close).
 */
function judgeAwareness(update: Uint8Array): Verdict {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  if (count > AWARENESS_ENTRIES_BEYOND_BOUND) return 'must-refuse';
  const states: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    decoding.readVarUint(decoder);
    decoding.readVarUint(decoder);
    const state = readExactBytes(decoder);
    STRICT_UTF8.decode(state);
    states.push(state);
  }
  if (decoding.hasContent(decoder)) return 'must-refuse';
  const first = states[0];
  if (!first || first.byteLength > MAX_AWARENESS_STATE_BYTES) return 'may-apply';
  const json = STRICT_UTF8.decode(first);
  if (json === 'null') return 'may-apply';
  try {
    JSON.parse(json);
    return 'may-apply';
  } catch {
    return 'must-refuse';
  }
}

// A length-prefixed byte string that must fit in what is left (lib0 alone would return a short view).
function readExactBytes(decoder: decoding.Decoder): Uint8Array {
  const length = decoding.readVarUint(decoder);
  if (decoder.pos + length > decoder.arr.length) throw new RangeError(`length ${length} past the end`);
  return decoding.readUint8Array(decoder, length);
}

function isStateVector(bytes: Uint8Array): boolean {
  try {
    const decoder = decoding.createDecoder(bytes);
    const count = decoding.readVarUint(decoder);
    for (let i = 0; i < count; i++) {
      decoding.readVarUint(decoder);
      decoding.readVarUint(decoder);
    }
    return !decoding.hasContent(decoder);
  } catch {
    return false;
  }
}

// Decoded from a copy that ends where the payload ends: nothing after it in the frame can be read as part of it.
function isYjsUpdate(bytes: Uint8Array): boolean {
  try {
    Y.decodeUpdate(bytes.slice());
    return true;
  } catch {
    return false;
  }
}
