/**
 * Attack: read share-link tokens out of access logs. Proxies and servers log
 * request lines; a token in a URL would land there, and work for anyone who
 * reads the log. Rule (SPEC P1a): the app never puts a token in a URL: links
 * carry it in the fragment (never sent), the links API in request bodies, and
 * the socket in the Sec-WebSocket-Protocol header. The app runs with its access
 * log on (COLLAB_LOG_REQUESTS=1) in every browser test, and a fixture fails any
 * test after which a token shows up in its logs; this journey also checks that
 * the log holds the request lines a proxy would have logged.
 */
import { findTokens } from '../helpers/token-leaks';
import { createDoc, expect, linkOf, newPerson, openDocument, test } from '../e2e/fixtures';

test('[P1a] opening, sharing, viewing and resetting leave request lines without a token', async ({ browser, app }) => {
  const logStart = app.output.length;
  const doc = await createDoc(app.baseUrl);
  const owner = await newPerson(browser, 'Olivia', '#d9480f');
  const viewer = await newPerson(browser, 'Victor', '#1971c2');
  await openDocument(owner, app.baseUrl, doc, 'owner');
  await owner.page.getByLabel('Document body').click();
  await owner.page.keyboard.type('Logged, but not the link.');
  await expect(owner.page.getByTestId('save-status')).toHaveText('All changes saved');
  await openDocument(viewer, app.baseUrl, doc, 'viewer');
  await owner.page.getByRole('button', { name: 'Share' }).click();
  await expect(owner.page.getByRole('textbox', { name: 'Viewer link' })).toHaveValue(/#k=v1\./);
  owner.page.once('dialog', (confirm) => void confirm.accept());
  await owner.page.getByRole('button', { name: 'Reset links' }).click();
  await expect(viewer.page.getByTestId('access-message')).toBeVisible();
  await expect(owner.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');

  const log = app.output.slice(logStart).join('');
  const requestLines = log
    .split('\n')
    .filter((line) => line.includes('"log":"access"'))
    .map((line) => JSON.parse(line) as { method: string; url: string });
  // What a proxy in front would have logged: the pages, the sockets, the API calls.
  expect(requestLines).toContainEqual(expect.objectContaining({ method: 'GET', url: `/d/${doc.docId}` }));
  expect(requestLines).toContainEqual(expect.objectContaining({ method: 'GET', url: expect.stringMatching(new RegExp(`^/collab/${doc.docId}\\?`)) }));
  expect(requestLines).toContainEqual(expect.objectContaining({ method: 'POST', url: '/collab/api/links/reset' }));
  expect(findTokens(log)).toEqual([]);
  for (const token of [doc.ownerToken, doc.editorToken, doc.viewerToken]) expect(log).not.toContain(token.split('.')[2]);
  await owner.context.close();
  await viewer.context.close();
});

test('a link opened in the address bar sends nothing of its token with the page request', async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const person = await newPerson(browser, 'Paula', '#2b8a3e');
  const requested: string[] = [];
  person.page.on('request', (request) => requested.push(request.url()));
  const sockets: string[] = [];
  person.page.on('websocket', (socket) => sockets.push(socket.url()));
  await person.page.goto(linkOf(app.baseUrl, doc, 'editor'));
  await expect(person.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');
  expect(sockets.length).toBeGreaterThan(0);
  for (const url of [...requested, ...sockets]) expect(findTokens(url.split('#')[0] ?? url)).toEqual([]);
  await person.context.close();
});
