/**
 * Decides "Saving…" versus "All changes saved" from the relay's `saved`
 * acknowledgements, never from a timer.
 *
 * Every local change bumps an epoch. Every document-changing frame sent on the
 * current socket is numbered and remembers the epoch it carried. A `saved`
 * message says how many of those frames are on disk; the epochs they carried
 * are then saved. State vectors alone cannot do this: a deletion leaves the
 * state vector unchanged.
 */

/** Tracks local changes, frames sent, and frames the relay reported on disk. */
export class SavedTracker {
  private localEpoch = 0;
  private savedEpoch = 0;
  private framesSent = 0;
  private unacknowledged: { frame: number; epoch: number }[] = [];

  /** A change that did not come from the relay: it must be saved. */
  noteLocalChange(): void {
    this.localEpoch += 1;
  }

  /** A new socket: its frame numbers start again; unacknowledged content is re-sent in its sync. */
  noteNewSocket(): void {
    this.framesSent = 0;
    this.unacknowledged = [];
  }

  /** A document-changing frame (sync step 2 or update) went out on the current socket. */
  noteChangeFrameSent(): void {
    this.framesSent += 1;
    this.unacknowledged.push({ frame: this.framesSent, epoch: this.localEpoch });
  }

  /** The relay has the first `changeFramesSaved` frames of the current socket on disk. */
  noteAcknowledged(changeFramesSaved: number): void {
    while (this.unacknowledged.length > 0 && this.unacknowledged[0]!.frame <= changeFramesSaved) {
      this.savedEpoch = Math.max(this.savedEpoch, this.unacknowledged.shift()!.epoch);
    }
  }

  isSaved(): boolean {
    return this.savedEpoch >= this.localEpoch;
  }
}
