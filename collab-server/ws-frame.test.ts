/** Frames are checked against ws's own frame parser, the one every ws client runs. */
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { FrameCache, binaryFrame } from './ws-frame';

// ws exports its parser but does not type it.
const { Receiver } = createRequire(import.meta.url)('ws') as {
  Receiver: new (options: { isServer: boolean; maxPayload: number }) => Writable;
};

/** Parses `bytes` as a client would and returns the messages, with whether each was binary. */
function parseAsClient(bytes: Uint8Array): { data: Buffer; isBinary: boolean }[] {
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  const messages: { data: Buffer; isBinary: boolean }[] = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => messages.push({ data, isBinary }));
  receiver.on('error', (error: Error) => {
    throw error;
  });
  receiver.write(bytes);
  return messages;
}

describe('binaryFrame', () => {
  it('uses the shortest length encoding at each boundary, and ws parses it back', () => {
    for (const [length, headerLength] of [[0, 2], [125, 2], [126, 4], [65_535, 4], [65_536, 10], [200_000, 10]] as const) {
      const payload = Uint8Array.from({ length }, (_, i) => (i * 31) & 0xff);
      const frame = binaryFrame(payload);
      expect(frame.byteLength).toBe(headerLength + length);
      expect(frame[0]).toBe(0x82);
      expect(parseAsClient(frame)).toEqual([{ data: Buffer.from(payload), isBinary: true }]);
    }
  });

  it('frames any payload so that ws reads exactly that payload, frame after frame', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 70_000 }), { minLength: 1, maxLength: 4 }), (payloads) => {
        const stream = Buffer.concat(payloads.map((payload) => binaryFrame(payload)));
        const messages = parseAsClient(stream);
        expect(messages.map((message) => new Uint8Array(message.data))).toEqual(payloads);
        expect(messages.every((message) => message.isBinary)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe('FrameCache', () => {
  it('frames a payload once for consecutive sends of the same object, and anew for another object', () => {
    const frames = new FrameCache();
    const payload = Uint8Array.of(1, 2, 3);
    const first = frames.frameOf(payload);
    expect(frames.frameOf(payload)).toBe(first);
    const equalButOther = Uint8Array.of(1, 2, 3);
    const second = frames.frameOf(equalButOther);
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
  });

  it('keeps the frame of a large payload while other payloads are framed in between', () => {
    const frames = new FrameCache();
    const large = new Uint8Array(64 * 1024);
    const first = frames.frameOf(large);
    frames.frameOf(Uint8Array.of(9));
    expect(frames.frameOf(large)).toBe(first);
    const small = Uint8Array.of(1);
    const smallFrame = frames.frameOf(small);
    frames.frameOf(Uint8Array.of(9));
    expect(frames.frameOf(small)).not.toBe(smallFrame);
  });
});
