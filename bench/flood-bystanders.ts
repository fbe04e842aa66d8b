/**
 * People in the attacked room, in a process of their own (like the browsers
 * they stand for): stock y-websocket clients that receive whatever the relay
 * forwards from the attacker. Prints `ready` once all are synced and stays
 * until it is killed.
 *
 *   tsx bench/flood-bystanders.ts <room url> <count>
 */
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

import { webSocketFrom } from './forwarded-socket';

const [url, countArg] = process.argv.slice(2);
if (!url) {
  console.error('usage: tsx bench/flood-bystanders.ts <room url> <count>');
  process.exit(2);
}
const parsed = new URL(url);
const room = parsed.pathname.slice(parsed.pathname.lastIndexOf('/') + 1);
const base = `${parsed.protocol}//${parsed.host}${parsed.pathname.slice(0, parsed.pathname.lastIndexOf('/'))}`;
const providers = Array.from(
  { length: Number(countArg ?? '5') },
  (_, index) =>
    new WebsocketProvider(base, room, new Y.Doc(), {
      // Each bystander is a person of their own, at an address of their own.
      WebSocketPolyfill: webSocketFrom(`192.0.2.${index + 1}`),
      params: Object.fromEntries(parsed.searchParams),
      disableBc: true,
    }),
);
await Promise.all(providers.map((provider) => new Promise<void>((resolve) => (provider.synced ? resolve() : provider.once('sync', () => resolve())))));
console.log('ready');
