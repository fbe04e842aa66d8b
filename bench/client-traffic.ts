/**
 * What the real app sends over its socket, measured in Chromium: how many
 * frames and bytes a second when someone types as fast as a keyboard repeats
 * and as fast as the browser takes keys, and the largest frame when someone
 * pastes a long document. These figures size the relay's per-connection
 * budgets (COLLAB_RATE_*), which must never cut off a real person.
 *
 *   npm run bench:traffic
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';

import { loadEditingTrace } from '../tests/helpers/editing-trace';
import { withTypistAndWatcher } from './app-pages';

interface SentFrame {
  readonly at: number;
  readonly bytes: number;
  /** The outer message tag: 0 sync, 1 awareness, 3 query-awareness. */
  readonly tag: number;
}

interface TrafficFigures {
  readonly frames: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly peakFramesPerSecond: number;
  readonly peakBytesPerSecond: number;
  readonly largestFrameBytes: number;
  readonly framesByTag: Record<string, number>;
}

// Every frame the page sends, recorded before the app's scripts run. Runs in the
// page: no named inner functions, which tsx would wrap in a helper the page lacks.
function recordSentFrames(): void {
  const holder = window as unknown as { sentFrames: { at: number; bytes: number; tag: number }[] };
  holder.sentFrames = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: string | ArrayBufferLike | Blob | ArrayBufferView) {
    const bytes = data instanceof Uint8Array ? data : null;
    holder.sentFrames.push({ at: performance.now(), bytes: bytes?.byteLength ?? 0, tag: bytes?.[0] ?? -1 });
    return send.call(this, data);
  };
}

async function takeSentFrames(page: Page): Promise<SentFrame[]> {
  return page.evaluate(() => {
    const holder = window as unknown as { sentFrames: SentFrame[] };
    const frames = holder.sentFrames;
    holder.sentFrames = [];
    return frames;
  });
}

/** Totals and the busiest one-second window (sliding) of a run of frames. */
function summarize(frames: readonly SentFrame[]): TrafficFigures {
  let peakFrames = 0;
  let peakBytes = 0;
  let windowStart = 0;
  let windowBytes = 0;
  for (let end = 0; end < frames.length; end++) {
    windowBytes += frames[end]!.bytes;
    while (frames[end]!.at - frames[windowStart]!.at > 1000) windowBytes -= frames[windowStart++]!.bytes;
    peakFrames = Math.max(peakFrames, end - windowStart + 1);
    peakBytes = Math.max(peakBytes, windowBytes);
  }
  const framesByTag: Record<string, number> = {};
  for (const frame of frames) framesByTag[frame.tag] = (framesByTag[frame.tag] ?? 0) + 1;
  const seconds = frames.length > 1 ? (frames[frames.length - 1]!.at - frames[0]!.at) / 1000 : 0;
  return {
    frames: frames.length,
    bytes: frames.reduce((sum, frame) => sum + frame.bytes, 0),
    seconds: Math.round(seconds * 100) / 100,
    peakFramesPerSecond: peakFrames,
    peakBytesPerSecond: peakBytes,
    largestFrameBytes: Math.max(0, ...frames.map((frame) => frame.bytes)),
    framesByTag,
  };
}

async function main(): Promise<void> {
  await withTypistAndWatcher(async ({ typist, watcher }) => {
  const results: Record<string, { typist: TrafficFigures; watcher: TrafficFigures }> = {};
  const measure = async (name: string, act: () => Promise<void>): Promise<void> => {
    await takeSentFrames(typist);
    await takeSentFrames(watcher);
    await act();
    await typist.getByTestId('save-status').and(typist.getByText('All changes saved')).waitFor();
    results[name] = { typist: summarize(await takeSentFrames(typist)), watcher: summarize(await takeSentFrames(watcher)) };
  };

  await typist.getByLabel('Document body').click();
  // Keyboard auto-repeat runs at about 30 keys a second: the fastest a person's typing gets.
  await measure('auto-repeat typing, 300 keys at 33 ms', async () => {
    for (let i = 0; i < 300; i++) {
      await typist.keyboard.press(String.fromCharCode(97 + (i % 26)));
      await typist.waitForTimeout(33);
    }
  });
  // As fast as the browser takes keys: far beyond any person, a ceiling for scripts and macros.
  await measure('machine typing, 1000 keys with no delay', () => typist.keyboard.type('x'.repeat(1000)));
  const paper = loadEditingTrace('automerge-paper.json.gz').endContent;
  await measure(`paste of a ${paper.length}-character document`, () =>
    typist.evaluate((text) => {
      const data = new DataTransfer();
      data.setData('text/plain', text);
      document.querySelector('[aria-label="Document body"]')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, paper),
  );

  const report = { measuredAt: new Date().toISOString(), results };
  console.log(JSON.stringify(report, null, 2));
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  await writeFile(new URL(`client-traffic-${Date.now()}.json`, dir), `${JSON.stringify(report, null, 2)}\n`);
  }, recordSentFrames);
}

await main();
