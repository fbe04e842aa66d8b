import { describe, expect, it } from 'vitest';

import { ClientBudgets, ConnectionBudget, type ClientBudget } from './connection-budget';

const SPEC = {
  frames: { capacity: 5, refillPerSecond: 2 },
  bytes: { capacity: 1_000, refillPerSecond: 100 },
  timeMs: { capacity: 50, refillPerSecond: 10 },
};

describe('ConnectionBudget', () => {
  it('allows a burst of frames, then refuses with a reason until the budget refills', () => {
    const budget = new ConnectionBudget(SPEC, 0);
    for (let i = 0; i < 5; i++) expect(budget.chargeFrame(1, 0)).toBeNull();
    expect(budget.chargeFrame(1, 0)).toBe('more than 2 messages a second');
    expect(budget.chargeFrame(1, 500)).toBeNull();
  });

  it('counts bytes apart from frames, so one large frame may pass where many small ones may not', () => {
    const budget = new ConnectionBudget(SPEC, 0);
    expect(budget.chargeFrame(1_000, 0)).toBeNull();
    expect(budget.chargeFrame(1, 0)).toBe('more than 100 bytes a second');
    expect(budget.chargeFrame(100, 1_000)).toBeNull();
  });

  it('counts the relay time its frames took, and stops a connection whose frames cost too much', () => {
    const budget = new ConnectionBudget(SPEC, 0);
    // One frame may cost more than the whole budget; the frames after it wait for the debt to be repaid.
    expect(budget.chargeTime(80, 0)).toBeNull();
    expect(budget.chargeTime(1, 1_000)).toBe("frames that took more than 10 ms of the relay's time a second");
    expect(budget.chargeTime(1, 4_000)).toBeNull();
  });

  it('allows three sync step 1 requests at once, then one every 20 s; queries count apart', () => {
    const budget = new ConnectionBudget(SPEC, 0);
    expect([1, 2, 3].map(() => budget.chargeRequest('sync-step-1', 0))).toEqual([null, null, null]);
    expect(budget.chargeRequest('sync-step-1', 0)).toBe('too many sync-step-1 requests');
    expect(budget.chargeRequest('query-awareness', 0)).toBeNull();
    expect(budget.chargeRequest('sync-step-1', 20_000)).toBeNull();
  });
});

describe('ClientBudgets', () => {
  it('makes a client’s connections share one budget: the sockets that spend it are cut off, the quiet ones are not', () => {
    const budgets = new ClientBudgets({ ...SPEC, frames: { capacity: 3, refillPerSecond: 1 } });
    const first = budgets.acquire('203.0.113.1', 0);
    const second = budgets.acquire('203.0.113.1', 0);
    const other = budgets.acquire('198.51.100.1', 0);
    const connection = (client: ClientBudget): ConnectionBudget => new ConnectionBudget(SPEC, 0, client);
    const [a, b] = [connection(first.budget), connection(second.budget)];
    expect([a.chargeFrame(1, 0), a.chargeFrame(1, 0), a.chargeFrame(1, 0)]).toEqual([null, null, null]);
    // The shared budget is spent: the socket that spent it is cut off...
    expect(a.chargeFrame(1, 0)).toBe('more messages a second than this client may send on all its connections');
    // ...but a quiet socket of the same client, and another client, go on.
    expect(b.chargeFrame(1, 0)).toBeNull();
    expect(connection(other.budget).chargeFrame(1, 0)).toBeNull();
    first.release();
    second.release();
    other.release();
  });
});
