/**
 * One WebSocket in a loaded room: charges each frame to the connection's
 * budget, decodes it and hands it to the room in order, sends with
 * back-pressure, and answers the relay's periodic sweep (heartbeat, messages
 * left unfinished).
 */
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';

import type { ConnectionId, DocId } from '../lib/ids';
import type { Role } from '../lib/roles';
import { CLOSE_CODES, MESSAGE_TAGS, PROTOCOL_ERROR_CLOSE_CODES, ProtocolError, SYNC_TAGS, decode, type CloseCode } from '../lib/protocol';
import { ConnectionBudget, type ClientBudget, type ConnectionBudgetSpec } from './connection-budget';
import type { Logger } from './logger';
import type { RelayMetrics } from './metrics';
import type { Room, RoomPeer } from './room';
import type { FrameCache } from './ws-frame';
import { isReceivingMessage } from './ws-receiver';

/** How long a socket closed for what it sent keeps its connection, for the close frame to reach the client. */
const CLOSE_FRAME_GRACE_MS = 1_000;

/** Lifecycle of a connection. */
export type ConnectionState = 'live' | 'draining' | 'closed';

/** Limits that protect the relay, and everyone else, from one socket. */
export interface ConnectionLimits {
  /** Send buffer above which the peer counts as not reading and is cut off (a sync reply still draining aside). */
  readonly maxBufferedBytes: number;
  /** How long one incoming message may take to arrive, from its first byte to its last. */
  readonly messageTimeoutMs: number;
  /** Frames and bytes per second this socket may send. */
  readonly budget: ConnectionBudgetSpec;
}

/** Options of `Connection`. */
export interface ConnectionOptions {
  readonly id: ConnectionId;
  /** What the link that opened this socket allows. */
  readonly role: Role;
  /** When that link was issued (ms); a reset after it ends the session. */
  readonly issuedAt: number;
  readonly socket: WebSocket;
  /** The TCP stream under `socket`: outgoing messages are written to it as whole frames. */
  readonly stream: Duplex;
  /** The document's room, loaded before the socket was accepted. */
  readonly room: Room;
  readonly wantsSavedAcks: boolean;
  readonly limits: ConnectionLimits;
  /** The budget this socket's client shares across all its sockets. */
  readonly clientBudget: ClientBudget | null;
  /** The relay's frames, shared so a fan-out or a cached sync reply is framed once. */
  readonly frames: FrameCache;
  /** The relay's logger; the connection binds its own ids. */
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  /** Called once, after the socket closed and the room was left. */
  readonly onClosed: (connection: Connection) => void;
}

