/** Every chaos campaign `npm run chaos` knows, in the order it runs them. */
import type { Campaign } from './campaign';
import { fuzz } from './fuzz';
import { killLoop } from './kill-loop';
import { soak } from './soak';

export const CAMPAIGNS: readonly Campaign[] = [killLoop, fuzz, soak];
