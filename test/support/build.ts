/**
 * Vitest global setup: builds dist/ once per run, so every test that spawns `bin/tailor.js` runs
 * the code as it is now, bundled exactly as it ships.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
