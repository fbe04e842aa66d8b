import { describe, expect, it } from 'vitest';

import { encodeAwarenessUpdate } from '../protocol/codec';
import { acceptableAwarenessEntries } from './awareness-guard';

const OWN = 7;
const ADA = { user: { name: 'Ada', color: '#1971c2' }, role: 'editor' };

describe('acceptableAwarenessEntries', () => {
  it('keeps valid states and removals, drops invalid ones and any for this client', () => {
    const update = encodeAwarenessUpdate([
      { clientId: 1, clock: 1, state: ADA },
      { clientId: 2, clock: 1, state: { cursor: { anchor: null } } },
      { clientId: 3, clock: 1, state: { user: { name: 'Eve', color: '#000;position:fixed;inset:0' } } },
      { clientId: 4, clock: 2, state: null },
      { clientId: OWN, clock: 99, state: { user: { name: 'Not me', color: '#000000' } } },
    ]);
    expect(acceptableAwarenessEntries(update, OWN)).toEqual([
      { clientId: 1, clock: 1, state: ADA },
      { clientId: 4, clock: 2, state: null },
    ]);
  });

  it('drops unknown fields, and yields nothing for a malformed update', () => {
    const update = encodeAwarenessUpdate([{ clientId: 1, clock: 1, state: { ...ADA, onclick: 'alert(1)' } }]);
    expect(acceptableAwarenessEntries(update, OWN)).toEqual([{ clientId: 1, clock: 1, state: ADA }]);
    expect(acceptableAwarenessEntries(Uint8Array.of(5, 1), OWN)).toEqual([]);
  });
});