/** One client socket in one room. */
export class Connection implements RoomPeer {
  readonly id: ConnectionId;
  readonly role: Role;
  readonly issuedAt: number;
  readonly wantsSavedAcks: boolean;
  readonly room: Room;
  private state: ConnectionState = 'live';
  /** Pings sent without a pong since. */
  private missedPongs = 0;
  private readonly socket: WebSocket;
  private readonly stream: Duplex;
  private readonly options: ConnectionOptions;
  private readonly budget: ConnectionBudget;
  private childLogger: Logger | null = null;
  /** Frames received so far: a sweep that sees the count unchanged knows no message completed since the last. */
  private framesIn = 0;
  /** Since when (ms) an incoming message has been arriving without one completing, as the sweeps saw it. */
  private receivingSince: { readonly atMs: number; readonly framesIn: number } | null = null;
  /** Bytes of the last sync reply, which may sit in the send buffer beyond the cap until it drains. */
  private syncReplyAllowance = 0;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.id = options.id;
    this.role = options.role;
    this.issuedAt = options.issuedAt;
    this.wantsSavedAcks = options.wantsSavedAcks;
    this.room = options.room;
    this.socket = options.socket;
    this.stream = options.stream;
    this.budget = new ConnectionBudget(options.limits.budget, Date.now(), options.clientBudget);
    this.socket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    this.socket.on('pong', () => {
      this.missedPongs = 0;
    });
    this.socket.on('error', (error) => this.onSocketError(error));
    this.socket.on('close', () => this.onSocketClose());
  }

  /** The document this connection edits or views: its room's. */
  get docId(): DocId {
    return this.room.docId;
  }

  /** This connection's logger (doc and connection ids bound), made on first use: most connections never log. */
  get logger(): Logger {
    return (this.childLogger ??= this.options.logger.child({ docId: this.docId, connectionId: this.id }));
  }

  /** Joins the room and starts the sync; call once, right after construction. */
  open(): void {
    this.room.join(this);
    this.room.greet(this);
  }

  /** Sends a frame, or cuts the peer off if it has stopped reading. */
  send(frame: Uint8Array): void {
    // After ws started its closing handshake nothing may follow its close frame.
    if (this.state === 'closed' || this.socket.readyState !== WebSocket.OPEN) return;
    // What waits in the TCP stream is ws's `bufferedAmount`: it queues nothing itself without compression.
    // A document larger than the cap reaches a new client as one sync reply: that reply is allowed to drain.
    if (this.stream.writableLength - this.syncReplyAllowance > this.options.limits.maxBufferedBytes) {
      this.logger.warn({ bufferedBytes: this.stream.writableLength }, 'peer is not reading; disconnecting it');
      this.options.metrics.closes.inc({ code: String(CLOSE_CODES.slowConsumer) });
      // A close frame would queue behind the unread bytes, so drop the socket at once.
      this.socket.terminate();
      this.leaveRoom();
      return;
    }
    if (frame[0] === MESSAGE_TAGS.sync && frame[1] === SYNC_TAGS.step2) this.allowSyncReply(frame.byteLength);
    const { traffic } = this.options.metrics;
    traffic.messagesOut += 1;
    traffic.bytesOut += frame.byteLength;
    // Written at once, not corked until the end of the turn: holding a fan-out's
    // frames back until the turn ends cost 0.7 ms of p99 latency in a hot room
    // (bench S2) and saved no CPU. Written as one whole frame, shared by a
    // fan-out, under ws, which keeps the order of its own frames (pings, close)
    // since every write is synchronous.
    this.stream.write(this.options.frames.frameOf(frame));
  }

  /** Ignores every frame from now on (relay shutdown); the socket stays open until closed. */
  drain(): void {
    if (this.state === 'closed') return;
    this.state = 'draining';
  }

  /**
   * The relay's periodic check, every heartbeat interval: drops a socket that
   * missed two pings, closes one that has kept a message unfinished for longer
   * than the message timeout (a half-sent message holds buffers), and pings.
   */
  sweep(nowMs: number): void {
    if (this.state === 'closed') return;
    // First: a client stuck in the middle of its own frame cannot answer pings either.
    if (this.hasStalledMessage(nowMs)) {
      this.logger.warn({ timeoutMs: this.options.limits.messageTimeoutMs }, 'closing connection: message left unfinished');
      this.close(CLOSE_CODES.policyViolation, `a message took longer than ${this.options.limits.messageTimeoutMs} ms to arrive`);
      return;
    }
    if (this.missedPongs >= 2) {
      this.terminate('missed two heartbeats');
      return;
    }
    this.missedPongs += 1;
    this.socket.ping();
  }

  /** Drops the socket without a close handshake (missed heartbeats). */
  terminate(reason: string): void {
    this.logger.info({ reason }, 'terminating connection');
    this.socket.terminate();
    this.leaveRoom();
  }

  /** Closes with a code and a reason, and leaves the room at once. */
  close(code: CloseCode, reason: string): void {
    if (this.state === 'closed') return;
    this.options.metrics.closes.inc({ code: String(code) });
    this.socket.close(code, reason);
    this.leaveRoom();
  }

  private onFrame(data: unknown, isBinary: boolean): void {
    if (this.state === 'closed' || this.state === 'draining') return;
    this.framesIn += 1;
    if (!isBinary || !(data instanceof Buffer)) {
      this.close(CLOSE_CODES.unsupportedData, 'text frames are not supported');
      return;
    }
    this.options.metrics.traffic.bytesIn += data.byteLength;
    const now = Date.now();
    const overBudget = this.budget.chargeFrame(data.byteLength, now);
    if (overBudget !== null) {
      this.closeForPolicy(`over budget: ${overBudget}`);
      return;
    }
    try {
      const frame = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const message = decode(frame);
      const { messagesIn } = this.options.metrics.traffic;
      messagesIn[message.type] = (messagesIn[message.type] ?? 0) + 1;
      if (message.type === 'sync-step-1' || message.type === 'query-awareness') {
        const overRequests = this.budget.chargeRequest(message.type, now);
        if (overRequests !== null) {
          this.closeForPolicy(`over budget: ${overRequests}`);
          return;
        }
      }
      // A client in debt for the relay's time gets none: not even one frame per new socket.
      const noTimeLeft = this.budget.timeExhausted(now);
      if (noTimeLeft !== null) {
        this.closeForPolicy(`over budget: ${noTimeLeft}`);
        return;
      }
      const startedAt = performance.now();
      this.room.receive(this, message, frame);
      const overTime = this.budget.chargeTime(performance.now() - startedAt, now);
      if (overTime !== null) this.closeForPolicy(`over budget: ${overTime}`);
    } catch (error) {
      this.closeForError(error);
    }
  }

  // Resets when a message completes between two sweeps, so only one message that
  // is still unfinished after the timeout counts, however many came before it.
  private hasStalledMessage(nowMs: number): boolean {
    if (!isReceivingMessage(this.socket)) {
      this.receivingSince = null;
      return false;
    }
    if (this.receivingSince === null || this.receivingSince.framesIn !== this.framesIn) {
      this.receivingSince = { atMs: nowMs, framesIn: this.framesIn };
      return false;
    }
    return nowMs - this.receivingSince.atMs >= this.options.limits.messageTimeoutMs;
  }

  private allowSyncReply(byteLength: number): void {
    const isWaitingForDrain = this.syncReplyAllowance > 0;
    this.syncReplyAllowance = byteLength;
    if (!isWaitingForDrain) {
      this.stream.once('drain', () => {
        this.syncReplyAllowance = 0;
      });
    }
  }

  private closeForPolicy(reason: string): void {
    this.logger.warn({ reason }, 'closing connection: policy violation');
    this.close(CLOSE_CODES.policyViolation, reason.slice(0, 120));
    this.stopReading();
  }

  // A client cut off for what it sent may keep sending, and ws would read and parse
  // all of it until the close handshake times out (30 s): stop reading it at once,
  // and drop the socket once the close frame has had a moment to go out.
  private stopReading(): void {
    this.socket.pause();
    setTimeout(() => this.socket.terminate(), CLOSE_FRAME_GRACE_MS).unref();
  }

  private closeForError(error: unknown): void {
    if (error instanceof ProtocolError) {
      this.logger.warn({ reason: error.code, err: error.message }, 'closing connection: refused message');
      this.close(PROTOCOL_ERROR_CLOSE_CODES[error.code], error.message.slice(0, 120));
      this.stopReading();
      return;
    }
    this.logger.error({ err: error }, 'closing connection: internal error');
    this.close(CLOSE_CODES.internalError, 'internal error');
  }

  private onSocketError(error: Error & { code?: string }): void {
    // ws reports an oversize frame here and closes the socket with 1009 itself.
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.options.metrics.closes.inc({ code: String(CLOSE_CODES.messageTooBig) });
      this.logger.warn({ err: error.message }, 'closing connection: message too big');
    } else {
      this.logger.warn({ err: error.message, code: error.code }, 'socket error');
    }
    this.leaveRoom();
  }

  private onSocketClose(): void {
    this.leaveRoom();
  }

  private leaveRoom(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.room.leave(this);
    this.options.onClosed(this);
  }
}
