/** Cluster mode in the browser: two app processes on one Redis and one PostgreSQL, a person on each. */
import { readdir } from 'node:fs/promises';

import { generateSecret } from '../../collab-server/secret';
import { startApp, type AppProcess } from '../helpers/app-process';
import { startPostgres } from '../helpers/postgres-server';
import { startRedis } from '../helpers/redis-server';
import { Teardown, makeTempDir } from '../helpers/relay';
import { findTokens } from '../helpers/token-leaks';
import { expect, newPerson, paragraphTexts, test as base } from './fixtures';

/** Two `npm start` processes in cluster mode, sharing a private Redis and PostgreSQL and one COLLAB_SECRET. */
interface ClusterApps {
  readonly first: AppProcess;
  readonly second: AppProcess;
  /** The data dir both were given; cluster mode must leave it empty. */
  readonly dataDir: string;
}

const test = base.extend<{ clusterApps: ClusterApps }>({
  clusterApps: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const teardown = new Teardown();
      // Each start is undone at teardown (in reverse: apps, then servers, then the dir), also when a sibling failed.
      const undoLater = <T>(starting: Promise<T>, undo: (started: T) => Promise<void>): Promise<T> => {
        teardown.add(() => starting.then(undo, () => undefined));
        return starting;
      };
      try {
        const dataDir = await makeTempDir(teardown);
        const [redis, postgres] = await Promise.all([
          undoLater(startRedis(), (server) => server.dispose()),
          undoLater(startPostgres(), (server) => server.dispose()),
        ]);
        const env = { COLLAB_REDIS_URL: redis.url, COLLAB_DATABASE_URL: postgres.url, COLLAB_SECRET: generateSecret() };
        // Started together: both migrate the schema at once, under the advisory lock (M7).
        const [first, second] = await Promise.all([
          undoLater(startApp({ dataDir, env }), (app) => app.stop()),
          undoLater(startApp({ dataDir, env }), (app) => app.stop()),
        ]);
        await use({ first, second, dataDir });
        const leaked = findTokens([...first.output, ...second.output].join(''));
        if (leaked.length > 0) throw new Error(`an app logged ${leaked.length} share-link token(s), e.g. ${leaked[0]!.slice(0, 12)}…`);
      } finally {
        await teardown.run();
      }
    },
    { timeout: 60_000 },
  ],
});

test('[M2][M3] a link shared on one app process opens on another; typing on both converges, each page shows the other\'s caret, and a dead process\'s caret goes', async ({
  browser,
  clusterApps,
}) => {
  const { first, second, dataDir } = clusterApps;
  const ada = await newPerson(browser, 'Ada Lovelace', '#d9480f');
  const ben = await newPerson(browser, 'Ben Okri', '#1971c2');

  // Ada creates the document on the first process and copies its editor link from the Share dialog.
  await ada.page.goto(first.baseUrl);
  await ada.page.getByRole('button', { name: 'New document' }).click();
  await expect(ada.page).toHaveURL(/\/d\/[A-Za-z0-9_-]{22}#k=v1\./);
  await expect(ada.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');
  await ada.page.getByRole('button', { name: 'Share' }).click();
  const editorLink = await ada.page.getByRole('dialog', { name: 'Share this document' }).getByRole('textbox', { name: 'Editor link' }).inputValue();
  await ada.page.keyboard.press('Escape');

  // Ben opens that link on the second process: it checks the first's signature with the shared secret.
  const onSecond = new URL(editorLink);
  onSecond.host = new URL(second.baseUrl).host;
  await ben.page.goto(onSecond.href);
  await expect(ben.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');
  await expect(ben.page.getByLabel('Document body')).toHaveAttribute('contenteditable', 'true');

  // One at a time, then both at once: every update crosses to the other process (M2).
  await ada.page.getByLabel('Document body').click();
  await ada.page.keyboard.type('Ada on process one.');
  await expect.poll(() => paragraphTexts(ben)).toEqual(['Ada on process one.']);
  await ben.page.getByLabel('Document body').click();
  await ben.page.keyboard.press('Control+End');
  await ben.page.keyboard.press('Enter');
  await ben.page.keyboard.type('Ben on process two.');
  await expect.poll(() => paragraphTexts(ada)).toEqual(['Ada on process one.', 'Ben on process two.']);
  await Promise.all([ada.page.keyboard.type(' Ada again, meanwhile.'), ben.page.keyboard.type(' Ben again, meanwhile.')]);
  const expected = ['Ada on process one. Ada again, meanwhile.', 'Ben on process two. Ben again, meanwhile.'];
  await expect.poll(() => paragraphTexts(ada)).toEqual(expected);
  await expect.poll(() => paragraphTexts(ben)).toEqual(expected);
  // Acknowledged by each process once Redis has it on disk (M1).
  await expect(ada.page.getByTestId('save-status')).toHaveText('All changes saved');
  await expect(ben.page.getByTestId('save-status')).toHaveText('All changes saved');

  // Presence crosses processes: named carets and the avatar stack (M3).
  await expect(ada.page.locator('.collaboration-carets__label', { hasText: 'Ben Okri' })).toBeVisible();
  await expect(ben.page.locator('.collaboration-carets__label', { hasText: 'Ada Lovelace' })).toBeVisible();
  await expect(ada.page.getByTestId('avatars').locator('li')).toHaveCount(2);
  await expect(ben.page.getByTestId('avatars').locator('li')).toHaveCount(2);

  // Documents live in Redis and PostgreSQL: nothing was written to the data dir.
  expect(await readdir(dataDir)).toEqual([]);

  // The second process dies without a word: its heartbeat key expires, and Ben's caret goes within about 4 s (M3).
  second.child.kill('SIGKILL');
  await second.exited;
  await expect(ada.page.locator('.collaboration-carets__label', { hasText: 'Ben Okri' })).toHaveCount(0, { timeout: 6_000 });
  await expect(ada.page.getByTestId('avatars').locator('li')).toHaveCount(1);
  expect(await paragraphTexts(ada)).toEqual(expected);
  await ada.context.close();
  await ben.context.close();
});
