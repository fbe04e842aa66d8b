/**
 * Browser flap (issue 13 §3.2): two people type into one document in Chromium
 * on the real app while the network of one of them (Bob) keeps failing and
 * returning every few seconds, in the three ways a network fails: the browser
 * goes offline (the page hears of it), the path is cut (sockets reset, the page
 * only sees its WebSocket drop), or the path stalls (nothing arrives, nothing
 * is reset, and edits sent into it may be lost in flight). See flaky-link.ts.
 *
 * At the end, with the network back: both editors show the same text; after
 * the relay is killed (-9) and restarted, a fresh load shows that text too;
 * every token each person typed is in it exactly once, in their paragraph, in
 * typing order. A duplicated insert after a reconnect, a lost edit or a
 * "saved" that was not on disk fails it.
 *
 * The same run serves the Playwright spec (CI, about 20 s of typing, with the
 * test runner's browser) and the campaign below (60 s, launching Chromium
 * itself): one function, so the spec cannot drift from what `npm run chaos` runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium, type Browser, type Page } from '@playwright/test';

import { startApp, type AppProcess } from '../tests/helpers/app-process';
import { assertNever } from '../lib/protocol/codec';
import { CHROMIUM_ARGS, chromiumExecutablePath } from '../tests/helpers/chromium';
import { bodyText, createDoc, linkOf, newPerson, paragraphTexts, type Person, type SharedDoc } from '../tests/e2e/fixtures';
import type { Campaign, CampaignReport, ChaosScale } from './campaign';
import { openFlakyLink, type FlakyLink } from './flaky-link';
import { chooseSeed, SeededRandom } from './random';
import { findTokenFailures } from './token-ledger';

/** Typing time per scale. */
export const FLAP_DURATION_MS = { ci: 12_000, long: 60_000 } as const satisfies Record<ChaosScale, number>;

/** How long the network stays up, then down, between failures (drawn uniformly). */
const UP_MS = { min: 1_000, max: 4_000 };
// Up to 4 s: past the relay's heartbeat in the test app (1 s pings, two missed), so some stalls end in a dead socket.
const DOWN_MS = { min: 500, max: 4_000 };
/** Each person types a token, then pauses, like someone writing word by word. */
const KEY_DELAY_MS = 20;
const WORD_PAUSE_MS = { min: 100, max: 400 };
/**
 * Bound on coming back once the network has returned: Bob's session waits out its
 * backoff (full jitter, up to 30 s) when nothing told the page the network returned.
 */
const RECOVERY_TIMEOUT_MS = 45_000;

/** The ways Bob's network fails. */
const FAILURE_MODES = ['offline', 'cut', 'stall'] as const;
type FailureMode = (typeof FAILURE_MODES)[number];

/** Options of one run. */
export interface BrowserFlapOptions {
  readonly browser: Browser;
  readonly durationMs: number;
  /** Seeds the flap schedule and the typing pauses; reported, so a failing run can be replayed (CHAOS_SEED). */
  readonly seed: number;
}

/** The two people, Bob behind the flaky link, and their document. */
interface Cast {
  readonly doc: SharedDoc;
  readonly alice: Person;
  readonly bob: Person;
  readonly link: FlakyLink;
}

