/**
 * A `DocStore` that injects faults in front of a real one: writes (appends,
 * compactions, link resets) or loads fail, hang until healed, or are slowed.
 * Hung calls go on to the real store once healed, as a stalled disk or network
 * mount would let them.
 */
import type { DocStore } from '../../collab-server/storage/doc-store';
import { StorageError } from '../../collab-server/storage/doc-store';

/** What the store does to a call. */
export type Fault = { readonly kind: 'none' } | { readonly kind: 'fail'; readonly message: string } | { readonly kind: 'hang' } | { readonly kind: 'slow'; readonly delayMs: number };

const NO_FAULT: Fault = { kind: 'none' };

/** A real store behind switchable faults, one for writes and one for loads. */
export class FaultyStore implements DocStore {
  private writeFault: Fault = NO_FAULT;
  private loadFault: Fault = NO_FAULT;
  private healed: (() => void)[] = [];
  /** Appends that reached the real store and succeeded. */
  appendsWritten = 0;
  /** Appends refused by an injected failure. */
  appendsFailed = 0;
  /** Appends hung until `heal`. */
  appendsWaiting = 0;
  /** Loads hung until `heal`. */
  loadsWaiting = 0;

  constructor(private readonly inner: DocStore) {}

  /** From now on, writes get `fault`. */
  injectWriteFault(fault: Fault): void {
    this.writeFault = fault;
  }

  /** From now on, loads get `fault`. */
  injectLoadFault(fault: Fault): void {
    this.loadFault = fault;
  }

  /** Ends every fault; hung calls go on to the real store. */
  heal(): void {
    this.writeFault = NO_FAULT;
    this.loadFault = NO_FAULT;
    const waiting = this.healed;
    this.healed = [];
    for (const resume of waiting) resume();
  }

  load: DocStore['load'] = async (docId) => {
    this.loadsWaiting += 1;
    try {
      await this.apply(this.loadFault, `load of ${docId}`);
    } finally {
      this.loadsWaiting -= 1;
    }
    return this.inner.load(docId);
  };

  appendUpdates: DocStore['appendUpdates'] = async (docId, updates) => {
    this.appendsWaiting += 1;
    try {
      await this.apply(this.writeFault, `append to ${docId}`);
    } catch (error) {
      this.appendsFailed += 1;
      throw error;
    } finally {
      this.appendsWaiting -= 1;
    }
    const seq = await this.inner.appendUpdates(docId, updates);
    this.appendsWritten += 1;
    return seq;
  };

  compact: DocStore['compact'] = async (docId, options) => {
    await this.apply(this.writeFault, `compaction of ${docId}`);
    return this.inner.compact(docId, options);
  };

  loadLinksResetAt: DocStore['loadLinksResetAt'] = async (docId) => {
    await this.apply(this.loadFault, `link state of ${docId}`);
    return this.inner.loadLinksResetAt(docId);
  };

  resetLinks: DocStore['resetLinks'] = async (docId, at) => {
    await this.apply(this.writeFault, `link reset of ${docId}`);
    return this.inner.resetLinks(docId, at);
  };

  close: DocStore['close'] = () => this.inner.close();

  private async apply(fault: Fault, what: string): Promise<void> {
    switch (fault.kind) {
      case 'none':
        return;
      case 'fail':
        throw new StorageError(`${what} failed: ${fault.message}`);
      case 'hang':
        await new Promise<void>((resolve) => this.healed.push(resolve));
        return;
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        return;
    }
  }
}
