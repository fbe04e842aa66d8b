/**
 * The load generator, run in its own process by bench/run.ts. Clients send real
 * Yjs updates (and awareness) whose text carries a marker `~sender.seq.sentAtUs~`;
 * receivers find markers in the raw bytes, without applying anything, and so
 * measure send→receive latency and count every delivery.
 *
 * argv[2] is the path of a JSON `LoadSpec`. Prints `START` and `END` around the measured
 * window, then one JSON line with the results.
 */
import { readFileSync } from 'node:fs';
import * as decoding from 'lib0/decoding';
import { WebSocket } from 'ws';
import * as Y from 'yjs';

import { summarize, type LatencyStats } from './latency-stats';
import { MESSAGE_TAGS, SYNC_TAGS, encode, encodeAwarenessUpdate } from '../lib/protocol';
import { frame, hocuspocusAuthMessage, messageOffset, type WireProtocol } from './wire';

/** What to generate. */
export interface LoadSpec {
  readonly protocol: WireProtocol;
  /** Per room, the URL of each of its `clientsPerRoom` clients (servers of several processes spread them). */
  readonly roomUrls: readonly (readonly string[])[];
  readonly roomNames: readonly string[];
  readonly clientsPerRoom: number;
  readonly updatesPerSecond: number;
  readonly awarenessPerSecond: number;
  readonly durationSeconds: number;
  /** Idle mode: connect, sync, hold for `durationSeconds`, send nothing. */
  readonly isIdle?: boolean;
}

/** What the generator reports. */
export interface LoadResult {
  readonly connected: number;
  readonly text: { sent: number; expected: number; received: number; lost: number; latency: LatencyStats };
  readonly awareness: { sent: number; expected: number; received: number; lost: number; latency: LatencyStats };
}

const TEXT_MARK = /~(\d+)\.(\d+)\.(\d+)~/g;
const AWARENESS_MARK = /\^(\d+)\.(\d+)\.(\d+)\^/g;
const nowUs = (): number => Math.round(performance.now() * 1000);


class Client {
  readonly doc = new Y.Doc();
  readonly socket: WebSocket;
  isSynced = false;
  private seq = 0;
  private awarenessClock = 0;
  private readonly seen = new Set<string>();

  constructor(
    readonly index: number,
    readonly room: string,
    url: string,
    private readonly protocol: WireProtocol,
    private readonly onMarker: (kind: 'text' | 'awareness', sentAtUs: number) => void,
  ) {
    this.socket = new WebSocket(url, { perMessageDeflate: false });
    this.socket.binaryType = 'nodebuffer';
    this.socket.on('open', () => this.onOpen());
    this.socket.on('message', (data: Buffer) => this.onMessage(data));
    this.socket.on('error', () => undefined);
    this.doc.on('update', (update: Uint8Array) => this.send(encode({ type: 'update', update })));
  }

  sendText(): void {
    this.seq += 1;
    const text = this.doc.getText('t');
    text.insert(text.length, `~${this.index}.${this.seq}.${nowUs()}~`);
  }

  sendAwareness(): void {
    this.awarenessClock += 1;
    // What the app publishes (a name, a colour, a caret as Yjs relative positions), with the
    // timing mark in the name: Inkwell's relay forwards only states of that shape.
    const caret = { type: null, tname: 'content', item: null, assoc: 0 };
    const state = {
      role: 'editor',
      user: { name: `c${this.index} ^${this.index}.${this.awarenessClock}.${nowUs()}^`, color: '#1971c2' },
      cursor: { anchor: caret, head: caret },
    };
    const update = encodeAwarenessUpdate([{ clientId: this.doc.clientID, clock: this.awarenessClock, state }]);
    this.send(encode({ type: 'awareness', update }));
  }

  private onOpen(): void {
    if (this.protocol === 'hocuspocus') this.send(hocuspocusAuthMessage());
    if (this.protocol === 'raw') this.isSynced = true;
    this.send(encode({ type: 'sync-step-1', stateVector: Y.encodeStateVector(this.doc) }));
  }

