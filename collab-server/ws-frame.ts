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

/** Payloads from this size up are framed once for as long as they live (large sync replies). */
const LARGE_PAYLOAD_BYTES = 64 * 1024;

/**
 * Frames payloads, reusing frames. A room hands the same payload object to each
 * of its peers in turn, so a fan-out is framed once; a large payload (a whole
 * document answering sync step 1, cached by its room) keeps its frame for as
 * long as it lives, so every socket reading it queues the same bytes instead of
 * a copy each. Payloads are never changed after they are sent, which makes
 * identity safe. One per relay.
 */
export class FrameCache {
  private lastPayload: Uint8Array | null = null;
  private lastFrame: Buffer | null = null;
  private readonly largeFrames = new WeakMap<Uint8Array, Buffer>();

  /** The frame of `payload`, framed now or earlier. */
  frameOf(payload: Uint8Array): Buffer {
    if (payload === this.lastPayload && this.lastFrame !== null) return this.lastFrame;
    const isLarge = payload.byteLength >= LARGE_PAYLOAD_BYTES;
    let frame = isLarge ? this.largeFrames.get(payload) : undefined;
    if (!frame) {
      frame = binaryFrame(payload);
      if (isLarge) this.largeFrames.set(payload, frame);
    }
    this.lastPayload = payload;
    this.lastFrame = frame;
    return frame;
  }
}
