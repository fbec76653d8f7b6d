// TCP listeners for the connector tests, run inside a namespace:
//   node listeners.mjs HOST:PORT...   ([::1]:8080 for IPv6)
// Prints `ready`; on stdin `count` prints the connections each accepted
// ({"127.0.0.1:8080": 3, ...}), `close HOST:PORT` closes that listener.
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

const accepted = {};
const servers = {};
let listening = 0;
const specs = process.argv.slice(2);
for (const spec of specs) {
  const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(spec);
  accepted[spec] = 0;
  const s = createServer((sock) => {
    accepted[spec]++;
    sock.on('error', () => {});
    sock.destroy();
  });
  servers[spec] = s;
  s.listen({ host: m[1], port: Number(m[2]), ipv6Only: m[1].includes(':') }, () => {
    if (++listening === specs.length) console.log('ready');
  });
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'count') console.log(JSON.stringify(accepted));
  else if (cmd === 'close') servers[arg].close(() => console.log(`closed ${arg}`));
});
process.stdin.on('end', () => process.exit(0));
