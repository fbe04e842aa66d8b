/** Share-link tokens and roles, enforced at the relay; abuse limits; nothing secret in logs. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';

import type { Logger } from '../../collab-server/logger';
import { createRelay } from '../../collab-server/server';
import { StorageError, type DocStore } from '../../collab-server/storage/doc-store';
import { openLevelStore } from '../../collab-server/storage/leveldb';
import { parseDocId } from '../../lib/ids';
import { CLOSE_CODES, encode, encodeAwarenessUpdate } from '../../lib/protocol';
import { signToken } from '../../lib/tokens.server';
import {
  Teardown,
  connectClient,
  makeTempDir,
  openRawSocket,
  postJson,
  loadedRooms,
  openConnections,
  relayHealth,
  socketUrl,
  startRelay,
  tokenIssuer,
  upgradeStatus,
  waitForSaved,
  waitForSync,
  waitUntil,
  type TestRelay,
} from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

/** A logger that keeps every line it is given, to search them for secrets. */
function createRecordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const record = (fields: object, message: string): void => {
    lines.push(JSON.stringify({ ...fields, message }, (_key, value: unknown) => (value instanceof Error ? value.message : value)));
  };
  const logger: Logger = { debug: record, info: record, warn: record, error: record, child: () => logger };
  return { logger, lines };
}

