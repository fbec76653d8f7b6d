// Cheap real servers for the benchmark: COUNT listeners in one process, one
// per loopback address 127.<NET>.<i / 250>.<i % 250 + 1>, all on PORT; 'tcp'
// closes each connection at once, 'http' answers like Apache's
// /server-status. Commands on stdin: `kill I` (close listener I; prints
// `killed I <Date.now()>`), `accepts` (connections accepted so far).
//   node listeners.mjs tcp|http COUNT NET PORT [FIRST]   (listeners FIRST … FIRST+COUNT-1)
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

const [kind, countArg, net, portArg, firstArg] = process.argv.slice(2);
const count = Number(countArg);
const first = Number(firstArg ?? 0);
const port = Number(portArg);
const address = (i) => `127.${net}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
const body =
  '<html><head><title>Apache Status</title></head><body><h1>Apache Server Status for bench</h1></body></html>\n';
let accepts = 0;
const servers = [];
for (let k = 0; k < count; k++) {
  const s =
    kind === 'http'
      ? createHttpServer({ keepAlive: false }, (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html', connection: 'close' });
          res.end(body);
        })
      : createServer((sock) => {
          sock.on('error', () => {});
          sock.destroy();
        });
  s.on('connection', (sock) => {
    accepts++;
    sock.on('error', () => {});
  });
  servers.push(s);
}
let listening = 0;
for (let k = 0; k < count; k++)
  servers[k].listen({ port, host: address(first + k), backlog: 64 }, () => {
    if (++listening === count) console.log('ready');
  });
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'kill') {
    servers[Number(arg) - first].close();
    console.log(`killed ${arg} ${Date.now()}`);
  } else if (cmd === 'accepts') console.log(`accepts ${accepts}`);
});
process.stdin.on('end', () => process.exit(0));
