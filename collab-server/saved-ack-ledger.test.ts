/** SPEC P9, P9a, F1: which `saved` acknowledgements are owed, and who hears "not saved". */
import { describe, expect, it } from 'vitest';

import { SavedAckLedger } from './saved-ack-ledger';

describe('SavedAckLedger', () => {
  it('[P9a] acknowledges at once when nothing is unsaved, with the frames counted so far', () => {
    const ledger = new SavedAckLedger<string>();
    ledger.join('alice');
    ledger.noteChangeFrame('alice');
    expect(ledger.request('alice', null)).toEqual({ peer: 'alice', changeFramesSaved: 1 });
  });

  it('[P9a] owes one ack per batch, each with the frames that batch completes, and none for a later batch', () => {
    const ledger = new SavedAckLedger<string>();
    ledger.join('alice');
    ledger.join('bob');
    ledger.noteChangeFrame('alice');
    expect(ledger.request('alice', 1)).toBeNull();
    ledger.noteChangeFrame('alice');
    expect(ledger.request('alice', 1)).toBeNull();
    ledger.noteChangeFrame('alice');
    expect(ledger.request('alice', 2)).toBeNull();
    ledger.noteChangeFrame('bob');
    expect(ledger.request('bob', 2)).toBeNull();
    expect(ledger.settle(1)).toEqual([{ peer: 'alice', changeFramesSaved: 2 }]);
    expect(ledger.settle(2)).toEqual([
      { peer: 'alice', changeFramesSaved: 3 },
      { peer: 'bob', changeFramesSaved: 1 },
    ]);
    expect(ledger.settle(3)).toEqual([]);
  });

  it('[F1] tells each waiting peer once that its changes are not saved, and again only after a saved', () => {
    const ledger = new SavedAckLedger<string>();
    ledger.join('alice');
    ledger.join('idle');
    ledger.noteChangeFrame('alice');
    ledger.request('alice', 1);
    expect(ledger.takeUntoldUnsaved()).toEqual(['alice']);
    expect(ledger.takeUntoldUnsaved()).toEqual([]);
    ledger.settle(1);
    ledger.noteChangeFrame('alice');
    ledger.request('alice', 2);
    expect(ledger.takeUntoldUnsaved()).toEqual(['alice']);
  });

  it('forgets a peer that left', () => {
    const ledger = new SavedAckLedger<string>();
    ledger.join('alice');
    ledger.noteChangeFrame('alice');
    ledger.request('alice', 1);
    ledger.leave('alice');
    expect(ledger.settle(1)).toEqual([]);
    expect(ledger.request('alice', null)).toBeNull();
  });
});
