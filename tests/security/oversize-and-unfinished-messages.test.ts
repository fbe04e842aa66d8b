/**
 * Attacks on the relay's receive buffers: a frame that declares more than the
 * message limit, a fragmented message whose last fragment never comes, a frame
 * whose bytes trickle in forever. Rules (SPEC P11, P12): nothing is buffered
 * past COLLAB_MAX_MESSAGE_BYTES (1009 from the frame header alone); a message
 * unfinished after COLLAB_MESSAGE_TIMEOUT_MS is closed with 1008. The room's
 * other peers go on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebSocket as NodeWebSocket } from 'ws';

import { CLOSE_CODES, encode } from '../../lib/protocol';
import { appendedText } from '../helpers/documents';
import { clientFrame, truncatedBinaryFrame, writeRaw } from '../helpers/raw-frames';
import { Teardown, connectClient, connectPeerPair, makeTempDir, openRawSocket, socketUrl, startRelay, waitForSync, waitUntil } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

const MAX_MESSAGE_BYTES = 64 * 1024;

async function startRoom(docId: string, options: { heartbeatIntervalMs?: number; messageTimeoutMs?: number } = {}) {
  const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), maxMessageBytes: MAX_MESSAGE_BYTES, ...options });
  return { relay, ...(await connectPeerPair(teardown, relay, docId)) };
}

describe('[P11] message size', () => {
  it('closes with 1009 as soon as a frame header declares more than the limit', async () => {
    const { relay, expectLive } = await startRoom('declared');
    const raw = await openRawSocket(teardown, socketUrl(relay, 'declared'));
    // Only the header and a few bytes: the refusal must not wait for the rest.
    writeRaw(raw.socket, truncatedBinaryFrame(MAX_MESSAGE_BYTES + 1, 16));
    expect((await raw.closed).code).toBe(CLOSE_CODES.messageTooBig);
    await expectLive('still here');
  });

  it('accepts a message of exactly the limit, and refuses fragments that add up past it', async () => {
    const { relay, bob } = await startRoom('exact');
    const writer = await openRawSocket(teardown, socketUrl(relay, 'exact'));
    const { doc } = appendedText(['x'.repeat(MAX_MESSAGE_BYTES - 100)]);
    const update = Y.encodeStateAsUpdate(doc);
    const frame = encode({ type: 'update', update });
    const padded = encode({ type: 'update', update: Uint8Array.of(...update, ...new Uint8Array(MAX_MESSAGE_BYTES - frame.byteLength)) });
    expect(padded.byteLength).toBe(MAX_MESSAGE_BYTES);
    writer.send(padded);
    await waitUntil(() => bob.text.length === MAX_MESSAGE_BYTES - 100, { what: 'the largest allowed message' });

    const fragmenter = await openRawSocket(teardown, socketUrl(relay, 'exact'));
    const half = new Uint8Array(MAX_MESSAGE_BYTES / 2 + 1);
    writeRaw(fragmenter.socket, clientFrame({ fin: false, opcode: 'binary', payload: half }));
    writeRaw(fragmenter.socket, clientFrame({ fin: true, opcode: 'continuation', payload: half }));
    expect((await fragmenter.closed).code).toBe(CLOSE_CODES.messageTooBig);
  });
});

describe('[P12] unfinished messages', () => {
  it('closes a fragmented message whose last fragment never comes with 1008', async () => {
    const { relay, expectLive } = await startRoom('fragments', { heartbeatIntervalMs: 50, messageTimeoutMs: 200 });
    const raw = await openRawSocket(teardown, socketUrl(relay, 'fragments'));
    writeRaw(raw.socket, clientFrame({ fin: false, opcode: 'binary', payload: new Uint8Array(1_000) }));
    // More fragments keep coming, but the message never ends: the timeout runs from its first byte.
    const dribble = setInterval(() => writeRaw(raw.socket, clientFrame({ fin: false, opcode: 'continuation', payload: new Uint8Array(10) })), 20);
    teardown.add(() => clearInterval(dribble));
    const closed = await raw.closed;
    expect(closed.code).toBe(CLOSE_CODES.policyViolation);
    expect(closed.reason).toMatch(/took longer than 200 ms/);
    await expectLive('unaffected');
  });

  it('closes a frame whose bytes never all arrive with 1008', async () => {
    // The client cannot answer pings from inside its own frame: the timeout must come before two missed pings.
    const { relay } = await startRoom('trickle', { heartbeatIntervalMs: 200, messageTimeoutMs: 100 });
    const raw = await openRawSocket(teardown, socketUrl(relay, 'trickle'));
    writeRaw(raw.socket, truncatedBinaryFrame(MAX_MESSAGE_BYTES, 100));
    expect((await raw.closed).code).toBe(CLOSE_CODES.policyViolation);
  });

  it('leaves alone a connection that sends whole messages, however many and however slowly', async () => {
    const { relay, bob } = await startRoom('steady', { heartbeatIntervalMs: 50, messageTimeoutMs: 200 });
    const writer = connectClient(teardown, relay, 'steady');
    await waitForSync(writer);
    for (let i = 0; i < 10; i++) {
      writer.text.insert(writer.text.length, `${i}`);
      await waitUntil(() => bob.text.length === i + 1);
      // Slowly: one message per heartbeat sweep, so ten span five message timeouts.
      await new Promise((resolve) => (writer.provider.ws as unknown as NodeWebSocket).once('ping', resolve));
    }
    expect(writer.provider.wsconnected).toBe(true);
  });
});
