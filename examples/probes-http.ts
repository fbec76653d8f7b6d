// The seed's negotiate check, once: GET /server-status, expecting "Apache Server Status".
//   node --import tsx examples/probes-http.ts [HOST] [PORT]   (default: a local server it starts itself)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkConnect, checkHttp } from '@lvs-ha/probes';

let host = process.argv[2];
let port = Number(process.argv[3] ?? 80);
const local = host ? undefined : createServer((_req, res) => res.end('<h1>Apache Server Status</h1>'));
if (local) {
  await new Promise<void>((r) => local.listen(0, '127.0.0.1', () => r()));
  host = '127.0.0.1';
  port = (local.address() as AddressInfo).port;
}
const target = { host: host as string, port };
const connect = await checkConnect(target, { timeout: 20 });
console.log(
  `connect: ${connect.ok ? 'up' : `down (${connect.reason})`} in ${connect.durationMs.toFixed(1)} ms`,
);
const http = await checkHttp(target, {
  request: '/server-status',
  receive: 'Apache Server Status',
  timeout: 20,
});
console.log(
  `negotiate: ${http.ok ? 'up' : `down (${http.reason})`} in ${http.durationMs.toFixed(1)} ms: ${http.detail.split('\r\n')[0]}`,
);
local?.close();