describe('share-link tokens at the upgrade', () => {
  it('refuses a missing, malformed, forged, foreign or reset token with the right status', async () => {
    const { logger, lines } = createRecordingLogger();
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), logger });
    const docId = parseDocId('secret-doc')!;
    expect(await upgradeStatus(`${relay.url}/secret-doc`)).toBe(401);
    expect(await upgradeStatus(`${relay.url}/secret-doc?token=`)).toBe(401);
    expect(await upgradeStatus(`${relay.url}/secret-doc?token=not-a-token`)).toBe(401);
    const forged = signToken({ key: randomBytes(32), docId, role: 'editor', issuedAt: Date.now() });
    expect(await upgradeStatus(`${relay.url}/secret-doc?token=${forged}`)).toBe(401);
    // A valid signature on tampered claims: swap in another role.
    const [version, , signature] = relay.tokenFor('secret-doc', 'viewer').split('.');
    const tampered = `${version}.${Buffer.from(JSON.stringify({ d: docId, r: 'editor', iat: Date.now() })).toString('base64url')}.${signature}`;
    expect(await upgradeStatus(`${relay.url}/secret-doc?token=${tampered}`)).toBe(401);
    expect(await upgradeStatus(`${relay.url}/secret-doc?token=${relay.tokenFor('other-doc')}`)).toBe(403);

    const before = relay.tokenFor('secret-doc', 'owner');
    const client = connectClient(teardown, relay, 'secret-doc');
    await waitForSync(client);
    const reset = await postJson(relay, '/api/links/reset', { docId, token: before });
    expect(reset.status).toBe(200);
    expect(await upgradeStatus(`${relay.url}/secret-doc?token=${before}`)).toBe(401);
    const fresh = connectClient(teardown, { url: relay.url, tokenFor: () => String(reset.body.editorToken) }, 'secret-doc');
    await waitForSync(fresh);

    for (const line of lines) {
      expect(line).not.toContain(before);
      expect(line).not.toContain(forged);
      expect(line).not.toContain(String(reset.body.editorToken));
      expect(line).not.toContain(Buffer.from(relay.secret).toString('base64url'));
    }
    expect(lines.length).toBeGreaterThan(0);
  });

  it('a reset holds for documents not in memory and across a restart; a refused link leaves no room loaded', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir, roomIdleMs: 30 });
    const before = relay.tokenFor('cold-reset', 'owner');
    // Nobody has the document open: the reset lives only in storage.
    const reset = await postJson(relay, '/api/links/reset', { docId: 'cold-reset', token: before });
    expect(reset.status).toBe(200);
    expect(await loadedRooms(relay)).toBe(0);
    expect(await upgradeStatus(`${relay.url}/cold-reset?token=${before}`)).toBe(401);
    // The refused upgrade loaded the document to learn the reset time; it unloads like any empty room.
    await waitUntil(async () => (await loadedRooms(relay)) === 0, { what: 'the refused link’s room unloads' });

    await relay.close();
    const restarted = await startRelay(teardown, { dataDir, secret: relay.secret });
    expect(await upgradeStatus(`${restarted.url}/cold-reset?token=${before}`)).toBe(401);
    const fresh = connectClient(teardown, { url: restarted.url, tokenFor: () => String(reset.body.editorToken) }, 'cold-reset');
    await waitForSync(fresh);
  });

  it('answers 503 when the document cannot be loaded, and serves every other document', async () => {
    const dataDir = await makeTempDir(teardown);
    const store = await openLevelStore({ dir: join(dataDir, 'leveldb') });
    const failingStore: DocStore = {
      ...store,
      load: (docId) => (docId === 'broken' ? Promise.reject(new StorageError('disk read failed')) : store.load(docId)),
    };
    const secret = new Uint8Array(randomBytes(32));
    const relay = await createRelay({ store: failingStore, secret, host: '127.0.0.1', port: 0, logger: createRecordingLogger().logger });
    teardown.add(() => relay.close());
    const issuer = { url: relay.url, tokenFor: tokenIssuer(secret) };
    expect(await upgradeStatus(socketUrl(issuer, 'broken'))).toBe(503);
    const healthy = connectClient(teardown, issuer, 'healthy');
    await waitForSync(healthy);
    expect(await relayHealth(relay)).toEqual({ status: 'ok' });
    expect([await openConnections(relay), await loadedRooms(relay)]).toEqual([1, 1]);
  });

  it('resetting links closes live sessions of old links with 4403 "link-reset"', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const editor = connectClient(teardown, relay, 'reset-live');
    const viewer = connectClient(teardown, relay, 'reset-live', { role: 'viewer' });
    await Promise.all([waitForSync(editor), waitForSync(viewer)]);
    const closes = [editor, viewer].map(
      (client) =>
        new Promise<{ code: number; reason: string }>((resolve) => {
          client.provider.on('connection-close', (event) => resolve({ code: event?.code ?? -1, reason: event?.reason ?? '' }));
        }),
    );
    const response = await postJson(relay, '/api/links/reset', { docId: 'reset-live', token: relay.tokenFor('reset-live', 'owner') });
    expect(response.status).toBe(200);
    for (const closed of await Promise.all(closes)) expect(closed).toEqual({ code: CLOSE_CODES.linkReset, reason: 'link-reset' });
    // Stock clients treat 44xx as final: they do not hammer the relay with reconnects.
    expect(editor.provider.shouldConnect).toBe(false);
  });

  it('only an owner link can reset links; editors share editor and viewer links, viewers the viewer link', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const viewerToken = relay.tokenFor('roles', 'viewer');
    expect((await postJson(relay, '/api/links/reset', { docId: 'roles', token: viewerToken })).status).toBe(403);
    expect((await postJson(relay, '/api/links/reset', { docId: 'roles', token: relay.tokenFor('roles', 'editor') })).status).toBe(403);
    const asViewer = await postJson(relay, '/api/links', { docId: 'roles', token: viewerToken });
    expect(asViewer.body).toMatchObject({ role: 'viewer' });
    expect(asViewer.body.editorToken).toBeUndefined();
    expect(asViewer.body.ownerToken).toBeUndefined();
    const asEditor = await postJson(relay, '/api/links', { docId: 'roles', token: relay.tokenFor('roles') });
    expect(asEditor.body).toMatchObject({ role: 'editor', editorToken: expect.any(String), viewerToken: expect.any(String) });
    expect(asEditor.body.ownerToken).toBeUndefined();
    const asOwner = await postJson(relay, '/api/links', { docId: 'roles', token: relay.tokenFor('roles', 'owner') });
    expect(asOwner.body).toMatchObject({ role: 'owner', ownerToken: expect.any(String), editorToken: expect.any(String) });
    const reset = await postJson(relay, '/api/links/reset', { docId: 'roles', token: relay.tokenFor('roles', 'owner') });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ ownerToken: expect.any(String), editorToken: expect.any(String), viewerToken: expect.any(String) });
    expect((await postJson(relay, '/api/links', { docId: 'roles', token: 'junk' })).status).toBe(401);
    expect((await postJson(relay, '/api/links/check', { docId: 'roles', token: 'junk' })).body).toEqual({ ok: false, reason: 'malformed' });

    const created = await postJson(relay, '/api/documents', {});
    expect(created.status).toBe(201);
    expect((await postJson(relay, '/api/links/check', { docId: created.body.docId, token: created.body.token })).body).toEqual({
      ok: true,
      role: 'owner',
    });
    expect(String(created.body.docId)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const creator = connectClient(teardown, { url: relay.url, tokenFor: () => String(created.body.token) }, String(created.body.docId));
    await waitForSync(creator);
  });
});

