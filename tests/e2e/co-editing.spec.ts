/** Two and three people in one document: typing, formatting, carets, presence, titles, undo. */
import { bodyText, createDoc, expect, linkOf, newPerson, openDocument, test } from './fixtures';

test('typing and formatting converge, with named carets and an avatar stack', async ({ browser, app }, testInfo) => {
  const doc = await createDoc(app.baseUrl);
  const alice = await newPerson(browser, 'Alice Liddell', '#d9480f');
  const bob = await newPerson(browser, 'Bob Marley', '#1971c2');
  await openDocument(alice, app.baseUrl, doc);
  await openDocument(bob, app.baseUrl, doc);

  await alice.page.getByLabel('Document body').click();
  await alice.page.keyboard.type('Hello from Alice. ');
  await alice.page.keyboard.press('Control+b');
  await alice.page.keyboard.type('Bold words');
  await alice.page.keyboard.press('Control+b');
  await expect(alice.page.getByRole('button', { name: 'Bold' })).toHaveAttribute('aria-pressed', 'false');
  await expect.poll(() => bodyText(bob)).toContain('Hello from Alice. Bold words');
  await expect(bob.page.locator('.prose strong')).toHaveText('Bold words');

  await bob.page.getByLabel('Document body').click();
  await bob.page.keyboard.press('Control+End');
  await bob.page.keyboard.press('Enter');
  await bob.page.keyboard.type('And Bob writes too.');
  await expect.poll(() => bodyText(alice)).toContain('And Bob writes too.');
  expect(await bodyText(alice)).toBe(await bodyText(bob));

  // Carets with names, and the avatar stack.
  await expect(alice.page.locator('.collaboration-carets__label', { hasText: 'Bob Marley' })).toBeVisible();
  await expect(bob.page.locator('.collaboration-carets__label', { hasText: 'Alice Liddell' })).toBeVisible();
  await expect(alice.page.getByTestId('avatars').locator('li')).toHaveCount(2);
  await expect(alice.page.getByTestId('avatars').getByLabel('Alice Liddell (you)')).toBeVisible();

  await testInfo.attach('two-person-session', { body: await alice.page.screenshot(), contentType: 'image/png' });
  await alice.page.screenshot({ path: testInfo.outputPath('two-person-session.png') });

  // Bob leaves: his caret and avatar disappear within 2 s.
  await bob.context.close();
  await expect(alice.page.locator('.collaboration-carets__label', { hasText: 'Bob Marley' })).toHaveCount(0, { timeout: 2_000 });
  await expect(alice.page.getByTestId('avatars').locator('li')).toHaveCount(1, { timeout: 2_000 });
  await alice.context.close();
});

test('three people: presence counts, title renames propagate, undo is per person', async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const people = [
    await newPerson(browser, 'Ann', '#2b8a3e'),
    await newPerson(browser, 'Ben', '#9c36b5'),
    await newPerson(browser, 'Cat', '#0c8599'),
  ] as const;
  for (const person of people) await openDocument(person, app.baseUrl, doc);
  for (const person of people) await expect(person.page.getByTestId('avatars').locator('li')).toHaveCount(3);

  const [ann, ben, cat] = people;
  await ann.page.getByLabel('Document title').fill('Quarterly plan');
  for (const person of people) await expect(person.page.getByLabel('Document title')).toHaveValue('Quarterly plan');
  await expect(cat.page).toHaveTitle(/Quarterly plan/);

  await ann.page.getByLabel('Document body').click();
  await ann.page.keyboard.type('Ann line');
  await expect.poll(() => bodyText(ben)).toContain('Ann line');
  await ben.page.getByLabel('Document body').click();
  await ben.page.keyboard.press('Control+End');
  await ben.page.keyboard.press('Enter');
  await ben.page.keyboard.type('Ben line');
  await expect.poll(() => bodyText(ann)).toContain('Ben line');

  // Ann undoes: only her own text goes; Ben's stays everywhere.
  await ann.page.getByLabel('Document body').click();
  await ann.page.getByRole('button', { name: 'Undo' }).click();
  for (const person of people) {
    await expect.poll(() => bodyText(person)).not.toContain('Ann line');
    await expect.poll(() => bodyText(person)).toContain('Ben line');
  }
  for (const person of people) await person.context.close();
});
