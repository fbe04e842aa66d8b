import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { openFlakyLink, type FlakyLink } from './flaky-link';

/** A local server that keeps every socket it accepts, so tests can write from "the app" and close it. */
interface FakeApp {
  readonly port: number;
  readonly sockets: Socket[];
  nextSocket(): Promise<Socket>;
  close(): Promise<void>;
}

async function startFakeApp(): Promise<FakeApp> {
  const sockets: Socket[] = [];
  const waiters: ((socket: Socket) => void)[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    waiters.shift()?.(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    sockets,
    nextSocket: () => new Promise((resolve) => waiters.push(resolve)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects "the browser" through the link; resolves with its socket and the app's end of it. */
async function connectThrough(link: FlakyLink, app: FakeApp): Promise<{ browser: Socket; appSide: Socket; received: () => string }> {
  const appSide = app.nextSocket();
  const browser = connect({ host: '127.0.0.1', port: link.port });
  browser.on('error', () => undefined);
  let received = '';
  browser.on('data', (chunk: Buffer) => (received += chunk.toString()));
  await once(browser, 'connect');
  return { browser, appSide: await appSide, received: () => received };
}

/** Resolves when `socket` closes, reset or not (`once` would reject on the reset's error event). */
function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

function firstData(socket: Socket): Promise<string> {
  return once(socket, 'data').then(([chunk]) => (chunk as Buffer).toString());
}

describe('openFlakyLink', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(): Promise<{ app: FakeApp; link: FlakyLink }> {
    const app = await startFakeApp();
    cleanups.push(() => app.close());
    const link = await openFlakyLink(app.port);
    cleanups.push(() => link.close());
    return { app, link };
  }

  it('forwards both ways while up', async () => {
    const { app, link } = await setUp();
    const { browser, appSide, received } = await connectThrough(link, app);
    browser.write('hello');
    expect(await firstData(appSide)).toBe('hello');
    appSide.write('back');
    await once(browser, 'data');
    expect(received()).toBe('back');
  });

  it('cut resets open connections and new ones until restored', async () => {
    const { app, link } = await setUp();
    const { browser } = await connectThrough(link, app);
    const browserClosed = closed(browser);
    link.cut();
    await browserClosed;
    const refused = connect({ host: '127.0.0.1', port: link.port });
    refused.on('error', () => undefined);
    await closed(refused);
    expect(link.counts().resets).toBe(2);
    link.restore();
    const { browser: again, appSide } = await connectThrough(link, app);
    again.write('back online');
    expect(await firstData(appSide)).toBe('back online');
  });

  it('a stall holds bytes both ways and delivers them in order on restore', async () => {
    const { app, link } = await setUp();
    const { browser, appSide, received } = await connectThrough(link, app);
    link.stall();
    expect(link.state()).toBe('stalled');
    browser.write('one ');
    browser.write('two');
    appSide.write('reply');
    let toApp = '';
    appSide.on('data', (chunk: Buffer) => (toApp += chunk.toString()));
    const browserGotReply = once(browser, 'data');
    link.restore();
    await browserGotReply;
    expect(received()).toBe('reply');
    while (toApp.length < 'one two'.length) await once(appSide, 'data');
    expect(toApp).toBe('one two');
  });

  it('a connection the app closed during a stall is closed for the browser once restored', async () => {
    const { app, link } = await setUp();
    const { browser, appSide } = await connectThrough(link, app);
    link.stall();
    browser.write('sent into the stall');
    appSide.destroy();
    const browserClosed = closed(browser);
    link.restore();
    await browserClosed;
    expect(app.sockets).toHaveLength(1);
  });
});
