/**
 * Hocuspocus 4 for the benchmark: in memory, with its SQLite extension when
 * SQLITE_FILE is set, or with its Redis extension (instances that share
 * documents through Redis pub/sub) when REDIS_URL is set.
 */
import { Redis } from '@hocuspocus/extension-redis';
import { SQLite } from '@hocuspocus/extension-sqlite';
import { Server, type Extension } from '@hocuspocus/server';

const port = Number(process.env.PORT);
const sqliteFile = process.env.SQLITE_FILE;
const redisUrl = process.env.REDIS_URL ? new URL(process.env.REDIS_URL) : null;
const extensions: Extension[] = [];
if (sqliteFile) extensions.push(new SQLite({ database: sqliteFile }));
if (redisUrl) extensions.push(new Redis({ host: redisUrl.hostname, port: Number(redisUrl.port) }));
const server = new Server({ port, address: '127.0.0.1', quiet: true, extensions });
await server.listen();
console.log(`listening on ws://127.0.0.1:${port}`);
process.on('SIGTERM', () => {
  void server.destroy().then(() => process.exit(0));
});
