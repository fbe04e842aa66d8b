/** Hocuspocus 4 for the benchmark: in memory, or with its SQLite extension when SQLITE_FILE is set. */
import { SQLite } from '@hocuspocus/extension-sqlite';
import { Server } from '@hocuspocus/server';

const port = Number(process.env.PORT);
const sqliteFile = process.env.SQLITE_FILE;
const server = new Server({
  port,
  address: '127.0.0.1',
  quiet: true,
  extensions: sqliteFile ? [new SQLite({ database: sqliteFile })] : [],
});
await server.listen();
console.log(`listening on ws://127.0.0.1:${port}`);
process.on('SIGTERM', () => {
  void server.destroy().then(() => process.exit(0));
});
