/**
 * Collects what a campaign measures and what it finds broken, and turns that
 * into its `CampaignReport`. Failures are grouped by kind and capped per kind, so
 * one systematic fault (the same check failing for thousands of frames) reads as
 * a few examples and a count, and never crowds out a different fault found later.
 */
import type { CampaignReport } from './campaign';

/** Failure lines kept verbatim per kind; past this only their number is reported. */
const MAX_LINES_PER_KIND = 5;

/** The figures and failures of one campaign run. */
export class Findings {
  private readonly failures: string[] = [];
  private readonly countsByKind = new Map<string, number>();
  private readonly figures: Record<string, number | string> = {};

  constructor(readonly name: string) {}

  /** Records a broken promise; `kind` groups failures of one check. */
  fail(message: string, kind = message): void {
    const count = (this.countsByKind.get(kind) ?? 0) + 1;
    this.countsByKind.set(kind, count);
    if (count <= MAX_LINES_PER_KIND) this.failures.push(message);
  }

  /** Records `message()` as a failure of `kind` unless `condition` holds; returns `condition`. */
  expect(condition: boolean, message: () => string, kind?: string): boolean {
    if (!condition) this.fail(message(), kind);
    return condition;
  }

  /** Sets one figure of the report (non-finite numbers are reported as text). */
  figure(name: string, value: number | string): void {
    this.figures[name] = typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
  }

  report(): CampaignReport {
    const failures = [...this.failures];
    for (const [kind, count] of this.countsByKind) {
      if (count > MAX_LINES_PER_KIND) failures.push(`… and ${count - MAX_LINES_PER_KIND} more like: ${kind}`);
    }
    return { name: this.name, passed: failures.length === 0, figures: { ...this.figures }, failures };
  }
}
