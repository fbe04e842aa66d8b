/**
 * Which `saved` acknowledgements a room owes each peer (SPEC P9, P9a, F2). A
 * peer's changes ride in numbered persistence batches; once batch N is on disk,
 * every peer whose changes went into batches up to N hears how many of its
 * change frames are saved. Acks are owed per batch, at most one entry per
 * batch, so a peer that keeps typing still hears about each batch that reaches
 * disk instead of waiting for a pause. Pure bookkeeping: it sends nothing.
 */

interface PeerLedger {
  /** Document-changing frames received from this peer so far. */
  changeFrames: number;
  /** Once batch `batchId` is on disk, `changeFrames` of this peer's frames are. */
  readonly owed: { batchId: number; changeFrames: number }[];
  /** Told that its changes are not saved, with no `saved` since. */
  isToldNotSaved: boolean;
}

/** An acknowledgement to send: `changeFramesSaved` of `peer`'s change frames are on disk. */
export interface DueAck<Peer> {
  readonly peer: Peer;
  readonly changeFramesSaved: number;
}

/** The acknowledgements a room owes its peers. */
export class SavedAckLedger<Peer> {
  private readonly peers = new Map<Peer, PeerLedger>();

  join(peer: Peer): void {
    this.peers.set(peer, { changeFrames: 0, owed: [], isToldNotSaved: false });
  }

  leave(peer: Peer): void {
    this.peers.delete(peer);
  }

  /** Counts one document-changing frame from `peer` (applied, or a no-op). */
  noteChangeFrame(peer: Peer): void {
    const ledger = this.peers.get(peer);
    if (ledger) ledger.changeFrames += 1;
  }

  /**
   * `peer` wants to hear once everything it sent so far is on disk, which batch
   * `latestUnsavedBatchId` will complete; `null`: all of it is on disk already.
   * Returns the ack to send at once, or null when it is owed for later.
   */
  request(peer: Peer, latestUnsavedBatchId: number | null): DueAck<Peer> | null {
    const ledger = this.peers.get(peer);
    if (!ledger) return null;
    if (latestUnsavedBatchId === null) {
      ledger.owed.length = 0;
      ledger.isToldNotSaved = false;
      return { peer, changeFramesSaved: ledger.changeFrames };
    }
    const last = ledger.owed[ledger.owed.length - 1];
    if (last?.batchId === latestUnsavedBatchId) last.changeFrames = ledger.changeFrames;
    else ledger.owed.push({ batchId: latestUnsavedBatchId, changeFrames: ledger.changeFrames });
    return null;
  }

  /** Batch `batchId` (and every one before it) is on disk: the acks now due. */
  settle(batchId: number): DueAck<Peer>[] {
    const due: DueAck<Peer>[] = [];
    for (const [peer, ledger] of this.peers) {
      let changeFramesSaved = -1;
      while (ledger.owed.length > 0 && ledger.owed[0]!.batchId <= batchId) {
        changeFramesSaved = Math.max(changeFramesSaved, ledger.owed.shift()!.changeFrames);
      }
      if (changeFramesSaved < 0) continue;
      // Told "not saved" about a later batch still owed: that warning stands.
      if (ledger.owed.length === 0) ledger.isToldNotSaved = false;
      due.push({ peer, changeFramesSaved });
    }
    return due;
  }

  /**
   * Peers owed an ack that have not been told yet that their changes are not
   * saved; each is marked told, so a failing store warns each peer once per
   * stretch of unsaved changes, not once per retry.
   */
  takeUntoldUnsaved(): Peer[] {
    const untold: Peer[] = [];
    for (const [peer, ledger] of this.peers) {
      if (ledger.owed.length === 0 || ledger.isToldNotSaved) continue;
      ledger.isToldNotSaved = true;
      untold.push(peer);
    }
    return untold;
  }
}
