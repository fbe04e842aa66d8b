import { describe, expect, it } from 'vitest';

import { KeyedLock } from './keyed-lock';

describe('KeyedLock', () => {
  it('runs work for one key in call order, never two at once, and forgets the key afterwards', async () => {
    const lock = new KeyedLock<string>();
    const log: string[] = [];
    let running = 0;
    const step = (name: string) => async () => {
      running += 1;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await Promise.resolve();
      await Promise.resolve();
      log.push(`end ${name}`);
      running -= 1;
      return name;
    };
    const results = await Promise.all([lock.run('a', step('1')), lock.run('a', step('2')), lock.run('a', step('3'))]);
    expect(results).toEqual(['1', '2', '3']);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    await Promise.resolve();
    expect(lock.size).toBe(0);
  });

  it('lets other keys run alongside, and a failure does not block the queue', async () => {
    const lock = new KeyedLock<string>();
    const order: string[] = [];
    let releaseA!: () => void;
    const a = lock.run('a', () => new Promise<void>((resolve) => (releaseA = resolve)).then(() => order.push('a')));
    await lock.run('b', async () => order.push('b'));
    releaseA();
    await a;
    expect(order).toEqual(['b', 'a']);
    await expect(lock.run('c', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run('c', async () => 'after')).resolves.toBe('after');
  });
});
