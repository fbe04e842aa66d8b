/**
 * One person's network path to the app, as a TCP proxy on 127.0.0.1 that the
 * campaign can break the ways real networks break, without the page being told:
 *
 * - `cut`: every open connection is reset (the browser sees its WebSocket drop
 *   at once) and new ones are reset on arrival, as when a route disappears.
 * - `stall`: nothing is forwarded either way and nothing is reset, as when
 *   packets silently stop; bytes already sent wait in the path. If the relay
 *   gives up on a stalled socket (its heartbeat), what the browser sent
 *   meanwhile is lost in flight and the close reaches the browser only when the
 *   path returns, as a dead TCP connection would.
 *
 * `restore` returns to normal. The browser's own offline switch
 * (`context.setOffline`) is the third way, the one the page does hear about.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** How the link currently treats traffic. */
export type LinkState = 'up' | 'cut' | 'stalled';

/** A breakable link; see the module comment. */
export interface FlakyLink {
  /** The port the browser should use instead of the app's. */
  readonly port: number;
  state(): LinkState;
  cut(): void;
  stall(): void;
  restore(): void;
  /** Connections opened through the link so far, how many of them were WebSocket upgrades, and how many it reset. */
  counts(): { readonly connections: number; readonly upgrades: number; readonly resets: number };
  close(): Promise<void>;
}

/** One proxied connection: both sockets and what waits while the link is stalled. */
interface Pipe {
  readonly browser: Socket;
  readonly app: Socket;
  /** Chunks held back while stalled, per direction, in order. */
  readonly toApp: Buffer[];
  readonly toBrowser: Buffer[];
  /** The app's side closed while stalled: the browser learns of it on restore. */
  isAppGone: boolean;
}

/** Opens a link on a free port of 127.0.0.1 to `targetPort` there. */
export async function openFlakyLink(targetPort: number): Promise<FlakyLink> {
  let state: LinkState = 'up';
  let connections = 0;
  let upgrades = 0;
  let resets = 0;
  const pipes = new Set<Pipe>();

  const reset = (pipe: Pipe): void => {
    resets += 1;
    pipes.delete(pipe);
    pipe.browser.resetAndDestroy();
    pipe.app.destroy();
  };

  const forward = (pipe: Pipe, options: { chunk: Buffer; toApp: boolean }): void => {
    if (state === 'stalled') {
      (options.toApp ? pipe.toApp : pipe.toBrowser).push(options.chunk);
      return;
    }
    (options.toApp ? pipe.app : pipe.browser).write(options.chunk);
  };

  const server: Server = createServer((browser) => {
    connections += 1;
    browser.on('error', () => undefined);
    if (state === 'cut') {
      resets += 1;
      browser.resetAndDestroy();
      return;
    }
    const app = connect({ host: '127.0.0.1', port: targetPort });
    app.on('error', () => undefined);
    const pipe: Pipe = { browser, app, toApp: [], toBrowser: [], isAppGone: false };
    pipes.add(pipe);
    browser.once('data', (chunk: Buffer) => {
      if (/^upgrade: websocket\r$/im.test(chunk.toString('latin1'))) upgrades += 1;
    });
    browser.on('data', (chunk: Buffer) => forward(pipe, { chunk, toApp: true }));
    app.on('data', (chunk: Buffer) => forward(pipe, { chunk, toApp: false }));
    browser.on('close', () => {
      pipes.delete(pipe);
      app.destroy();
    });
    app.on('close', () => {
      // A stalled path cannot carry the close either: it is delivered on restore.
      if (state === 'stalled' && pipes.has(pipe)) {
        pipe.isAppGone = true;
        return;
      }
      pipes.delete(pipe);
      browser.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the flaky link has no port');

  return {
    port: address.port,
    state: () => state,
    cut() {
      state = 'cut';
      for (const pipe of [...pipes]) reset(pipe);
    },
    stall() {
      if (state === 'up') state = 'stalled';
    },
    restore() {
      const wasStalled = state === 'stalled';
      state = 'up';
      if (!wasStalled) return;
      for (const pipe of [...pipes]) {
        // What the browser sent into the stall is lost with the app's side of a closed connection.
        if (!pipe.isAppGone) for (const chunk of pipe.toApp.splice(0)) pipe.app.write(chunk);
        for (const chunk of pipe.toBrowser.splice(0)) pipe.browser.write(chunk);
        if (pipe.isAppGone) {
          pipes.delete(pipe);
          pipe.browser.end();
        }
      }
    },
    counts: () => ({ connections, upgrades, resets }),
    async close() {
      for (const pipe of [...pipes]) reset(pipe);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
