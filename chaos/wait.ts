/**
 * Waiting on conditions that events change: a check is re-run whenever one of
 * its sources reports a change, and the wait fails at a deadline. No polling:
 * a condition with no event to watch (a /proc reading) belongs elsewhere.
 */
import type * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';

/** Subscribes `onChange` to some source of changes; returns the unsubscribe. */
export type ChangeSource = (onChange: () => void) => () => void;

/** Resolves once `check()` holds (checked now and after every change); rejects at the deadline naming `what`. */
export function waitFor(options: {
  readonly check: () => boolean;
  readonly changes: readonly ChangeSource[];
  readonly timeoutMs: number;
  readonly what: string;
}): Promise<void> {
  if (options.check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const unsubscribes: (() => void)[] = [];
    const finish = (error: Error | null): void => {
      clearTimeout(timer);
      for (const unsubscribe of unsubscribes) unsubscribe();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`)), options.timeoutMs);
    const onChange = (): void => {
      if (options.check()) finish(null);
    };
    for (const subscribe of options.changes) unsubscribes.push(subscribe(onChange));
  });
}

/** Changes of a Yjs document's content. */
export function docChanges(doc: Y.Doc): ChangeSource {
  return (onChange) => {
    doc.on('update', onChange);
    return () => doc.off('update', onChange);
  };
}

/** Connection and sync changes of a y-websocket provider. */
export function providerChanges(provider: WebsocketProvider): ChangeSource {
  return (onChange) => {
    provider.on('status', onChange);
    provider.on('sync', onChange);
    provider.on('connection-close', onChange);
    return () => {
      provider.off('status', onChange);
      provider.off('sync', onChange);
      provider.off('connection-close', onChange);
    };
  };
}

/**
 * Resolves after `ms`: for moments chosen on purpose (when to kill, when to take
 * a sample), and between the reads of a polling loop over something that sends
 * no event (/proc, /metrics). Never to wait for an effect that has an event.
 */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
