/**
 * Runs async work one at a time per key. An entry exists only while work for
 * its key is queued or running, so the map never outgrows the work in flight.
 */
export class KeyedLock<K> {
  private readonly tails = new Map<K, Promise<void>>();

  /** Runs `work` after every earlier `run` for `key` has settled; resolves or rejects with it. */
  run<T>(key: K, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      // Only the last queued run may clear the key; an earlier one would drop a later run's place.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
