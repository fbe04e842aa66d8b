/**
 * Keystroke → remote render latency in real Chromium: two browser contexts on
 * one document served by the real app + relay; each key pressed in page A is
 * timed from its keydown in A to the moment B's editor shows it.
 *
 *   npm run bench:keystroke -- [--keys 300] [--interval-ms 40]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { withTypistAndWatcher } from './app-pages';

const { values } = parseArgs({
  options: { keys: { type: 'string', default: '300' }, 'interval-ms': { type: 'string', default: '40' } },
});
const KEY_COUNT = Number(values.keys);
const INTERVAL_MS = Number(values['interval-ms']);

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

async function main(): Promise<void> {
  await withTypistAndWatcher(async ({ typist, watcher }) => {
  await typist.evaluate(() => {
    const sentAt: number[] = [];
    (window as unknown as { sentAt: number[] }).sentAt = sentAt;
    document.addEventListener('keydown', () => sentAt.push(performance.timeOrigin + performance.now()), true);
  });
  await watcher.evaluate(() => {
    const seenAt: number[] = [];
    (window as unknown as { seenAt: number[] }).seenAt = seenAt;
    const body = document.querySelector('[aria-label="Document body"]')!;
    const observer = new MutationObserver(() => {
      // Remote carets carry a name label inside the editor: do not count it as text.
      let labels = 0;
      for (const caret of body.querySelectorAll('.collaboration-carets__caret')) labels += (caret.textContent ?? '').length;
      const length = (body.textContent ?? '').length - labels;
      const now = performance.timeOrigin + performance.now();
      while (seenAt.length < length) seenAt.push(now);
    });
    observer.observe(body, { subtree: true, childList: true, characterData: true });
  });
  await typist.getByLabel('Document body').click();
  for (let i = 0; i < KEY_COUNT; i++) {
    await typist.keyboard.press(String.fromCharCode(97 + (i % 26)));
    await typist.waitForTimeout(INTERVAL_MS);
  }
  await watcher.waitForFunction((count) => (window as unknown as { seenAt: number[] }).seenAt.length >= count, KEY_COUNT);
  const sentAt = await typist.evaluate(() => (window as unknown as { sentAt: number[] }).sentAt);
  const seenAt = await watcher.evaluate(() => (window as unknown as { seenAt: number[] }).seenAt);
  const latencies = sentAt.slice(0, KEY_COUNT).map((sent, i) => seenAt[i]! - sent);
  const sorted = [...latencies].sort((a, b) => a - b);
  const result = {
    scenario: 'browser keystroke → remote render',
    keys: KEY_COUNT,
    intervalMs: INTERVAL_MS,
    p50Ms: Number(percentile(sorted, 50).toFixed(2)),
    p95Ms: Number(percentile(sorted, 95).toFixed(2)),
    p99Ms: Number(percentile(sorted, 99).toFixed(2)),
    maxMs: Number(sorted[sorted.length - 1]!.toFixed(2)),
    at: new Date().toISOString(),
  };
  await mkdir('bench/results', { recursive: true });
  await writeFile(`bench/results/keystroke-latency-${Date.now()}.json`, `${JSON.stringify({ result, latencies }, null, 2)}\n`);
  // One line, last: bench/run.ts reads it.
  console.log(JSON.stringify(result));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
