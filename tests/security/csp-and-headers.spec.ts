/**
 * Attacks on the pages: script injection (XSS), framing (clickjacking), MIME sniffing and
 * referrer leaks. Each test names the rule of lib/security-headers.ts it checks.
 */
import { createDoc, expect, newPerson, openDocument, test, type Person } from '../e2e/fixtures';
import { VIOLATION_EVENT_PREFIX } from '../helpers/csp-violations';

declare global {
  interface Window {
    /** Names of the test scripts that actually ran. */
    inkwellTestRan?: string[];
    /** Directives of the violations this page reported. */
    inkwellTestViolations?: string[];
  }
}

const BASE_HEADERS = {
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
} as const;
const API_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** A CSP header as directive name → its sources. */
function parsePolicy(policy: string | null | undefined): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const directive of (policy ?? '').split(';')) {
    const [name, ...sources] = directive.trim().split(/\s+/);
    if (name) directives.set(name, sources);
  }
  return directives;
}

function nonceOf(policy: string | null | undefined): string {
  const nonce = /'nonce-([^']+)'/.exec(policy ?? '')?.[1];
  if (!nonce) throw new Error(`no nonce in ${policy}`);
  return nonce;
}

async function fetchPage(url: string): Promise<{ status: number; headers: Headers; html: string }> {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, html: await response.text() };
}

function expectBaseHeaders(headers: Headers, what: string): void {
  for (const [name, value] of Object.entries(BASE_HEADERS)) expect(headers.get(name), `${name} of ${what}`).toBe(value);
  const permissions = headers.get('permissions-policy') ?? '';
  for (const denied of ['camera=()', 'microphone=()', 'geolocation=()', 'payment=()', 'usb=()', 'clipboard-read=()']) {
    expect(permissions, `Permissions-Policy of ${what}`).toContain(denied);
  }
  expect(permissions, `Permissions-Policy of ${what}`).toContain('clipboard-write=(self)');
}

/** Starts recording, in the page, the directives of the violations it reports and the test scripts that run. */
async function recordInPage(person: Person): Promise<void> {
  await person.page.evaluate(() => {
    window.inkwellTestRan = [];
    window.inkwellTestViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => window.inkwellTestViolations?.push(event.effectiveDirective));
  });
}

/** Adds a script element that records `name` when it runs, carrying `nonce` if given. */
function addScriptElement(person: Person, name: string, nonce: string | null): Promise<void> {
  return person.page.evaluate(
    ([scriptName, scriptNonce]) => {
      const script = document.createElement('script');
      if (scriptNonce !== null) script.nonce = scriptNonce;
      script.textContent = `window.inkwellTestRan.push(${JSON.stringify(scriptName)})`;
      document.body.append(script);
    },
    [name, nonce] as const,
  );
}

async function violationsInPage(person: Person, count: number): Promise<string[]> {
  await person.page.waitForFunction((expected) => (window.inkwellTestViolations?.length ?? 0) >= expected, count);
  return person.page.evaluate(() => window.inkwellTestViolations ?? []);
}

test('[C1] the home and document pages carry a CSP with a nonce new on every response, on each of their scripts', async ({ app }) => {
  const doc = await createDoc(app.baseUrl);
  for (const path of ['/', `/d/${doc.docId}`]) {
    const first = await fetchPage(`${app.baseUrl}${path}`);
    const second = await fetchPage(`${app.baseUrl}${path}`);
    expect(first.status).toBe(200);
    const policy = first.headers.get('content-security-policy');
    const nonce = nonceOf(policy);
    expect(nonceOf(second.headers.get('content-security-policy'))).not.toBe(nonce);
    expect(nonce.length).toBeGreaterThanOrEqual(22);

    const directives = parsePolicy(policy);
    expect(directives.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'self'"]);
    for (const name of ['img-src', 'font-src', 'worker-src', 'manifest-src']) expect(directives.get(name), name).toEqual(["'self'"]);
    expect(policy).not.toContain('unsafe-eval');
    expect(directives.get('style-src')).not.toContain("'unsafe-inline'");
    expectBaseHeaders(first.headers, path);

    const scripts = [...first.html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) expect(script).toContain(`nonce="${nonce}"`);
  }
});

test('[H1][H2] static files, the service worker and 404s carry the base headers; the relay endpoints also the API policy', async ({ app }) => {
  const home = await fetchPage(`${app.baseUrl}/`);
  const asset = /<script src="(\/_next\/static\/[^"]+\.js)"/.exec(home.html)?.[1];
  expect(asset).toBeDefined();
  for (const path of [asset ?? '', '/sw.js']) {
    const response = await fetch(`${app.baseUrl}${path}`);
    expect(response.status, path).toBe(200);
    expectBaseHeaders(response.headers, path);
  }
  for (const path of ['/no-such-page', '/d/not.a.doc.id']) {
    const response = await fetch(`${app.baseUrl}${path}`);
    expect(response.status, path).toBe(404);
    expectBaseHeaders(response.headers, path);
    // A 404 is an HTML page too, with scripts that need the nonce.
    const policy = response.headers.get('content-security-policy');
    expect(policy, path).toMatch(/script-src 'self' 'nonce-[^']+'/);
    expect(parsePolicy(policy).get('frame-ancestors'), path).toEqual(["'none'"]);
  }
  // Answered by the relay inside app-main, before Next.js sees the request.
  const endpoints: [string, RequestInit, number][] = [
    ['/healthz', {}, 200],
    ['/collab/api/documents', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }, 201],
    ['/collab/api/links', {}, 405],
  ];
  for (const [path, init, status] of endpoints) {
    const response = await fetch(`${app.baseUrl}${path}`, init);
    expect(response.status, path).toBe(status);
    expectBaseHeaders(response.headers, path);
    expect(response.headers.get('content-security-policy'), path).toBe(API_POLICY);
  }
});

