/**
 * Attacks on link resets: an editor resetting everyone's links, a token minted
 * while a reset is on its way outliving it, a reset dated back in time.
 * Rules (SPEC L2, L3): only owners reset links; minting and resetting are
 * ordered per document on a clock that never goes back, so every token minted
 * with an old link's authority is void once the reset is stored; the stored
 * reset time never decreases.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { Teardown, makeTempDir, postJson, startRelay, type TestRelay } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

/** A links API call; every answer of this API is a flat object of strings. */
async function post(relay: TestRelay, path: string, body: unknown): Promise<{ status: number; body: Record<string, string> }> {
  const { status, body: answer } = await postJson(relay, `/api${path}`, body);
  return { status, body: answer as Record<string, string> };
}

describe('[L2] only owners reset links', () => {
  it('refuses editors and viewers with 403 and leaves their links working', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    for (const role of ['editor', 'viewer'] as const) {
      const token = relay.tokenFor('owned', role);
      expect(await post(relay, '/links/reset', { docId: 'owned', token })).toEqual({ status: 403, body: { error: 'only the owner can reset links' } });
      expect((await post(relay, '/links/check', { docId: 'owned', token })).body).toEqual({ ok: true, role });
    }
  });
});

describe('[L3] resets cannot be raced', () => {
  it('voids every token minted with the old link while the reset was on its way', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), maxApiRequestsPerMinute: 100_000 });
    const oldOwner = relay.tokenFor('raced', 'owner');
    let isResetDone = false;
    const minted: string[] = [];
    // Waves of link requests with the old owner link, for as long as the reset is in flight.
    const mintWhileResetting = async (): Promise<void> => {
      while (!isResetDone) {
        const answers = await Promise.all(Array.from({ length: 8 }, () => post(relay, '/links', { docId: 'raced', token: oldOwner })));
        for (const answer of answers) if (answer.status === 200) minted.push(answer.body.ownerToken!, answer.body.editorToken!, answer.body.viewerToken!);
      }
    };
    const minting = [mintWhileResetting(), mintWhileResetting()];
    // Let some requests start before the reset does.
    await new Promise((resolve) => setImmediate(resolve));
    const reset = await post(relay, '/links/reset', { docId: 'raced', token: oldOwner });
    isResetDone = true;
    await Promise.all(minting);
    expect(reset.status).toBe(200);
    expect(minted.length).toBeGreaterThan(0);
    for (const token of minted) expect((await post(relay, '/links/check', { docId: 'raced', token })).body).toEqual({ ok: false, reason: 'reset' });
    expect((await post(relay, '/links/check', { docId: 'raced', token: reset.body.ownerToken })).body).toEqual({ ok: true, role: 'owner' });
  });

  it('two owners resetting at once both end up with working links, and every older link is void', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const owner = relay.tokenFor('twice', 'owner');
    const editor = relay.tokenFor('twice', 'editor');
    const [first, second] = await Promise.all([
      post(relay, '/links/reset', { docId: 'twice', token: owner }),
      post(relay, '/links/reset', { docId: 'twice', token: owner }),
    ]);
    // The second reset, ordered after the first, sees the old owner link already void.
    expect([first!.status, second!.status].sort()).toEqual([200, 401]);
    const winner = first!.status === 200 ? first! : second!;
    expect((await post(relay, '/links/check', { docId: 'twice', token: editor })).body).toEqual({ ok: false, reason: 'reset' });
    expect((await post(relay, '/links/check', { docId: 'twice', token: winner.body.editorToken })).body).toEqual({ ok: true, role: 'editor' });
  });
});
