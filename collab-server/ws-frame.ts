/**
 * Whole WebSocket frames (RFC 6455 §5.2), built once per message and written
 * straight to each peer's socket. ws builds a header per socket and per send
 * and writes header and payload as two corked writes, so a fan-out of one
 * update to N peers cost N headers and N vectored writes. A server's frames are
 * never masked, so one frame serves every peer. (ws's own framing function is
 * neither documented nor typed; a binary frame header is 2 to 10 bytes.)
 */

/** FIN set, opcode 2: one whole binary message. */
const FINAL_BINARY_FRAME = 0x82;
const MAX_7_BIT_LENGTH = 125;
const MAX_16_BIT_LENGTH = 0xffff;

/** The unmasked frame that carries `payload` as one binary message. */
export function binaryFrame(payload: Uint8Array): Buffer {
  const length = payload.byteLength;
  const headerLength = length <= MAX_7_BIT_LENGTH ? 2 : length <= MAX_16_BIT_LENGTH ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FINAL_BINARY_FRAME;
  if (length <= MAX_7_BIT_LENGTH) {
    frame[1] = length;
  } else if (length <= MAX_16_BIT_LENGTH) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.set(payload, headerLength);
  return frame;
}

let lastPayload: Uint8Array | null = null;
let lastFrame: Buffer | null = null;

/**
 * `binaryFrame`, remembering the last payload framed: a room hands the same
 * payload object to each of its peers in turn, so a fan-out frames it once.
 * Payloads are never changed after they are sent, which makes identity safe.
 */
export function sharedBinaryFrame(payload: Uint8Array): Buffer {
  if (payload !== lastPayload || lastFrame === null) {
    lastFrame = binaryFrame(payload);
    lastPayload = payload;
  }
  return lastFrame;
}
