/**
 * Tailor's files that are not code (SQL migrations, the web UI's assets, the built writer thread),
 * by their path under src/. Found from this module: under tsx and vitest it is src/files.ts; in the
 * build every bundled file sits at the top of dist/ (scripts/build.mjs), beside copies of those
 * files in their src/ places. So the same URL holds in both, in whichever chunk this code lands.
 */
export function ownFile(path: string): URL {
  return new URL(path, import.meta.url);
}
