import { describe, expect, it } from 'vitest';

import { TokenLedger, countOccurrences, findTokenFailures } from './token-ledger';

describe('findTokenFailures', () => {
  it('passes a text holding every token once, in any order', () => {
    expect(findTokenFailures({ where: 'doc', text: '[b-2][a-1] seed', tokens: ['[a-1]', '[b-2]'] })).toEqual([]);
  });

  it('reports a token duplicated by a replayed insert', () => {
    expect(findTokenFailures({ where: 'doc', text: '[a-1][b-2][a-1]', tokens: ['[a-1]', '[b-2]'] })).toEqual(['doc: [a-1] appears 2 times']);
  });

  it('reports a lost token', () => {
    expect(findTokenFailures({ where: 'doc', text: '[a-1]', tokens: ['[a-1]', '[b-2]'] })).toEqual(['doc: [b-2] was lost']);
  });
});

describe('countOccurrences', () => {
  it('counts overlapping countOccurrences', () => {
    expect(countOccurrences('aaa', 'aa')).toBe(2);
  });

  it('refuses an empty token', () => {
    expect(() => countOccurrences('text', '')).toThrow();
  });
});

describe('TokenLedger', () => {
  it('keeps each document its tokens in writing order', () => {
    const ledger = new TokenLedger();
    ledger.add('one', '[a]');
    ledger.add('two', '[b]');
    ledger.add('one', '[c]');
    expect(ledger.tokensOf('one')).toEqual(['[a]', '[c]']);
    expect(ledger.tokensOf('three')).toEqual([]);
  });
});
