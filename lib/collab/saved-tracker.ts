/**
 * Decides "Saving…" versus "All changes saved" from the relay's `saved`
 * acknowledgements, never from a timer: this client is saved when the last
 * acknowledged state vector covers its state as of its own last change.
 */
import * as Y from 'yjs';

type StateVector = Map<number, number>;

/** True when every clock in `required` is reached in `acknowledged`. */
export function covers(acknowledged: StateVector, required: StateVector): boolean {
  for (const [clientId, clock] of required) {
    if ((acknowledged.get(clientId) ?? 0) < clock) return false;
  }
  return true;
}

/** Tracks the newest local state vector and the newest acknowledged one. */
export class SavedTracker {
  private required: StateVector = new Map();
  private acknowledged: StateVector = new Map();

  /** Call after a change that did not come from the relay: it must be saved. */
  noteLocalChange(doc: Y.Doc): void {
    this.required = Y.decodeStateVector(Y.encodeStateVector(doc));
  }

  /** Call with the state vector of each `saved` message. */
  noteAcknowledged(stateVector: Uint8Array): void {
    this.acknowledged = Y.decodeStateVector(stateVector);
  }

  isSaved(): boolean {
    return covers(this.acknowledged, this.required);
  }
}
