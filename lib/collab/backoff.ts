/** Reconnect delays: exponential with full jitter, capped, so reconnects never come in storms. */

export const RECONNECT_BASE_MS = 500;
// The cap bounds how long people wait after an outage ends: with 30 s, the last of
// 1,000 clients came back 28 s after a relay restart (chaos/reconnect-storm.ts);
// with 10 s, about 10 s. A thousand clients then retry about 100 times a second at
// most, which the relay answers in microseconds each.
export const RECONNECT_CAP_MS = 10_000;

/** Delay before reconnect attempt number `attempt` (0-based): uniform in [0, min(cap, base·2^attempt)]. */
export function fullJitterDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
