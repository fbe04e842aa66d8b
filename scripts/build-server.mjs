/**
 * Compiles the server entry points to plain JavaScript in dist/server, which is
 * what `npm start` and `npm run relay` run. Not tsx at run time: its esbuild
 * options keep function names, which wraps every closure the relay creates per
 * connection and per message in an `Object.defineProperty` call, costing both
 * memory (a property store per closure) and CPU.
 */
import { build } from 'esbuild';

await build({
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
});
