/**
 * The soak's load: S1-like traffic (rooms × clients, each typing text updates at
 * a steady rate) with churn. Clients leave when their random lifetime ends and a
 * new one joins the room in their place; rooms rotate, one active room going
 * quiet and one idle slot coming back each `rotateEveryMs`, so rooms unload and
 * load all the time. A slot's document is reused for `activationsPerDoc`
 * activations (loaded back from disk) and then retired, so no document grows
 * without bound and the relay's steady state does not drift with document size.
 *
 * Clients are light: each sends its own Yjs updates and answers the relay's sync
 * step 1, and applies nothing it receives (like bench/loadgen.ts).
 */
import * as decoding from 'lib0/decoding';
import { WebSocket } from 'ws';
import * as Y from 'yjs';

import { MESSAGE_TAGS, SYNC_TAGS, encode } from '../lib/protocol';
import type { SeededRandom } from './random';

/** The shape of the load. */
export interface ChurnSpec {
  /** Room slots in all; `activeRooms` of them have clients at any time. */
  readonly roomSlots: number;
  readonly activeRooms: number;
  readonly clientsPerRoom: number;
  readonly updatesPerSecond: number;
  readonly clientLifeMs: { readonly min: number; readonly max: number };
  readonly rotateEveryMs: number;
  readonly activationsPerDoc: number;
}

/** What the load did. */
export interface ChurnCounts {
  joins: number;
  leaves: number;
  activations: number;
  updatesSent: number;
  framesReceived: number;
}

class LoadClient {
  private readonly doc = new Y.Doc();
  private readonly socket: WebSocket;
  private seq = 0;
  readonly closed: Promise<void>;

  constructor(url: string, counts: ChurnCounts) {
    this.socket = new WebSocket(url, { perMessageDeflate: false });
    this.socket.binaryType = 'nodebuffer';
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('error', () => undefined);
    this.socket.on('open', () => this.send(encode({ type: 'sync-step-1', stateVector: Y.encodeStateVector(this.doc) })));
    this.socket.on('message', (data: Buffer) => {
      counts.framesReceived += 1;
      // Answer the relay's step 1 as stock clients do.
      if (data[0] === MESSAGE_TAGS.sync && data[1] === SYNC_TAGS.step1) {
        const stateVector = decoding.readVarUint8Array(decoding.createDecoder(data.subarray(2)));
        this.send(encode({ type: 'sync-step-2', update: Y.encodeStateAsUpdate(this.doc, stateVector) }));
      }
    });
    this.doc.on('update', (update: Uint8Array) => {
      counts.updatesSent += 1;
      this.send(encode({ type: 'update', update }));
    });
  }

  type(): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.seq += 1;
    const text = this.doc.getText('t');
    text.insert(text.length, `${this.seq};`);
  }

  close(): void {
    this.socket.close();
    this.doc.destroy();
  }

  private send(frame: Uint8Array): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(frame);
  }
}

interface ActiveRoom {
  readonly slot: number;
  readonly clients: Set<LoadClient>;
}

/** Runs the churning load until `stop`. */
export class ChurnLoad {
  readonly counts: ChurnCounts = { joins: 0, leaves: 0, activations: 0, updatesSent: 0, framesReceived: 0 };
  private readonly active: ActiveRoom[] = [];
  /** Idle slots, longest idle first. */
  private readonly idle: number[] = [];
  private readonly activationsOfSlot: number[];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly lifeTimers = new Set<NodeJS.Timeout>();
  /** Sockets closing and not yet closed. */
  private readonly closing = new Set<Promise<void>>();
  private isStopped = false;

  constructor(
    private readonly spec: ChurnSpec,
    private readonly urlOf: (docId: string) => string,
    private readonly random: SeededRandom,
  ) {
    this.activationsOfSlot = new Array<number>(spec.roomSlots).fill(0);
    for (let slot = 0; slot < spec.roomSlots; slot++) this.idle.push(slot);
  }

  /** Documents used so far. */
  get docsUsed(): number {
    return this.activationsOfSlot.reduce((sum, activations) => sum + Math.ceil(activations / this.spec.activationsPerDoc), 0);
  }

  start(): void {
    for (let i = 0; i < this.spec.activeRooms; i++) this.activate();
    const typeEveryMs = 1000 / this.spec.updatesPerSecond;
    // One ticker types for every client; each client types on average `updatesPerSecond` times a second.
    const tickMs = 10;
    this.timers.push(
      setInterval(() => {
        for (const room of this.active) for (const client of room.clients) if (this.random.next() < tickMs / typeEveryMs) client.type();
      }, tickMs),
      setInterval(() => this.rotate(), this.spec.rotateEveryMs),
    );
  }

  /** Stops typing and churning, closes every client and resolves once all their sockets closed. */
  async stop(): Promise<void> {
    this.isStopped = true;
    for (const timer of [...this.timers, ...this.lifeTimers]) clearTimeout(timer);
    for (const room of this.active.splice(0)) for (const client of room.clients) this.leave(client, room);
    await Promise.all([...this.closing]);
  }

  private rotate(): void {
    const oldest = this.active.shift();
    if (oldest) {
      for (const client of oldest.clients) this.leave(client, oldest);
      this.idle.push(oldest.slot);
    }
    this.activate();
  }

  private activate(): void {
    const slot = this.idle.shift();
    if (slot === undefined) return;
    const room: ActiveRoom = { slot, clients: new Set() };
    const docId = `soak-${slot}-${Math.floor(this.activationsOfSlot[slot]! / this.spec.activationsPerDoc)}`;
    this.activationsOfSlot[slot]! += 1;
    this.counts.activations += 1;
    this.active.push(room);
    for (let i = 0; i < this.spec.clientsPerRoom; i++) this.join(room, docId);
  }

  private join(room: ActiveRoom, docId: string): void {
    const client = new LoadClient(this.urlOf(docId), this.counts);
    room.clients.add(client);
    this.counts.joins += 1;
    const timer = setTimeout(() => {
      this.lifeTimers.delete(timer);
      if (this.isStopped || !room.clients.has(client)) return;
      this.leave(client, room);
      this.join(room, docId);
    }, this.random.integer(this.spec.clientLifeMs.min, this.spec.clientLifeMs.max));
    this.lifeTimers.add(timer);
  }

  private leave(client: LoadClient, room: ActiveRoom): void {
    room.clients.delete(client);
    this.counts.leaves += 1;
    client.close();
    this.closing.add(client.closed);
    void client.closed.then(() => this.closing.delete(client.closed));
  }
}
