/** Every chaos campaign `npm run chaos` knows, in the order it runs them. */
import type { Campaign } from './campaign';
import { browserFlap } from './browser-flap';
import { fuzz } from './fuzz';
import { killLoop } from './kill-loop';
import { reconnectStorm } from './reconnect-storm';
import { soak } from './soak';

export const CAMPAIGNS: readonly Campaign[] = [killLoop, fuzz, soak, reconnectStorm, browserFlap];
