/**
 * The shape every chaos campaign has: a name the runner selects it by, a title
 * for the report, and `run`, which drives a real relay process through some kind
 * of trouble and says what held. A campaign never throws for a broken promise of
 * the relay's: it lists it in `failures`, so one report shows every problem found.
 */

/** How hard to push: `ci` fits a test run (seconds), `long` is the full campaign (minutes). */
export type ChaosScale = 'ci' | 'long';

/** What one run of a campaign found. */
export interface CampaignReport {
  readonly name: string;
  /** True when `failures` is empty. */
  readonly passed: boolean;
  /** Measured numbers (and a few labels such as the seed), shown as the report's table. */
  readonly figures: Readonly<Record<string, number | string>>;
  /** One line per broken promise, in the order found. */
  readonly failures: readonly string[];
}

/** One kind of trouble, runnable at either scale. */
export interface Campaign {
  readonly name: string;
  readonly title: string;
  run(scale: ChaosScale): Promise<CampaignReport>;
}
