/**
 * Presence across relay processes: each process publishes the awareness
 * changes of its own peers (already validated and role-stamped by the room)
 * on the document's Redis pub/sub channel, and applies what the others
 * publish. Content never travels here: it is caught up from the log.
 *
 * Each process renews a heartbeat key (TTL `3 × heartbeatMs`) listing the
 * awareness client ids its peers own, per document. Every `heartbeatMs` each
 * process reads the keys of the processes whose states it shows: a key that
 * expired means that process died, and its peers' cursors are removed; ids a
 * live owner no longer lists (a removal lost with a dropped message) go too.
 *
 * Messages: [kind u8][origin string][payload bytes] (lib0 encoding).
 */
import type { Redis } from 'ioredis';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

import type { DocId } from '../../lib/ids';
import type { Logger } from '../logger';
import { clusterKeys } from './keys';

const MESSAGE_KINDS = { states: 0, request: 1 } as const;

/** What a room does with presence from other processes. */
export interface PresenceListener {
  /** Awareness update from process `origin`'s peers. */
  onRemoteStates(update: Uint8Array, origin: string): void;
  /** Another process opened the document and asks for every state. */
  onStatesRequested(): void;
  /** Process `origin` is gone (null `keep`), or owns only `keep` now: drop its other states. */
  onOwnerChanged(origin: string, keep: ReadonlySet<number> | null): void;
}

interface Membership {
  readonly listener: PresenceListener;
  /** Ids this process's peers own in the document, for the heartbeat. */
  ownedIds: readonly number[];
  /** Processes whose states this process shows for the document. */
  readonly remoteOrigins: Set<string>;
}

/** Options of `PresenceBus`. */
export interface PresenceBusOptions {
  /** A connection of its own: subscribed connections take no other commands. */
  readonly subscriber: Redis;
  readonly commands: Redis;
  readonly processId: string;
  readonly heartbeatMs: number;
  readonly logger: Logger;
}

/** Pub/sub presence and process heartbeats. */
export class PresenceBus {
  private readonly members = new Map<DocId, Membership>();
  private readonly channelToDoc = new Map<string, DocId>();
  private readonly timer: NodeJS.Timeout;
  private isBeating = false;

  constructor(private readonly options: PresenceBusOptions) {
    options.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.receive(channel.toString(), message));
    this.timer = setInterval(() => void this.beat(), options.heartbeatMs);
    void this.beat();
  }

  /** Subscribes to `docId`'s presence; resolves once subscribed, with the function that leaves. */
  async join(docId: DocId, listener: PresenceListener): Promise<() => void> {
    const channel = clusterKeys.presence(docId);
    const membership: Membership = { listener, ownedIds: [], remoteOrigins: new Set() };
    this.members.set(docId, membership);
    this.channelToDoc.set(channel, docId);
    await this.options.subscriber.subscribe(channel);
    return () => {
      if (this.members.get(docId) !== membership) return;
      this.members.delete(docId);
      this.channelToDoc.delete(channel);
      void this.options.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  /**
   * Publishes an awareness update of this process's peers; `ownedIds`, when
   * given, is every id they own in the document now (for the heartbeat).
   */
  publish(docId: DocId, update: Uint8Array, ownedIds?: readonly number[]): void {
    const membership = this.members.get(docId);
    if (membership && ownedIds) membership.ownedIds = ownedIds;
    this.send(docId, MESSAGE_KINDS.states, update);
  }

  /** Asks the other processes for every state they hold of `docId`. */
  requestStates(docId: DocId): void {
    this.send(docId, MESSAGE_KINDS.request, new Uint8Array());
  }

  /** Stops the heartbeat and removes this process's key, so the others drop its cursors at once. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.options.commands.del(clusterKeys.process(this.options.processId)).catch(() => undefined);
  }

  private send(docId: DocId, kind: number, payload: Uint8Array): void {
    const encoder = encoding.createEncoder();
    encoding.writeUint8(encoder, kind);
    encoding.writeVarString(encoder, this.options.processId);
    encoding.writeVarUint8Array(encoder, payload);
    // Presence is best effort: a lost message is repaired by the heartbeat listing or the next change.
    void this.options.commands.publish(clusterKeys.presence(docId), Buffer.from(encoding.toUint8Array(encoder))).catch((error: unknown) => {
      this.options.logger.debug({ docId, err: error }, 'publishing presence failed');
    });
  }

  private receive(channel: string, message: Buffer): void {
    const docId = this.channelToDoc.get(channel);
    const membership = docId ? this.members.get(docId) : undefined;
    if (!membership) return;
    let kind: number;
    let origin: string;
    let payload: Uint8Array;
    try {
      const decoder = decoding.createDecoder(message);
      kind = decoding.readUint8(decoder);
      origin = decoding.readVarString(decoder);
      payload = decoding.readVarUint8Array(decoder);
    } catch (error) {
      this.options.logger.warn({ docId, err: error }, 'ignored a malformed presence message');
      return;
    }
    if (origin === this.options.processId) return;
    // Called from the subscriber connection's parser: a state that does not decode must not throw into it.
    try {
      if (kind === MESSAGE_KINDS.states) {
        membership.remoteOrigins.add(origin);
        membership.listener.onRemoteStates(payload, origin);
      } else if (kind === MESSAGE_KINDS.request) {
        membership.listener.onStatesRequested();
      }
    } catch (error) {
      this.options.logger.warn({ docId, origin, err: error }, 'ignored presence another relay sent');
    }
  }

  // Renews this process's key, then checks the keys of the processes whose states are shown here.
  private async beat(): Promise<void> {
    if (this.isBeating) return;
    this.isBeating = true;
    const { commands, processId, heartbeatMs } = this.options;
    try {
      const listing: Record<string, readonly number[]> = {};
      for (const [docId, membership] of this.members) if (membership.ownedIds.length > 0) listing[docId] = membership.ownedIds;
      await commands.set(clusterKeys.process(processId), JSON.stringify(listing), 'PX', heartbeatMs * 3);
      const origins = [...new Set([...this.members.values()].flatMap((membership) => [...membership.remoteOrigins]))];
      if (origins.length === 0) return;
      const keys = await commands.mget(...origins.map((origin) => clusterKeys.process(origin)));
      origins.forEach((origin, index) => this.applyListing(origin, keys[index] ?? null));
    } catch (error) {
      // Redis unreachable: nobody's cursors are dropped on a guess; the check runs again next beat.
      this.options.logger.debug({ err: error }, 'presence heartbeat failed');
    } finally {
      this.isBeating = false;
    }
  }

  private applyListing(origin: string, raw: string | null): void {
    let listing: Record<string, number[]> | null = null;
    if (raw !== null) {
      try {
        listing = JSON.parse(raw) as Record<string, number[]>;
      } catch {
        return;
      }
    }
    for (const [docId, membership] of this.members) {
      if (!membership.remoteOrigins.has(origin)) continue;
      if (listing === null) membership.remoteOrigins.delete(origin);
      membership.listener.onOwnerChanged(origin, listing === null ? null : new Set(listing[docId] ?? []));
    }
  }
}
