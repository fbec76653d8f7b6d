// Watch the real servers of an ldirectord.cf and print each transition with its reason.
//   node --import tsx examples/probes-monitor.ts [ldirectord.cf] [seconds]
// Without a file it makes its own: the seed's check (checktype = 4, /server-status expecting
// "Apache Server Status", negotiatetimeout = 20) on two stand-in real servers it starts on
// 127.0.0.1, and stops one of them after two seconds.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Monitor, monitorFromLdirectordCf } from '@lvs-ha/probes';

const file = process.argv[2];
const seconds = Number(process.argv[3] ?? (file ? 0 : 5));
let text: string;
const local: ReturnType<typeof createServer>[] = [];
if (file) text = readFileSync(file, 'utf8');
else {
  const ports: number[] = [];
  for (let i = 0; i < 2; i++) {
    const s = createServer((_req, res) => res.end('<h1>Apache Server Status for rs</h1>\n'));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    local.push(s);
    ports.push((s.address() as AddressInfo).port);
  }
  text = `checkinterval = 1

virtual = 192.0.2.50:80
\treal = 127.0.0.1:${ports[0]} gate 5
\treal = 127.0.0.1:${ports[1]} gate 5
\tscheduler = wrr
\tprotocol = tcp
\tchecktype = 4
\tservice = http
\trequest = "/server-status"
\treceive = "Apache Server Status"
\tnegotiatetimeout = 20
`;
  setTimeout(() => {
    console.log(`stopping the real server on port ${ports[1]}`);
    local[1]?.close();
    local[1]?.closeAllConnections();
  }, 2000);
}

const { servers, options, skipped } = monitorFromLdirectordCf(text, file ? { file } : {});
for (const s of skipped) console.log(`skipped ${s.real} in ${s.virtual}: ${s.why}`);
console.log(`checking ${servers.length} real servers`);
const monitor = new Monitor(servers, options);
monitor.on('transition', ({ id, up, result }) => {
  const first = result.detail.split('\r\n')[0]?.slice(0, 60);
  console.log(`${id} ${up ? 'up' : `down (${result.reason})`} ${first ?? ''}`.trimEnd());
});
if (seconds > 0)
  setTimeout(() => {
    monitor.stop();
    for (const s of local) s.close();
    for (const st of monitor.states()) console.log(`${st.id}: ${st.rounds} checks`);
  }, seconds * 1000);
