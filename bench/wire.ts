/**
 * How the benchmark's clients put messages on the wire for each server. The
 * messages themselves are the y-protocols ones (`lib/protocol`'s codec); y-websocket
 * servers take them bare, Hocuspocus prefixes every message with the document name
 * and wants an auth message first, raw forwards bytes.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

import { MESSAGE_TAGS } from '../lib/protocol';

/** How a client talks to a server. */
export type WireProtocol = 'y-websocket' | 'hocuspocus' | 'raw';

/** Hocuspocus's auth message with a token it ignores when no auth hook is set. */
export function hocuspocusAuthMessage(): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_TAGS.auth);
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarString(encoder, 'bench');
  return encoding.toUint8Array(encoder);
}

/** Wraps a message for `protocol` (Hocuspocus: document name first). */
export function frame(protocol: WireProtocol, room: string, message: Uint8Array): Uint8Array {
  if (protocol !== 'hocuspocus') return message;
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, room);
  encoding.writeUint8Array(encoder, message);
  return encoding.toUint8Array(encoder);
}

/** Offset of the y-protocols message inside a received frame. */
export function messageOffset(protocol: WireProtocol, data: Uint8Array): number {
  if (protocol !== 'hocuspocus') return 0;
  const decoder = decoding.createDecoder(data);
  decoding.readVarString(decoder);
  return decoder.pos;
}