describe('viewers', () => {
  it('a hacked viewer client cannot change a byte: refused, told, never stored or broadcast', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir });
    const editor = connectClient(teardown, relay, 'readonly', { savedAcks: true });
    await waitForSync(editor);
    editor.text.insert(0, 'original');
    await waitForSaved(editor);
    const before = Y.encodeStateAsUpdate(editor.doc);

    const hacker = await openRawSocket(teardown, socketUrl(relay, 'readonly', 'viewer'));
    const evil = new Y.Doc();
    Y.applyUpdate(evil, before);
    const evilUpdates: Uint8Array[] = [];
    evil.on('update', (update: Uint8Array) => evilUpdates.push(update));
    evil.getText('t').insert(0, 'EVIL ');
    evil.getText('t').delete(5, 3);
    hacker.send(encode({ type: 'update', update: evilUpdates[0]! }));
    hacker.send(encode({ type: 'sync-step-2', update: Y.encodeStateAsUpdate(evil) }));
    hacker.send(encode({ type: 'update', update: evilUpdates[1]! }));
    await waitUntil(() => hacker.received.filter((message) => message.type === 'permission-denied').length === 3, {
      what: 'permission denied',
    });
    // The viewer still receives the live document.
    editor.text.insert(editor.text.length, ' + more');
    await waitUntil(() => hacker.received.some((message) => message.type === 'update'), { what: 'viewer gets updates' });
    await waitForSaved(editor);
    expect(editor.text.toString()).toBe('original + more');
    const other = connectClient(teardown, relay, 'readonly');
    await waitForSync(other);
    expect(other.text.toString()).toBe('original + more');

    await relay.close();
    const restarted = await startRelay(teardown, { dataDir, secret: relay.secret });
    const reader = connectClient(teardown, restarted, 'readonly');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe('original + more');
  });

  it('marks viewer awareness as viewer, and nobody can pose as an editor', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const editor = connectClient(teardown, relay, 'aw-roles');
    const viewer = connectClient(teardown, relay, 'aw-roles', { role: 'viewer' });
    await Promise.all([waitForSync(editor), waitForSync(viewer)]);
    viewer.provider.awareness.setLocalState({ user: { name: 'Vic', color: '#1971c2' }, role: 'editor' });
    editor.provider.awareness.setLocalState({ user: { name: 'Eve', color: '#2b8a3e' }, role: 'viewer' });
    await waitUntil(() => editor.provider.awareness.getStates().get(viewer.doc.clientID)?.user?.name === 'Vic');
    await waitUntil(() => viewer.provider.awareness.getStates().get(editor.doc.clientID)?.user?.name === 'Eve');
    expect(editor.provider.awareness.getStates().get(viewer.doc.clientID)).toMatchObject({ role: 'viewer' });
    expect(viewer.provider.awareness.getStates().get(editor.doc.clientID)).toMatchObject({ role: 'editor' });

    // A raw viewer frame claiming editor is rewritten too.
    const raw = await openRawSocket(teardown, socketUrl(relay, 'aw-roles', 'viewer'));
    raw.send(encode({ type: 'awareness', update: encodeAwarenessUpdate([{ clientId: 777, clock: 1, state: { role: 'editor' } }]) }));
    await waitUntil(() => editor.provider.awareness.getStates().has(777));
    expect(editor.provider.awareness.getStates().get(777)).toEqual({ role: 'viewer' });
  });
});

describe('abuse limits', () => {
  it('answers 429 past the per-IP cap on concurrent sockets', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), maxConnectionsPerIp: 2 });
    await openRawSocket(teardown, socketUrl(relay, 'cap'));
    await openRawSocket(teardown, socketUrl(relay, 'cap'));
    expect(await upgradeStatus(socketUrl(relay, 'cap'))).toBe(429);
  });

  it('answers 429 past the per-IP cap on attempts per minute, valid or not', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), maxConnectAttemptsPerMinute: 3 });
    expect(await upgradeStatus(`${relay.url}/attempts`)).toBe(401);
    expect(await upgradeStatus(`${relay.url}/attempts`)).toBe(401);
    await openRawSocket(teardown, socketUrl(relay, 'attempts'));
    expect(await upgradeStatus(socketUrl(relay, 'attempts'))).toBe(429);
  });

  it('refuses browser origins that are not allowed with 403', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), allowedOrigins: ['https://docs.example'] });
    expect(await upgradeStatus(socketUrl(relay, 'origin'), { origin: 'https://evil.example' })).toBe(403);
    await openRawSocket(teardown, socketUrl(relay, 'origin'), { origin: 'https://docs.example' });
  });
});
