#!/usr/bin/env node
// The `tailor` command. Sources are TypeScript run through tsx's loader, so a clone works after
// `npm ci` with no build step and no compiled copy that can drift from the sources.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