  private send(message: Uint8Array): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(frame(this.protocol, this.room, message));
  }

  private onMessage(data: Buffer): void {
    const offset = messageOffset(this.protocol, data);
    const type = data[offset];
    if (type === MESSAGE_TAGS.sync && data[offset + 1] === SYNC_TAGS.step2) this.isSynced = true;
    if (type === MESSAGE_TAGS.sync && data[offset + 1] === SYNC_TAGS.step1 && this.protocol === 'y-websocket') {
      // Answer the server's step 1 the way stock clients do (with our state).
      const decoder = decoding.createDecoder(data.subarray(offset + 2));
      this.send(encode({ type: 'sync-step-2', update: Y.encodeStateAsUpdate(this.doc, decoding.readVarUint8Array(decoder)) }));
    }
    const text = data.toString('latin1');
    for (const [pattern, kind] of [[TEXT_MARK, 'text'], [AWARENESS_MARK, 'awareness']] as const) {
      pattern.lastIndex = 0;
      for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
        if (Number(match[1]) === this.index) continue;
        const key = `${kind}${match[1]}.${match[2]}`;
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        this.onMarker(kind, Number(match[3]));
      }
    }
  }
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const latencies = { text: [] as number[], awareness: [] as number[] };
  let isMeasuring = false;
  const clients: Client[] = [];
  spec.roomUrls.forEach((urls, roomIndex) => {
    for (const url of urls) {
      clients.push(
        new Client(clients.length, spec.roomNames[roomIndex]!, url, spec.protocol, (kind, sentAtUs) => {
          if (isMeasuring) latencies[kind].push((nowUs() - sentAtUs) / 1000);
        }),
      );
    }
  });
  const deadline = Date.now() + 120_000;
  while (clients.some((client) => !client.isSynced) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const connected = clients.filter((client) => client.isSynced).length;
  await new Promise((resolve) => setTimeout(resolve, 500));

  console.log('START');
  isMeasuring = true;
  const sent = { text: 0, awareness: 0 };
  if (!spec.isIdle) {
    // One ticker drives every client, each at its own phase, so sends are spread evenly.
    const textEveryMs = spec.updatesPerSecond > 0 ? 1000 / spec.updatesPerSecond : Infinity;
    const awarenessEveryMs = spec.awarenessPerSecond > 0 ? 1000 / spec.awarenessPerSecond : Infinity;
    const started = performance.now();
    const nextText = clients.map(() => started + Math.random() * textEveryMs);
    const nextAwareness = clients.map(() => started + Math.random() * awarenessEveryMs);
    while (performance.now() - started < spec.durationSeconds * 1000) {
      const now = performance.now();
      clients.forEach((client, i) => {
        if (now >= nextText[i]!) {
          client.sendText();
          sent.text += 1;
          nextText[i]! += textEveryMs;
        }
        if (now >= nextAwareness[i]!) {
          client.sendAwareness();
          sent.awareness += 1;
          nextAwareness[i]! += awarenessEveryMs;
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } else {
    await new Promise((resolve) => setTimeout(resolve, spec.durationSeconds * 1000));
  }
  console.log('END');
  // Let the last deliveries arrive before counting losses.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  for (const client of clients) client.socket.terminate();
  const fanOut = spec.clientsPerRoom - 1;
  const tally = (kind: 'text' | 'awareness') => ({
    sent: sent[kind],
    expected: sent[kind] * fanOut,
    received: latencies[kind].length,
    lost: sent[kind] * fanOut - latencies[kind].length,
    latency: summarize(latencies[kind]),
  });
  return { connected, text: tally('text'), awareness: tally('awareness') };
}

if (process.argv[2]) {
  run(JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadSpec).then(
    (result) => {
      console.log(JSON.stringify(result));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
