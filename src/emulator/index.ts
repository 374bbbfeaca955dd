/**
 * The X Ads API emulator: a standalone stand-in for X, written from the documentation
 * (docs/emulator.md; docs/reference/x-ads-api.md). It imports nothing from the rest of Tailor.
 *
 *   const x = await startEmulator({ port: 0 });
 *   // x.url → "http://127.0.0.1:54321"; GET `${x.url}/_emulator/credentials` for tokens
 *   await x.close();
 */
import { buildApp } from './app.ts';
import { type EmulatorOptions, resolveSettings } from './options.ts';
import { createWorld } from './world/world.ts';

export type { EmulatorOptions } from './options.ts';

export interface RunningEmulator {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

export async function startEmulator(opts?: EmulatorOptions): Promise<RunningEmulator> {
  const settings = resolveSettings(opts);
  const world = createWorld(settings);
  const app = await buildApp(world);
  await app.listen({ port: settings.port, host: settings.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;
  return {
    url: `http://${urlHost(settings.host)}:${port}`,
    close: async () => {
      await app.close();
    },
  };
}

/** A wildcard bind is reached through loopback; IPv6 literals need brackets in a URL. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
