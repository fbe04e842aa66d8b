/**
 * Attack: another site makes a visitor's browser post to the links API. Simple
 * cross-site requests (form posts, `text/plain` fetches) need no CORS preflight,
 * so they would spend the visitor's budget or act with a token they carry.
 * Rule (SPEC L1): the links API takes only `Content-Type: application/json`,
 * and refuses anything else before it counts against any budget.
 */
import { afterEach, expect, it } from 'vitest';

import { Teardown, makeTempDir, startRelay } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

it('[L1] refuses simple cross-site requests with 415, without spending the budget', async () => {
  const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), maxApiRequestsPerMinute: 2 });
  const post = (contentType: string | null, body: string) =>
    fetch(`http://127.0.0.1:${relay.port}/api/documents`, {
      method: 'POST',
      headers: contentType ? { 'Content-Type': contentType, Origin: 'https://evil.example' } : { Origin: 'https://evil.example' },
      body,
    });
  for (const [contentType, body] of [
    ['text/plain', '{}'],
    ['application/x-www-form-urlencoded', 'a=1'],
    ['multipart/form-data; boundary=x', '--x--'],
    [null, '{}'],
  ] as const) {
    const response = await post(contentType, body);
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: 'send Content-Type: application/json' });
  }
  // The budget of two is untouched by the refused requests.
  expect((await post('application/json', '{}')).status).toBe(201);
  expect((await post('application/json; charset=utf-8', '{}')).status).toBe(201);
  expect((await post('application/json', '{}')).status).toBe(429);
});
