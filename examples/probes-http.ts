// Check a real server the way the seed's ldirectord.cf does (checktype = 4:
// connect three times, then ask /server-status for "Apache Server Status").
//   node --import tsx examples/probes-http.ts [HOST] [PORT]   (default: a local server it starts itself)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCheck } from '@lvs-ha/probes';

let host = process.argv[2];
let port = Number(process.argv[3] ?? 80);
const local = host ? undefined : createServer((_req, res) => res.end('<h1>Apache Server Status</h1>'));
if (local) {
  await new Promise<void>((r) => local.listen(0, '127.0.0.1', () => r()));
  host = '127.0.0.1';
  port = (local.address() as AddressInfo).port;
}
const spec = {
  checktype: 4,
  service: 'http' as const,
  request: '/server-status',
  receive: 'Apache Server Status',
  negotiatetimeout: 20,
};
for (let round = 0; round < 4; round++) {
  const r = await runCheck(spec, { host: host as string, port }, round);
  console.log(
    `round ${round}: ${r.ok ? 'up' : `down (${r.reason})`} in ${r.durationMs.toFixed(1)} ms ${r.detail.split('\r\n')[0] ?? ''}`,
  );
}
local?.close();
