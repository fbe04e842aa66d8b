/** Share links with roles: the viewer sees live edits and the relay refuses its changes; a reset ends old links. */
import * as Y from 'yjs';

import { DENIAL_CODES, decode, denialCodeOf, encode, socketProtocolsFor, type Message } from '../../lib/protocol';
import { bodyText, expect, newPerson, test, type Person } from './fixtures';

/**
 * Sends, from `person`'s page, a change adding a paragraph of `text` over a socket opened with
 * `link`'s token as the app opens its own, and resolves with the relay's auth answer. The editor
 * never lets a viewer send one: this is what a page that bypassed it would meet.
 */
async function sendChangeWithLink(person: Person, link: string, text: string): Promise<Message> {
  const url = new URL(link);
  const docId = url.pathname.slice('/d/'.length);
  const token = new URLSearchParams(url.hash.slice(1)).get('k') ?? '';
  const probe = new Y.Doc();
  const paragraph = new Y.XmlElement('paragraph');
  paragraph.insert(0, [new Y.XmlText(text)]);
  // The fragment the editor binds (DocumentEditor's Collaboration field): applied, it would show.
  probe.getXmlFragment('content').insert(0, [paragraph]);
  const frame = [...encode({ type: 'update', update: Y.encodeStateAsUpdate(probe) })];
  const answer = await person.page.evaluate(
    ({ relayUrl, protocols, frame }) =>
      new Promise<number[]>((resolve, reject) => {
        const socket = new WebSocket(relayUrl, protocols);
        socket.binaryType = 'arraybuffer';
        socket.onerror = () => reject(new Error('the probe socket failed'));
        socket.onclose = (event) => reject(new Error(`the probe socket closed with ${event.code} before an answer`));
        socket.onopen = () => socket.send(new Uint8Array(frame));
        socket.onmessage = (event: MessageEvent<ArrayBuffer>) => {
          const bytes = new Uint8Array(event.data);
          // Tag 2 is auth (y-protocols): the relay's answer to a refused change.
          if (bytes[0] !== 2) return;
          socket.onclose = null;
          socket.close();
          resolve([...bytes]);
        };
      }),
    { relayUrl: `${url.origin.replace(/^http/, 'ws')}/collab/${docId}`, protocols: socketProtocolsFor(token), frame },
  );
  return decode(Uint8Array.from(answer));
}

test('[P10a] the creator shares the viewer link; the viewer sees edits live, the relay refuses its changes, and the reset ends the link', async ({ browser, app }) => {
  const owner = await newPerson(browser, 'Olivia Owner', '#d9480f');
  await owner.page.goto(app.baseUrl);
  await owner.page.getByRole('button', { name: 'New document' }).click();
  await expect(owner.page).toHaveURL(/\/d\/[A-Za-z0-9_-]{22}#k=v1\./);
  await expect(owner.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');
  await owner.page.getByLabel('Document body').click();
  await owner.page.keyboard.type('Owner text.');

  await owner.page.getByRole('button', { name: 'Share' }).click();
  const dialog = owner.page.getByRole('dialog', { name: 'Share this document' });
  const viewerLink = await dialog.getByRole('textbox', { name: 'Viewer link' }).inputValue();
  expect(viewerLink).not.toBe(await dialog.getByRole('textbox', { name: 'Editor link' }).inputValue());

  const viewer = await newPerson(browser, 'Victor Viewer', '#1971c2');
  await viewer.page.goto(viewerLink);
  await expect(viewer.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');
  await expect(viewer.page.getByTestId('view-only')).toHaveText('View only');
  await expect.poll(() => bodyText(viewer)).toBe('Owner text.');
  await expect(viewer.page.getByLabel('Document body')).toHaveAttribute('contenteditable', 'false');
  await expect(viewer.page.getByRole('toolbar', { name: 'Formatting' })).toHaveCount(0);
  await expect(viewer.page.getByLabel('Document title')).toHaveAttribute('readonly', '');

  // Live edits reach the viewer; the viewer's typing goes nowhere.
  await owner.page.getByLabel('Document body').click();
  await owner.page.keyboard.press('End');
  await owner.page.keyboard.type(' More.');
  await expect.poll(() => bodyText(viewer)).toBe('Owner text. More.');
  await viewer.page.getByLabel('Document body').click();
  await viewer.page.keyboard.type('viewer typing');
  await expect.poll(() => bodyText(viewer)).toBe('Owner text. More.');
  expect(await bodyText(owner)).toBe('Owner text. More.');
  // The relay itself refuses a change made with the viewer link, whatever the page does.
  const answer = await sendChangeWithLink(viewer, viewerLink, 'Viewer was here.');
  expect(answer.type).toBe('permission-denied');
  expect(answer.type === 'permission-denied' && denialCodeOf(answer.reason)).toBe(DENIAL_CODES.readOnly);
  // Others see the viewer marked as a viewer.
  await expect(owner.page.getByTestId('avatars').getByLabel('Victor Viewer · viewer')).toBeVisible();

  owner.page.once('dialog', (confirm) => void confirm.accept());
  await dialog.getByRole('button', { name: 'Reset links' }).click();
  await expect(owner.page.getByText('Links reset: only the new links work now')).toBeVisible();
  await expect(viewer.page.getByTestId('access-message')).toHaveText('This link was reset; ask the owner for a new one.');
  // The owner carries on with the new editor link.
  await expect(owner.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');
  await owner.page.getByLabel('Document body').click();
  await owner.page.keyboard.press('End');
  await owner.page.keyboard.type(' After reset.');
  await expect(owner.page.getByTestId('save-status')).toHaveText('All changes saved');
  // Had the relay taken the viewer's change, the owner would have it by now: the relay would have
  // forwarded it before its answer to the viewer, on the owner's socket, ahead of the reset's close.
  expect(await bodyText(owner)).toBe('Owner text. More. After reset.');

  // Opening the old viewer link afresh explains itself too.
  const late = await newPerson(browser, 'Late', '#2b8a3e');
  await late.page.goto(viewerLink);
  await expect(late.page.getByTestId('access-message')).toHaveText('This link was reset; ask the owner for a new one.');
  const newViewerLink = await dialog.getByRole('textbox', { name: 'Viewer link' }).inputValue();
  expect(newViewerLink).not.toBe(viewerLink);
  await late.page.goto(newViewerLink);
  await late.page.reload();
  // Loaded from the relay's storage: the viewer's change was never stored.
  await expect.poll(() => bodyText(late)).toBe('Owner text. More. After reset.');
  for (const person of [owner, viewer, late]) await person.context.close();
});

test('a link for one document does not open another', async ({ browser, app }) => {
  const person = await newPerson(browser, 'Paul', '#9c36b5');
  const response = await fetch(`${app.baseUrl}/collab/api/documents`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  const { token } = (await response.json()) as { token: string };
  await person.page.goto(`${app.baseUrl}/d/SomeOtherDocument#k=${token}`);
  await expect(person.page.getByTestId('access-message')).toHaveText('This link does not open this document. Check that you copied all of it.');
  await person.page.goto(`${app.baseUrl}/d/NoLinkAtAll`);
  await expect(person.page.getByTestId('access-message')).toContainText('needs its share link');
  await person.context.close();

});
