/**
 * `npm run chaos`: runs chaos campaigns one after another against the compiled
 * relay, prints progress on stderr, writes `chaos/results/<stamp>.json` and
 * `.md`, prints the markdown, and exits non-zero if any campaign failed.
 *
 *   npm run chaos -- [--campaigns kill-loop,fuzz] [--scale ci|long]
 */
import { parseArgs } from 'node:util';

import type { Campaign, CampaignReport, ChaosScale } from './campaign';
import { CAMPAIGNS } from './campaigns';
import { progress } from './progress';
import { describeMachine, markdownOf, writeResults, type CampaignResult } from './report';

const SCALES: readonly ChaosScale[] = ['ci', 'long'];

function parseOptions(): { campaigns: readonly Campaign[]; scale: ChaosScale } {
  const { values } = parseArgs({
    options: {
      campaigns: { type: 'string', default: CAMPAIGNS.map((campaign) => campaign.name).join(',') },
      scale: { type: 'string', default: 'long' },
    },
  });
  const scale = SCALES.find((known) => known === values.scale);
  if (!scale) throw new Error(`--scale must be one of ${SCALES.join(', ')}, not ${values.scale}`);
  const campaigns = values.campaigns.split(',').map((name) => {
    const campaign = CAMPAIGNS.find((known) => known.name === name.trim());
    if (!campaign) throw new Error(`unknown campaign ${name}; known: ${CAMPAIGNS.map((known) => known.name).join(', ')}`);
    return campaign;
  });
  return { campaigns, scale };
}

// A campaign that throws has a bug of its own; it still gets a failed report, and the run goes on.
async function runOne(campaign: Campaign, scale: ChaosScale): Promise<CampaignReport> {
  try {
    return await campaign.run(scale);
  } catch (error) {
    return { name: campaign.name, passed: false, figures: {}, failures: [`the campaign threw: ${error instanceof Error ? error.stack : String(error)}`] };
  }
}

async function main(): Promise<void> {
  const { campaigns, scale } = parseOptions();
  const startedAt = new Date();
  const results: CampaignResult[] = [];
  for (const [index, campaign] of campaigns.entries()) {
    progress('chaos', `[${index + 1}/${campaigns.length}] ${campaign.name} at scale ${scale}: ${campaign.title}`);
    const campaignStart = performance.now();
    const report = await runOne(campaign, scale);
    const durationSeconds = Math.round((performance.now() - campaignStart) / 1000);
    results.push({ ...report, title: campaign.title, durationSeconds });
    progress('chaos', `${campaign.name}: ${report.passed ? 'pass' : `FAIL (${report.failures.length} failures)`} in ${durationSeconds} s`);
  }
  const run = {
    startedAt: startedAt.toISOString(),
    scale,
    machine: describeMachine(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    campaigns: results,
  };
  const paths = await writeResults(run);
  console.log(markdownOf(run));
  progress('chaos', `results: ${paths.json}, ${paths.markdown}`);
  process.exitCode = results.every((result) => result.passed) ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
});
