/**
 * Attack: break everyone's page through awareness. One state whose caret is
 * `{ anchor: null }` once made every open page of the document throw on each
 * remote change and stop showing other people's edits, while its badge still
 * said "Live"; a colour like `#000;position:fixed;inset:0` is CSS injection.
 * Rules (SPEC P6b, and in the browser): the relay forwards no invalid state;
 * the page validates every remote state itself before the editor sees it, and
 * draws carets with plain-text names and #rrggbb colours only.
 */
import type { Page } from '@playwright/test';
import { WebSocket } from 'ws';

import { encode, encodeAwarenessUpdate, socketProtocolsFor } from '../../lib/protocol';
import { bodyText, createDoc, expect, newPerson, openDocument, test, type Person, type SharedDoc } from '../e2e/fixtures';

const CRAFTED_STATES = [
  { user: { name: 'Eve', color: '#000;position:fixed;inset:0' }, cursor: { anchor: null, head: null } },
  { user: { name: 'Eve', color: '#ff0000' }, cursor: { anchor: null } },
  { user: { name: '<img src=x onerror="document.title=1">', color: 'red;background:url(//x)' } },
];

function craftedAwarenessFrame(clock: number): Uint8Array {
  return encode({
    type: 'awareness',
    update: encodeAwarenessUpdate(CRAFTED_STATES.map((state, index) => ({ clientId: 90_000 + index, clock, state }))),
  });
}

/** Page errors from here on, and a check that nothing on the page is positioned by a remote state. */
function watchPage(page: Page): { errors: string[] } {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { errors };
}

async function expectNoOverlay(page: Page): Promise<void> {
  expect(await page.locator('[style*="fixed"], [style*="inset"], [style*="url("]').count()).toBe(0);
  // Every caret on the page is drawn in a plain colour, nothing else.
  const caretStyles = await page.locator('.collaboration-carets__caret, .collaboration-carets__label').evaluateAll((elements) =>
    elements.map((element) => element.getAttribute('style') ?? ''),
  );
  for (const style of caretStyles) expect(style).toMatch(/^(border-color|background-color): rgb\(\d+, \d+, \d+\);$/);
  expect(await page.title()).not.toBe('1');
}

/** The owner types; the editor's page must show it. */
async function expectEditsStillShow(owner: Person, editor: Person, text: string): Promise<void> {
  await owner.page.getByLabel('Document body').click();
  await owner.page.keyboard.press('End');
  await owner.page.keyboard.type(text);
  await expect.poll(() => bodyText(editor)).toContain(text);
}

async function openTwo(browser: Parameters<typeof newPerson>[0], baseUrl: string, doc: SharedDoc): Promise<[Person, Person]> {
  const owner = await newPerson(browser, 'Olivia', '#d9480f');
  const editor = await newPerson(browser, 'Edgar', '#2b8a3e');
  await openDocument(owner, baseUrl, doc, 'owner');
  await openDocument(editor, baseUrl, doc, 'editor');
  await owner.page.getByLabel('Document body').click();
  await owner.page.keyboard.type('Start.');
  await expect.poll(() => bodyText(editor)).toBe('Start.');
  return [owner, editor];
}

test('[P6b] crafted cursors sent to the relay reach no page; everyone keeps seeing edits', async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const [owner, editor] = await openTwo(browser, app.baseUrl, doc);
  const watched = [watchPage(owner.page), watchPage(editor.page)];
  const attacker = new WebSocket(`ws://127.0.0.1:${app.port}/collab/${doc.docId}`, socketProtocolsFor(doc.viewerToken), {
    origin: app.baseUrl,
  });
  await new Promise((resolve, reject) => {
    attacker.once('open', resolve);
    attacker.once('error', reject);
  });
  attacker.send(craftedAwarenessFrame(1));
  await expectEditsStillShow(owner, editor, ' After the attack.');
  attacker.send(craftedAwarenessFrame(2));
  await expectEditsStillShow(editor, owner, ' And back.');
  for (const { errors } of watched) expect(errors).toEqual([]);
  for (const person of [owner, editor]) await expectNoOverlay(person.page);
  await expect(editor.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');
  attacker.terminate();
  for (const person of [owner, editor]) await person.context.close();
});

test('the page itself drops crafted cursors that did not come through the relay', async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const [owner, editor] = await openTwo(browser, app.baseUrl, doc);
  const watched = watchPage(editor.page);
  // Another tab of the editor's browser, talking to the editor's page over the channel
  // same-browser tabs of one document share, which no relay stands between.
  const otherTab = await editor.context.newPage();
  await otherTab.goto(app.baseUrl);
  const channel = `ws://127.0.0.1:${app.port}/collab/${doc.docId}`;
  for (const clock of [1, 2]) {
    await otherTab.evaluate(([name, frame]) => new BroadcastChannel(name).postMessage(new Uint8Array(frame).buffer), [channel, [...craftedAwarenessFrame(clock)]] as const);
  }
  await expectEditsStillShow(owner, editor, ' Still here.');
  expect(watched.errors).toEqual([]);
  await expectNoOverlay(editor.page);
  // The crafted people are not listed as present either.
  await expect(editor.page.getByTestId('avatars').getByRole('listitem')).toHaveCount(2);
  for (const person of [owner, editor]) await person.context.close();
});
