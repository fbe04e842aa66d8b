/**
 * A chaos run's results file (`chaos/results/<stamp>.json`) and its markdown
 * (`<stamp>.md`): one table per campaign with its figures, pass or fail, and the
 * failures found. Written by `npm run chaos` and by `npm run soak`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { CampaignReport, ChaosScale } from './campaign';

/** Where results go: `chaos/results/`. */
export const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));

/** One campaign's report, with what the runner adds. */
export interface CampaignResult extends CampaignReport {
  readonly title: string;
  readonly durationSeconds: number;
}

/** Everything one run wrote. */
export interface ChaosRunResults {
  readonly startedAt: string;
  /** The scale asked for, or a description of the run (`soak, 10 minutes`). */
  readonly scale: ChaosScale | string;
  readonly machine: string;
  readonly durationSeconds: number;
  readonly campaigns: readonly CampaignResult[];
}

/** This machine, as reports describe it. */
export function describeMachine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

/** The markdown report. */
export function markdownOf(results: ChaosRunResults): string {
  const lines = [
    `# Chaos run ${results.startedAt}`,
    '',
    `Scale: ${results.scale}. Machine: ${results.machine}. Took ${results.durationSeconds} s.`,
    '',
    '| campaign | result | took |',
    '|---|---|---|',
    ...results.campaigns.map((campaign) => `| ${campaign.name} | ${campaign.passed ? 'pass' : '**FAIL**'} | ${campaign.durationSeconds} s |`),
  ];
  for (const campaign of results.campaigns) {
    lines.push('', `## ${campaign.name}: ${campaign.passed ? 'pass' : 'FAIL'}`, '', campaign.title, '', '| figure | value |', '|---|---|');
    for (const [name, value] of Object.entries(campaign.figures)) lines.push(`| ${name} | ${value} |`);
    if (campaign.failures.length > 0) {
      lines.push('', 'Failures:', '');
      for (const failure of campaign.failures) lines.push(`- ${failure.replaceAll('\n', ' ').replaceAll('|', '\\|')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `<stamp>.json` and `<stamp>.md` (stamp from the start time, plus `suffix`); returns their paths. */
export async function writeResults(results: ChaosRunResults, suffix = ''): Promise<{ json: string; markdown: string }> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = `${results.startedAt.replace(/[:.]/g, '-')}${suffix}`;
  const json = join(RESULTS_DIR, `${stamp}.json`);
  const markdown = join(RESULTS_DIR, `${stamp}.md`);
  await writeFile(json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(markdown, markdownOf(results));
  return { json, markdown };
}
