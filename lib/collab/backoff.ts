/** Reconnect delays: exponential with full jitter, capped, so reconnects never come in storms. */

export const RECONNECT_BASE_MS = 500;
export const RECONNECT_CAP_MS = 30_000;

/** Delay before reconnect attempt number `attempt` (0-based): uniform in [0, min(cap, base·2^attempt)]. */
export function fullJitterDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
