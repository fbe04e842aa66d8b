/**
 * Collects Content-Security-Policy violations from every page of every browser
 * context created while it watches, through two channels: Chromium's own console
 * report ("… violates the following Content Security Policy directive …") and the
 * page's `securitypolicyviolation` events, which an init script writes to the console.
 */
import type { Browser, BrowserContext, ConsoleMessage } from '@playwright/test';

/** Marks console lines written by the init script, so tests can tell the two channels apart. */
export const VIOLATION_EVENT_PREFIX = 'Content Security Policy violation event:';

const CSP_CONSOLE_TEXT = /Content Security Policy/i;

/** A running watch: `violations` grows as reports arrive; `stop` detaches every listener. */
export interface CspWatch {
  readonly violations: readonly string[];
  stop(): void;
}

/** Starts watching `browser`'s current contexts and every context it creates from now on. */
export function watchCspViolations(browser: Browser): CspWatch {
  const violations: string[] = [];
  const watched = new Set<BrowserContext>();
  const onConsole = (message: ConsoleMessage): void => {
    if (!CSP_CONSOLE_TEXT.test(message.text())) return;
    // Without the fragment: it holds the share token, which has no place in test output.
    const where = message.page()?.url().split('#')[0] ?? '(no page)';
    violations.push(`${where}: ${message.text()}`);
  };
  const watch = (context: BrowserContext): void => {
    if (watched.has(context)) return;
    watched.add(context);
    context.on('console', onConsole);
    // Browser emits 'context' before newContext() resolves, so this is queued ahead of the test's first page.
    // A context closed meanwhile rejects it; Chromium's console reports still cover its pages.
    context.addInitScript(reportViolationEvents, VIOLATION_EVENT_PREFIX).catch(() => undefined);
  };
  for (const context of browser.contexts()) watch(context);
  browser.on('context', watch);
  return {
    violations,
    stop() {
      browser.off('context', watch);
      for (const context of watched) context.off('console', onConsole);
    },
  };
}

// Runs in the page, before its own scripts: serialised by Playwright, so it may use nothing from this module.
function reportViolationEvents(prefix: string): void {
  document.addEventListener(
    'securitypolicyviolation',
    (event) => {
      const where = event.sourceFile ? ` at ${event.sourceFile}:${event.lineNumber}` : '';
      console.error(`${prefix} ${event.effectiveDirective} blocked ${event.blockedURI || '(inline)'}${where}: ${event.sample}`);
    },
    { capture: true },
  );
}
