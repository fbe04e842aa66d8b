/** Global setup of Vitest and Playwright: compile the server, so process tests run what `npm start` runs. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function buildServer(): void {
  execFileSync(process.execPath, ['scripts/build-server.mjs'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'inherit' });
}