/** `step`, with a failure that says which step of the scenario failed. */
async function nameFailure<T>(what: string, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    throw new Error(`${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

/** Resolves once the page is live and shows all its changes saved (the relay's acknowledgement, not a timer). */
async function waitUntilLive(person: Person, timeoutMs: number): Promise<void> {
  const { page } = person;
  await page.getByTestId('connection-status').and(page.locator('[data-state="live"]')).waitFor({ timeout: timeoutMs });
  await page.getByTestId('save-status').and(page.locator('[data-state="saved"]')).waitFor({ timeout: timeoutMs });
}

/** Resolves once the editor's text holds `text`. */
async function waitForText(page: Page, options: { text: string; timeoutMs: number }): Promise<void> {
  await page.waitForFunction((text) => document.querySelector('[aria-label="Document body"]')?.textContent?.includes(text) ?? false, options.text, {
    timeout: options.timeoutMs,
  });
}

/** Types ` <prefix>0001`, ` <prefix>0002`, … at the caret until `endAt`; returns the tokens typed. */
async function typeTokens(person: Person, options: { prefix: string; endAt: number; random: SeededRandom }): Promise<string[]> {
  const tokens: string[] = [];
  while (Date.now() < options.endAt) {
    const token = `${options.prefix}${String(tokens.length + 1).padStart(4, '0')}`;
    await person.page.keyboard.type(` ${token}`, { delay: KEY_DELAY_MS });
    tokens.push(token);
    await delay(options.random.integer(WORD_PAUSE_MS.min, WORD_PAUSE_MS.max));
  }
  return tokens;
}

/** Breaks Bob's network in the way `mode` names. */
async function breakNetwork(cast: Cast, mode: FailureMode): Promise<void> {
  switch (mode) {
    case 'offline':
      return cast.bob.context.setOffline(true);
    case 'cut':
      return cast.link.cut();
    case 'stall':
      return cast.link.stall();
    default:
      assertNever(mode);
  }
}

/** Undoes `breakNetwork(cast, mode)`. */
async function restoreNetwork(cast: Cast, mode: FailureMode): Promise<void> {
  switch (mode) {
    case 'offline':
      return cast.bob.context.setOffline(false);
    case 'cut':
    case 'stall':
      return cast.link.restore();
    default:
      assertNever(mode);
  }
}

/** Breaks and restores Bob's network until `endAt`; returns how often each way. */
async function flapNetwork(cast: Cast, options: { endAt: number; random: SeededRandom }): Promise<Record<FailureMode, number>> {
  const { endAt, random } = options;
  const failures: Record<FailureMode, number> = { offline: 0, cut: 0, stall: 0 };
  const wait = (range: { min: number; max: number }): Promise<void> => delay(Math.max(0, Math.min(random.integer(range.min, range.max), endAt - Date.now())));
  // In turn from a random start, so even a short run meets every way of failing.
  let turn = random.integer(0, FAILURE_MODES.length - 1);
  await wait(UP_MS);
  while (Date.now() < endAt) {
    const mode = FAILURE_MODES[turn++ % FAILURE_MODES.length]!;
    await breakNetwork(cast, mode);
    failures[mode] += 1;
    await wait(DOWN_MS);
    await restoreNetwork(cast, mode);
    await wait(UP_MS);
  }
  return failures;
}

/** Opens the document as Alice (direct) and Bob (through `link`), each with a paragraph of their own, carets at its end. */
async function openCast(options: { browser: Browser; app: AppProcess; link: FlakyLink }): Promise<Cast> {
  const { browser, app, link } = options;
  const doc = await createDoc(app.baseUrl);
  const alice = await newPerson(browser, 'Alice', '#d9480f');
  const bob = await newPerson(browser, 'Bob', '#1971c2');
  await alice.page.goto(linkOf(app.baseUrl, doc));
  await bob.page.goto(linkOf(`http://127.0.0.1:${link.port}`, doc));
  for (const person of [alice, bob]) await waitUntilLive(person, RECOVERY_TIMEOUT_MS);
  await alice.page.getByLabel('Document body').click();
  await alice.page.keyboard.type('A:');
  await alice.page.keyboard.press('Enter');
  await alice.page.keyboard.type('B:');
  await alice.page.keyboard.press('ArrowUp');
  await alice.page.keyboard.press('End');
  await waitForText(bob.page, { text: 'B:', timeoutMs: RECOVERY_TIMEOUT_MS });
  await bob.page.getByLabel('Document body').click();
  await bob.page.keyboard.press('Control+End');
  return { doc, alice, bob, link };
}

/** What a fresh load shows after the relay is killed (-9) and started again on its data dir. */
async function readAfterCrash(options: { browser: Browser; app: AppProcess; dataDir: string; doc: SharedDoc }): Promise<{ text: string; paragraphs: string[] }> {
  options.app.child.kill('SIGKILL');
  await options.app.exited;
  const restarted = await startApp({ dataDir: options.dataDir });
  try {
    const carol = await newPerson(options.browser, 'Carol', '#2b8a3e');
    await carol.page.goto(linkOf(restarted.baseUrl, options.doc));
    await waitUntilLive(carol, RECOVERY_TIMEOUT_MS);
    const result = { text: await bodyText(carol), paragraphs: await paragraphTexts(carol) };
    await carol.context.close();
    return result;
  } finally {
    await restarted.stop();
  }
}

/** Runs the scenario once; the report lists every way the end state is wrong. */
export async function runBrowserFlap(options: BrowserFlapOptions): Promise<CampaignReport> {
  const { browser, durationMs, seed } = options;
  const random = new SeededRandom(seed);
  const figures: Record<string, number | string> = { seed, typingSeconds: durationMs / 1000 };
  const failures: string[] = [];
  const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-chaos-flap-'));
  const app = await startApp({ dataDir });
  const link = await openFlakyLink(app.port);
  let cast: Cast | null = null;
  try {
    cast = await openCast({ browser, app, link });
    const endAt = Date.now() + durationMs;
    const [aliceTokens, bobTokens, flaps] = await Promise.all([
      typeTokens(cast.alice, { prefix: 'A', endAt, random: new SeededRandom(seed + 1) }),
      typeTokens(cast.bob, { prefix: 'B', endAt, random: new SeededRandom(seed + 2) }),
      flapNetwork(cast, { endAt, random }),
    ]);
    // Whatever the last failure was, the network is back now.
    await restoreNetwork(cast, 'offline');
    await restoreNetwork(cast, 'cut');
    const restoredAt = Date.now();
    await nameFailure('Alice live with all changes saved once the network is back', waitUntilLive(cast.alice, RECOVERY_TIMEOUT_MS));
    await nameFailure('Bob live with all changes saved once the network is back', waitUntilLive(cast.bob, RECOVERY_TIMEOUT_MS));
    await nameFailure("Alice receiving Bob's last token", waitForText(cast.alice.page, { text: bobTokens.at(-1) ?? 'B:', timeoutMs: RECOVERY_TIMEOUT_MS }));
    await nameFailure("Bob receiving Alice's last token", waitForText(cast.bob.page, { text: aliceTokens.at(-1) ?? 'A:', timeoutMs: RECOVERY_TIMEOUT_MS }));
    Object.assign(figures, {
      recoverySeconds: (Date.now() - restoredAt) / 1000,
      flaps: flaps.offline + flaps.cut + flaps.stall,
      offlineFlaps: flaps.offline,
      cutFlaps: flaps.cut,
      stallFlaps: flaps.stall,
      aliceTokens: aliceTokens.length,
      bobTokens: bobTokens.length,
      bobConnections: link.counts().connections,
      bobWebSockets: link.counts().upgrades,
      bobResets: link.counts().resets,
    });

    const aliceText = await bodyText(cast.alice);
    const bobText = await bodyText(cast.bob);
    if (aliceText !== bobText) failures.push(`the editors differ:\n  Alice: ${aliceText}\n  Bob:   ${bobText}`);
    await cast.alice.context.close();
    await cast.bob.context.close();

    const fresh = await nameFailure('a fresh load after kill -9 and restart', readAfterCrash({ browser, app, dataDir, doc: cast.doc }));
    if (fresh.text !== aliceText) failures.push(`a fresh load after kill -9 differs from the editors:\n  fresh:  ${fresh.text}\n  editor: ${aliceText}`);
    failures.push(...findTokenFailures({ where: 'fresh load', text: fresh.text, tokens: [...aliceTokens, ...bobTokens] }));
    const expected = [`A: ${aliceTokens.join(' ')}`.trim(), `B: ${bobTokens.join(' ')}`.trim()];
    if (JSON.stringify(fresh.paragraphs) !== JSON.stringify(expected)) {
      failures.push(`the paragraphs are not each person's tokens in typing order:\n  got:      ${JSON.stringify(fresh.paragraphs)}\n  expected: ${JSON.stringify(expected)}`);
    }
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  } finally {
    // Closing a closed context does nothing; these are open only when the run broke off.
    await cast?.alice.context.close();
    await cast?.bob.context.close();
    await link.close();
    if (app.child.exitCode === null && app.child.signalCode === null) await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  return { name: browserFlap.name, passed: failures.length === 0, figures, failures };
}

/** The campaign: the long run, in a Chromium of its own. */
export const browserFlap: Campaign = {
  name: 'browser-flap',
  title: 'Two people type in Chromium while one network drops and returns every few seconds',
  async run(scale) {
    const browser = await chromium.launch({ executablePath: chromiumExecutablePath(), args: CHROMIUM_ARGS });
    try {
      return await runBrowserFlap({ browser, durationMs: FLAP_DURATION_MS[scale], seed: chooseSeed() });
    } finally {
      await browser.close();
    }
  },
};
