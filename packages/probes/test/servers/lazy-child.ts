// Run by lazy.test.ts in a fresh Node: imports the package, runs an http
// check (and optionally a dns check), prints which client libraries Node loaded.

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { runCheck } from '../../src/index.js';

const require = createRequire(import.meta.url);
const server = createServer((_q, r) => r.end('ok'));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as AddressInfo).port;
const http = await runCheck({ checktype: 'negotiate', service: 'http' }, { host: '127.0.0.1', port });
if (process.argv.includes('--dns')) {
  // A closed UDP port: the check fails, but it had to load its codec.
  await runCheck(
    { checktype: 'negotiate', service: 'dns', request: 'x', negotiatetimeout: 1 },
    { host: '127.0.0.1', port: 9 },
  );
}
server.close();
const loaded = Object.keys(require.cache)
  .map((f) => /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1])
  .filter((n): n is string => n !== undefined);
process.stdout.write(JSON.stringify({ http: http.ok, loaded: [...new Set(loaded)].sort() }));
