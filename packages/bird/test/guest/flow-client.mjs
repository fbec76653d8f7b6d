// The client of the active/active scenario, run in the client namespace:
// opens N TCP connections to HOST:PORT, sends a line on each and reads the
// real server's name back; then on each "ping" line on stdin does it again
// on the same connections and prints, per connection, the name or what went
// wrong (reset, closed, timeout), as one JSON line.
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const [host, port, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const conns = [];

function ask(c) {
  return new Promise((resolve) => {
    if (c.failed) return resolve(c.failed);
    let buf = '';
    const timer = setTimeout(() => done('timeout'), 4000);
    const onData = (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl));
    };
    const onError = (e) => done(e.code === 'ECONNRESET' ? 'reset' : (e.code ?? 'error'));
    const onClose = () => done('closed');
    function done(v) {
      clearTimeout(timer);
      c.socket.off('data', onData);
      c.socket.off('error', onError);
      c.socket.off('close', onClose);
      if (!/^rs\d$/.test(v)) c.failed = v;
      resolve(v);
    }
    c.socket.on('data', onData);
    c.socket.once('error', onError);
    c.socket.once('close', onClose);
    c.socket.write('hi\n');
  });
}

for (let i = 0; i < count; i++) {
  const socket = connect({ host, port });
  socket.on('error', () => {});
  const c = { socket, failed: undefined };
  await new Promise((resolve) => {
    socket.once('connect', resolve);
    socket.once('error', (e) => {
      c.failed = `connect ${e.code}`;
      resolve();
    });
  });
  c.localPort = socket.localPort;
  conns.push(c);
}
const round = async (phase) => {
  const names = await Promise.all(conns.map((c) => ask(c)));
  process.stdout.write(`${JSON.stringify({ phase, ports: conns.map((c) => c.localPort), names })}\n`);
};
await round('open');
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (line === 'ping') await round('ping');
  else if (line === 'exit') break;
}
for (const c of conns) c.socket.destroy();
process.exit(0);
