/**
 * A bare WebSocket client over TCP for the fuzzer: one socket per frame. It
 * upgrades, writes the bytes it is given as they are (so it can send framing no
 * WebSocket library would), reads the relay's frames itself, and settles on the
 * first telling event: the relay's close frame (with its code), or the answer to
 * a probe sent after the fuzz frame, which means the relay read past it.
 *
 * It does not wait for the closing handshake: once the close frame is read the
 * socket is reset, so a refused frame costs two round trips rather than the
 * relay's one-second grace, and no TIME_WAIT is left behind per frame.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

/** WebSocket opcodes (RFC 6455 §5.2). */
export const OPCODES = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9 } as const;

/** What became of one fuzz socket. */
export type SocketOutcome =
  /** The relay sent a close frame with `code` (1005 when it carried none). */
  | { readonly kind: 'closed'; readonly code: number }
  /** The relay answered the probe: it read the fuzz frame and went on. */
  | { readonly kind: 'answered' }
  /** The TCP connection ended without a close frame. */
  | { readonly kind: 'dropped' }
  /** The upgrade was refused with an HTTP status. */
  | { readonly kind: 'upgrade-refused'; readonly status: number }
  | { readonly kind: 'timed-out' }
  | { readonly kind: 'socket-error'; readonly message: string };

/** A masked client frame; `rsv` sets RSV1-3 (bits 0x40, 0x20, 0x10), `isMasked: false` breaks the client masking rule. */
export function clientFrame(options: { opcode: number; payload: Uint8Array; fin?: boolean; rsv?: number; isMasked?: boolean }): Buffer {
  const { opcode, payload, fin = true, rsv = 0, isMasked = true } = options;
  const lengthBytes = payload.byteLength <= 125 ? 0 : payload.byteLength <= 0xffff ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes);
  header[0] = (fin ? 0x80 : 0) | (rsv & 0x70) | (opcode & 0x0f);
  const maskBit = isMasked ? 0x80 : 0;
  if (lengthBytes === 0) header[1] = maskBit | payload.byteLength;
  else if (lengthBytes === 2) {
    header[1] = maskBit | 126;
    header.writeUInt16BE(payload.byteLength, 2);
  } else {
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(payload.byteLength), 2);
  }
  if (!isMasked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload).map((byte, i) => byte ^ mask[i % 4]!);
  return Buffer.concat([header, mask, masked]);
}

/** A masked binary frame header declaring `payloadLength` bytes, with none of them: refused from the header alone when too large. */
export function oversizeFrameHeader(payloadLength: bigint): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x80 | OPCODES.binary;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(payloadLength, 2);
  randomBytes(4).copy(header, 10);
  return header;
}

/** Sync step 1 with an empty state vector: the relay answers it with a step 2 if it is still reading. */
const PROBE = clientFrame({ opcode: OPCODES.binary, payload: Uint8Array.of(0, 0, 1, 0) });

/**
 * Opens a socket to `path` on 127.0.0.1:`port`, writes `bytes` after the upgrade
 * (followed by the probe when `withProbe`), and resolves with what happened.
 */
export function sendOnFreshSocket(options: { port: number; path: string; bytes: Uint8Array; withProbe: boolean; timeoutMs: number }): Promise<SocketOutcome> {
  const { port, path, bytes, withProbe, timeoutMs } = options;
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffered: Buffer = Buffer.alloc(0);
    let isUpgraded = false;
    let isSettled = false;
    const settle = (outcome: SocketOutcome): void => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      socket.resetAndDestroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle({ kind: 'timed-out' }), timeoutMs);
    socket.setNoDelay(true);
    socket.on('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (!isUpgraded) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buffered.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        if (status !== 101) return settle({ kind: 'upgrade-refused', status });
        isUpgraded = true;
        buffered = buffered.subarray(end + 4);
        socket.write(withProbe ? Buffer.concat([bytes, PROBE]) : bytes);
      }
      buffered = readServerFrames(buffered, settle);
    });
    socket.on('error', (error) => settle({ kind: 'socket-error', message: error.message }));
    socket.on('close', () => settle({ kind: 'dropped' }));
  });
}

/** Reads whole unmasked server frames off `buffer`, settling on a close or a probe answer; returns what is left. */
function readServerFrames(buffer: Buffer, settle: (outcome: SocketOutcome) => void): Buffer {
  let rest = buffer;
  while (rest.length >= 2) {
    const opcode = rest[0]! & 0x0f;
    const shortLength = rest[1]! & 0x7f;
    const headerLength = shortLength === 126 ? 4 : shortLength === 127 ? 10 : 2;
    if (rest.length < headerLength) break;
    const length = shortLength === 126 ? rest.readUInt16BE(2) : shortLength === 127 ? Number(rest.readBigUInt64BE(2)) : shortLength;
    if (rest.length < headerLength + length) break;
    const payload = rest.subarray(headerLength, headerLength + length);
    rest = rest.subarray(headerLength + length);
    if (opcode === OPCODES.close) {
      settle({ kind: 'closed', code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005 });
      return rest;
    }
    // [0 sync][1 step 2]: only ever sent in answer to a step 1, and the probe is the only one this client sends.
    if (opcode === OPCODES.binary && payload[0] === 0 && payload[1] === 1) {
      settle({ kind: 'answered' });
      return rest;
    }
  }
  return rest;
}
