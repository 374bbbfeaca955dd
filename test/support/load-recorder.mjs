// Records what a process loads into $TAILOR_TEST_LOAD_RECORD, one per line: every ES module's
// URL, and `cjs:` with each CommonJS require's specifier (node --import this file). Used by
// test/e2e/startup-modules.e2e.test.ts. A line `listening` marks when a server started listening.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import net from 'node:net';

const file = process.env.TAILOR_TEST_LOAD_RECORD;
const load = Module._load;
Module._load = function (request, ...rest) {
  if (file) appendFileSync(file, `cjs:${request}\n`);
  return load.call(this, request, ...rest);
};
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (file) this.once('listening', () => appendFileSync(file, 'listening\n'));
  return listen.apply(this, args);
};

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
const file = process.env.TAILOR_TEST_LOAD_RECORD;
export async function load(url, context, next) {
  if (file) appendFileSync(file, url + '\\n');
  return next(url, context);
}
`),
);