test('[H1] the browser accepts the Permissions-Policy without errors and denies what it lists', async ({ browser, app }) => {
  const person = await newPerson(browser, 'Pat', '#1971c2');
  const messages: string[] = [];
  person.page.on('console', (message) => messages.push(message.text()));
  await person.page.goto(app.baseUrl);
  await expect(person.page.getByRole('button', { name: 'New document' })).toBeEnabled();
  expect(messages.filter((text) => /Permissions-Policy|Permissions Policy/i.test(text))).toEqual([]);
  await expect(person.page.evaluate(() => navigator.clipboard.readText())).rejects.toThrow(/permissions policy/i);
  await person.context.close();
});

test.describe('attacks that the browser must block and report', () => {
  // These tests provoke violations on purpose and assert them; the watch must not fail them.
  test.use({ allowCspViolations: true });

  test('[C2] injected inline scripts, inline handlers and stale nonces do not run, and the fixture sees the violations', async ({
    browser,
    app,
    cspViolations,
  }) => {
    const doc = await createDoc(app.baseUrl);
    const mallory = await newPerson(browser, 'Mallory', '#e03131');
    await openDocument(mallory, app.baseUrl, doc);
    await recordInPage(mallory);

    // Control: a script with this page's own nonce runs, so a script that does not run was blocked by the CSP.
    const pageNonce = await mallory.page.evaluate(() => document.querySelector<HTMLScriptElement>('script[nonce]')?.nonce ?? null);
    expect(pageNonce).toBeTruthy();
    await addScriptElement(mallory, 'own-nonce', pageNonce);
    await expect.poll(() => mallory.page.evaluate(() => window.inkwellTestRan)).toEqual(['own-nonce']);

    await expect(mallory.page.addScriptTag({ content: "window.inkwellTestRan.push('inline')" })).rejects.toThrow(/Content Security Policy/);
    await mallory.page.evaluate(() =>
      document.body.insertAdjacentHTML('beforeend', `<img alt="" src="/no-such-image.png" onerror="window.inkwellTestRan.push('handler')">`),
    );
    // A nonce from another response of the same page is worth nothing here.
    const staleNonce = nonceOf((await fetchPage(`${app.baseUrl}/d/${doc.docId}`)).headers.get('content-security-policy'));
    await addScriptElement(mallory, 'stale-nonce', staleNonce);

    expect((await violationsInPage(mallory, 3)).sort()).toEqual(['script-src-attr', 'script-src-elem', 'script-src-elem']);
    expect(await mallory.page.evaluate(() => window.inkwellTestRan)).toEqual(['own-nonce']);
    // Both channels of the watch saw them: the page's events and Chromium's own console reports.
    expect(cspViolations.filter((text) => text.includes(VIOLATION_EVENT_PREFIX))).toHaveLength(3);
    expect(cspViolations.filter((text) => !text.includes(VIOLATION_EVENT_PREFIX)).length).toBeGreaterThanOrEqual(3);
    await mallory.context.close();
  });

  test('[C3] another page cannot frame the app', async ({ browser, app, cspViolations }) => {
    const eve = await newPerson(browser, 'Eve', '#5f3dc4');
    await eve.page.setContent(`<iframe title="framed app" src="${app.baseUrl}/"></iframe>`);
    await expect.poll(() => cspViolations.join('\n')).toContain("frame-ancestors 'none'");
    await expect(eve.page.frameLocator('iframe').getByRole('button', { name: 'New document' })).toHaveCount(0);
    await eve.context.close();
  });

  test('[C4] a document served offline from the service worker cache is still under its CSP', async ({ browser, app }) => {
    const doc = await createDoc(app.baseUrl);
    const walker = await newPerson(browser, 'Walker', '#2b8a3e');
    await openDocument(walker, app.baseUrl, doc);
    await expect
      .poll(() => walker.page.evaluate(async () => (await caches.open('inkwell-pages')).keys().then((keys) => keys.length)))
      .toBeGreaterThan(0);

    await walker.context.setOffline(true);
    const response = await walker.page.reload();
    expect(response?.fromServiceWorker()).toBe(true);
    const policy = (await response?.allHeaders())?.['content-security-policy'];
    const nonce = nonceOf(policy);
    expect(parsePolicy(policy).get('frame-ancestors')).toEqual(["'none'"]);
    // The cached copy's scripts carry the nonce of the cached headers, so the app runs.
    await expect(walker.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'offline');
    expect(new Set(await walker.page.evaluate(() => [...document.querySelectorAll<HTMLScriptElement>('script[nonce]')].map((script) => script.nonce)))).toEqual(
      new Set([nonce]),
    );

    await recordInPage(walker);
    await expect(walker.page.addScriptTag({ content: "window.inkwellTestRan.push('inline')" })).rejects.toThrow(/Content Security Policy/);
    expect(await violationsInPage(walker, 1)).toEqual(['script-src-elem']);
    expect(await walker.page.evaluate(() => window.inkwellTestRan)).toEqual([]);
    await walker.context.close();
  });
});

test('[C2] the fixture fails a test whose page reports a CSP violation', async ({ browser, app, cspViolations }) => {
  test.fail(true, 'expected: the CSP watch fails this test after its body, because the page ran into the CSP');
  const person = await newPerson(browser, 'Vic', '#0c8599');
  await person.page.goto(app.baseUrl);
  await expect(person.page.getByRole('button', { name: 'New document' })).toBeEnabled();
  await expect(person.page.addScriptTag({ content: 'document.title = "injected"' })).rejects.toThrow(/Content Security Policy/);
  await expect.poll(() => cspViolations.length).toBeGreaterThan(0);
  await person.context.close();
});
