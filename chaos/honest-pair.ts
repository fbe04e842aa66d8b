/**
 * Two honest clients in one room, editing in turn: each exchange appends a token
 * at one peer and waits until the other has it. They ask for `saved`
 * acknowledgements, so a campaign can wait until all they wrote is on disk. The
 * fuzz campaign runs one pair in the room it attacks and one in a room it leaves
 * alone, and checks that both keep working and that their documents end up
 * holding their tokens and nothing else.
 */
import type { ChaosRelay } from './chaos-relay';
import { TokenWriter, tokenOf } from './token-writer';
import { docChanges, providerChanges, waitFor } from './wait';

/** A pair of synced peers in one room. */
export class HonestPair {
  private exchanges = 0;
  private closes = 0;
  private isDestroyed = false;

  private constructor(
    readonly docId: string,
    private readonly peers: readonly [TokenWriter, TokenWriter],
  ) {
    for (const peer of peers) peer.provider.on('connection-close', () => (this.closes += 1));
  }

  /** Connects two peers named `names` to `docId` and waits until both are synced. */
  static async open(options: { relay: ChaosRelay; docId: string; names: readonly [string, string]; timeoutMs: number }): Promise<HonestPair> {
    const { relay, docId, names, timeoutMs } = options;
    const endpoint = { baseUrl: relay.process.url, docId, params: { token: relay.process.tokenFor(docId), saved: '1' } };
    // Writers publish no presence: a room where nobody holds presence is what the frame oracle assumes.
    const peers = [new TokenWriter(names[0], endpoint), new TokenWriter(names[1], endpoint)] as const;
    await waitFor({
      check: () => peers.every((peer) => peer.provider.synced),
      changes: peers.map((peer) => providerChanges(peer.provider)),
      timeoutMs,
      what: `the honest peers of ${docId} to sync`,
    });
    return new HonestPair(docId, peers);
  }

  /** One peer (they take turns) appends a token; resolves once the other has it. */
  async exchange(timeoutMs: number): Promise<void> {
    const sender = this.peers[this.exchanges % 2]!;
    const receiver = this.peers[(this.exchanges + 1) % 2]!;
    this.exchanges += 1;
    const token = sender.write();
    await waitFor({
      check: () => receiver.text.toString().includes(token),
      changes: [docChanges(receiver.doc)],
      timeoutMs,
      what: `${receiver.name} in ${this.docId} to receive ${token}`,
    });
  }

  /** Resolves once the relay has acknowledged everything both peers wrote as saved. */
  whenSaved(timeoutMs: number): Promise<void> {
    return waitFor({
      check: () => this.peers.every((peer) => peer.isAllSaved),
      changes: this.peers.map((peer) => peer.savedChanges),
      timeoutMs,
      what: `the relay to acknowledge ${this.docId}'s tokens as saved`,
    });
  }

  /** Sockets of the pair that closed since it opened: the relay must never cut an honest peer off. */
  get closesSeen(): number {
    return this.closes;
  }

  /** The tokens the pair wrote. */
  get tokens(): string[] {
    return this.peers.flatMap((peer) => Array.from({ length: peer.writtenCount }, (_, seq) => tokenOf(peer.name, seq)));
  }

  /** Both peers' texts (equal once the last exchange completed: each has awaited all of the other's tokens). */
  get texts(): readonly [string, string] {
    return [this.peers[0].text.toString(), this.peers[1].text.toString()];
  }

  get clientIds(): readonly number[] {
    return this.peers.map((peer) => peer.doc.clientID);
  }

  /** Disconnects and frees both peers; later calls do nothing. */
  destroy(): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    for (const peer of this.peers) peer.destroy();
  }
}
