/** Unit tests of how a refused link is read: which answers are final, when to ask, and whose copy may go. */
import { describe, expect, it } from 'vitest';

import type { TokenRefusal } from '../tokens';
import { isDefiniteRefusal, mayForgetAfterRefusal, RETRY, shouldCheckLinkAfterClose, verdictOfCheck } from './link-refusal';

const EVERY_REFUSAL: readonly TokenRefusal[] = ['missing', 'malformed', 'bad-signature', 'wrong-document', 'reset'];

describe('isDefiniteRefusal', () => {
  it('accepts every reason the relay gives', () => {
    for (const reason of EVERY_REFUSAL) expect(isDefiniteRefusal(reason)).toBe(true);
  });

  it('rejects reasons it does not know, and non-strings', () => {
    for (const reason of ['expired', 'too-many-requests', '', 'toString', '__proto__', undefined, null, 403, { reason: 'reset' }]) {
      expect(isDefiniteRefusal(reason)).toBe(false);
    }
  });
});

describe('verdictOfCheck', () => {
  it('retries when the link is fine: the close was something else', () => {
    expect(verdictOfCheck({ ok: true, role: 'viewer' })).toEqual(RETRY);
  });

  it('says the link was reset, definitely, for reason reset', () => {
    expect(verdictOfCheck({ ok: false, reason: 'reset' })).toEqual({ kind: 'refused', access: 'link-reset', isDefinite: true });
  });

  it('denies, definitely, for every other reason the relay gives', () => {
    for (const reason of EVERY_REFUSAL.filter((each) => each !== 'reset')) {
      expect(verdictOfCheck({ ok: false, reason })).toEqual({ kind: 'refused', access: 'denied', isDefinite: true });
    }
  });

  it('denies without proof of finality for a reason it does not know', () => {
    expect(verdictOfCheck({ ok: false, reason: 'expired' })).toEqual({ kind: 'refused', access: 'denied', isDefinite: false });
    expect(verdictOfCheck({ ok: false })).toEqual({ kind: 'refused', access: 'denied', isDefinite: false });
  });

  it('retries on answers that are not a check result', () => {
    for (const answer of [null, undefined, 'reset', 42, [], {}, { ok: 'false', reason: 'reset' }, { ok: 0, reason: 'reset' }, { error: 'too many requests' }]) {
      expect(verdictOfCheck(answer)).toEqual(RETRY);
    }
  });
});

describe('shouldCheckLinkAfterClose', () => {
  it('asks after a socket that never opened, before or after the first sync', () => {
    expect(shouldCheckLinkAfterClose({ hasSocketOpened: false, hasSynced: false })).toBe(true);
    expect(shouldCheckLinkAfterClose({ hasSocketOpened: false, hasSynced: true })).toBe(true);
  });

  it('asks after an opened socket closed before the first sync', () => {
    expect(shouldCheckLinkAfterClose({ hasSocketOpened: true, hasSynced: false })).toBe(true);
  });

  it('does not ask after a synced session loses an open socket', () => {
    expect(shouldCheckLinkAfterClose({ hasSocketOpened: true, hasSynced: true })).toBe(false);
  });
});

describe('mayForgetAfterRefusal', () => {
  it('forgets when the refused link is the one remembered', () => {
    expect(mayForgetAfterRefusal({ refusedToken: 'v1.a.b', rememberedToken: 'v1.a.b' })).toBe(true);
  });

  it('forgets when no link is remembered', () => {
    expect(mayForgetAfterRefusal({ refusedToken: 'v1.a.b', rememberedToken: undefined })).toBe(true);
  });

  it('keeps the copy when another link is remembered', () => {
    expect(mayForgetAfterRefusal({ refusedToken: 'v1.crafted.x', rememberedToken: 'v1.a.b' })).toBe(false);
  });
});
