/**
 * Hand-made client frames (RFC 6455 §5.2), for attacks a well-behaved client
 * library never sends: messages cut into fragments that never finish, frame
 * headers that promise more than they deliver. Written straight to the TCP
 * socket under a ws client.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

const OPCODES = { continuation: 0x0, binary: 0x2 } as const;

/** A masked client frame header for `payloadLength` bytes, and the mask it uses. */
function frameHeader(options: { fin: boolean; opcode: number; payloadLength: number }): { header: Buffer; mask: Buffer } {
  const { fin, opcode, payloadLength } = options;
  const lengthBytes = payloadLength <= 125 ? 0 : payloadLength <= 0xffff ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + 4);
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (lengthBytes === 0) header[1] = 0x80 | payloadLength;
  else if (lengthBytes === 2) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payloadLength, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(payloadLength), 2);
  }
  const mask = randomBytes(4);
  mask.copy(header, 2 + lengthBytes);
  return { header, mask };
}

/** A whole masked frame carrying `payload`. */
export function clientFrame(options: { fin: boolean; opcode: keyof typeof OPCODES; payload: Uint8Array }): Buffer {
  const { header, mask } = frameHeader({ fin: options.fin, opcode: OPCODES[options.opcode], payloadLength: options.payload.byteLength });
  const masked = Buffer.from(options.payload).map((byte, i) => byte ^ mask[i % 4]!);
  return Buffer.concat([header, masked]);
}

/** The start of a binary frame that declares `payloadLength` bytes and carries only `sent` of them. */
export function truncatedBinaryFrame(payloadLength: number, sent: number): Buffer {
  const { header, mask } = frameHeader({ fin: true, opcode: OPCODES.binary, payloadLength });
  return Buffer.concat([header, Buffer.alloc(sent).map((_, i) => mask[i % 4]!)]);
}

/** Writes bytes to the TCP socket under a ws client, bypassing its framing. */
export function writeRaw(socket: WebSocket, bytes: Uint8Array): void {
  (socket as unknown as { _socket: Socket })._socket.write(bytes);
}

/** Stops or restarts reading on the TCP socket under a ws client. */
export function setReading(socket: WebSocket, isReading: boolean): void {
  const tcp = (socket as unknown as { _socket: Socket })._socket;
  if (isReading) tcp.resume();
  else tcp.pause();
}
