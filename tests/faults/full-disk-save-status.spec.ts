/**
 * The disk under the relay fills up while someone types, then has room again
 * (a small tmpfs under the app's data dir; root only). Rules (SPEC F1, F3): the
 * page says "Not saved, retrying…" instead of "Saving…" forever, other people
 * keep seeing the edits, and once the disk has room the page says "All changes
 * saved" by itself (what is then on disk is checked in leveldb-full-disk.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startApp } from '../helpers/app-process';
import { bodyText, createDoc, expect, newPerson, openDocument, test } from '../e2e/fixtures';

const DISK_BYTES = 16 * 1024 * 1024;

test('[F1] a full disk shows "Not saved, retrying…" while others keep editing, and "All changes saved" once it has room', async ({ browser }) => {
  test.skip(process.platform !== 'linux' || process.getuid?.() !== 0, 'mounting a small disk needs root on Linux');
  const disk = await mkdtemp(join(tmpdir(), 'inkwell-e2e-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_BYTES},mode=0700`, 'tmpfs', disk]);
  const dataDir = join(disk, 'data');
  const filler = join(disk, 'filler');
  const app = await startApp({ dataDir });
  try {
    const doc = await createDoc(app.baseUrl);
    const writer = await newPerson(browser, 'Wanda', '#9c36b5');
    const reader = await newPerson(browser, 'Rex', '#0c8599');
    await openDocument(writer, app.baseUrl, doc);
    await openDocument(reader, app.baseUrl, doc);
    const status = writer.page.getByTestId('save-status');
    await writer.page.getByLabel('Document body').click();
    await writer.page.keyboard.type('Saved first. ');
    await expect(status).toHaveText('All changes saved');

    // writeFile writes what fits, then fails with ENOSPC: the disk is full.
    await expect(writeFile(filler, Buffer.alloc(DISK_BYTES))).rejects.toThrow(/ENOSPC/);
    await writer.page.evaluate((text) => {
      const data = new DataTransfer();
      data.setData('text/plain', text);
      document.querySelector('[aria-label="Document body"]')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, 'y'.repeat(64 * 1024));
    await expect(status).toHaveText('Not saved, retrying…');
    await expect(status).toHaveAttribute('role', 'alert');
    await expect.poll(async () => (await bodyText(reader)).length).toBe('Saved first. '.length + 64 * 1024);
    const health = (await (await fetch(`${app.baseUrl}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('degraded');

    await rm(filler);
    await expect(status).toHaveText('All changes saved', { timeout: 15_000 });
    for (const person of [writer, reader]) await person.context.close();
  } finally {
    await app.stop();
    execFileSync('umount', ['-l', disk]);
    await rm(disk, { recursive: true, force: true });
  }
});
