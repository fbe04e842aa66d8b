/**
 * Whether a ws socket is part-way through receiving a message: a fragmented
 * message without its final fragment, or a frame whose bytes have not all
 * arrived. ws keeps such a message in memory (up to `maxPayload`) for as long
 * as the sender likes and offers no timeout, so the relay checks its receiver
 * on each sweep. This reads ws 8's receiver fields, which are not public API;
 * `tests/security/unfinished-message.test.ts` fails if they change.
 */
import type { WebSocket } from 'ws';

/** The receiver state ws is in between frames (`GET_INFO` in ws/lib/receiver.js). */
const BETWEEN_FRAMES = 0;

interface WsReceiverInternals {
  /** Opcode of the fragmented message being received, 0 when none. */
  readonly _fragmented: number;
  /** Bytes received and not yet consumed by the frame parser. */
  readonly _bufferedBytes: number;
  readonly _state: number;
}

/** True while `socket` holds an incoming message that has not fully arrived. */
export function isReceivingMessage(socket: WebSocket): boolean {
  const receiver = (socket as unknown as { _receiver: WsReceiverInternals | null })._receiver;
  if (!receiver) return false;
  return receiver._fragmented !== 0 || receiver._bufferedBytes > 0 || receiver._state !== BETWEEN_FRAMES;
}
