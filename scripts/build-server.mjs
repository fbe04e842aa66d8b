/**
 * Compiles the server entry points to plain JavaScript in dist/server, which is
 * what `npm start` and `npm run relay` run. Not tsx at run time: its esbuild
 * options keep function names, which wraps every closure the relay creates per
 * connection and per message in an `Object.defineProperty` call, costing both
 * memory (a property store per closure) and CPU.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { build } from 'esbuild';

const { outputFiles } = await build({
  entryPoints: ['collab-server/main.ts', 'collab-server/app-main.ts'],
  outdir: 'dist/server',
  bundle: true,
  // Dependencies stay in node_modules and load as they would from source.
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  write: false,
});

// Each file is written beside its place and renamed over it, so a server starting
// while another `npm start`/`npm run relay` rebuilds (tests run several at once)
// reads the old file or the new one, never one cut short.
for (const file of outputFiles) {
  await mkdir(dirname(file.path), { recursive: true });
  const temporary = `${file.path}.${process.pid}.tmp`;
  await writeFile(temporary, file.contents);
  await rename(temporary, file.path);
}
