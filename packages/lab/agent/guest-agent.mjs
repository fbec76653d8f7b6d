// The lab guest's control agent. It runs inside the qemu guest (the host's
// Node, chrooted into the host root shared read-only over 9p) and serves the
// host over a virtio-serial port: one JSON object per line each way.
//   host -> guest: {id, op: 'exec', argv, env?, cwd?, input?, timeoutMs?}
//                  {id, op: 'start', argv, env?, cwd?}   {id, op: 'stop', pid}
//                  {id, op: 'output', pid}               {id, op: 'shutdown'}
//   guest -> host: {hello: true, uptime, kernel}  then  {id, ok: true, ...} | {id, ok: false, error}
// Plain JavaScript on purpose: it must start with no build and no loader.
import { spawn } from 'node:child_process';
import { openSync, read, readFileSync, writeSync } from 'node:fs';

const port = process.argv[2];
if (!port) {
  process.stderr.write('usage: guest-agent.mjs /dev/vportNpM\n');
  process.exit(2);
}
const fd = openSync(port, 'r+');
const background = new Map();
const OUTPUT_LIMIT = 1 << 20;

function send(obj) {
  const line = Buffer.from(`${JSON.stringify(obj)}\n`);
  let off = 0;
  while (off < line.length) off += writeSync(fd, line, off);
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6, SIGPIPE: 13 };

function exec(msg) {
  return new Promise((resolve) => {
    const [file, ...args] = msg.argv;
    const child = spawn(file, args, {
      cwd: msg.cwd,
      env: { ...process.env, ...(msg.env ?? {}) },
      stdio: [msg.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out = [];
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, msg.timeoutMs ?? 60000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `cannot run ${msg.argv.join(' ')}: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        resolve({
          ok: false,
          timeout: true,
          error: `timed out after ${msg.timeoutMs ?? 60000} ms: ${msg.argv.join(' ')}`,
        });
        return;
      }
      resolve({
        ok: true,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? 128 + (SIGNALS[signal] ?? 0),
      });
    });
    if (msg.input !== undefined) child.stdin.end(msg.input);
  });
}

function start(msg) {
  return new Promise((resolve) => {
    const [file, ...args] = msg.argv;
    const child = spawn(file, args, {
      cwd: msg.cwd,
      env: { ...process.env, ...(msg.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry = { child, chunks: [], size: 0, exited: false };
    // Keep the last OUTPUT_LIMIT bytes: a chatty server must not grow without bound.
    const keep = (b) => {
      entry.chunks.push(b);
      entry.size += b.length;
      if (entry.size > OUTPUT_LIMIT * 2) {
        const all = Buffer.concat(entry.chunks);
        entry.chunks = [all.subarray(all.length - OUTPUT_LIMIT)];
        entry.size = OUTPUT_LIMIT;
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    entry.closed = new Promise((r) => child.on('close', () => r()));
    child.on('close', () => {
      entry.exited = true;
    });
    child.once('error', (e) =>
      resolve({ ok: false, error: `cannot start ${msg.argv.join(' ')}: ${e.message}` }),
    );
    child.once('spawn', () => {
      background.set(child.pid, entry);
      resolve({ ok: true, pid: child.pid });
    });
  });
}

function tail(buf) {
  return buf.subarray(Math.max(0, buf.length - OUTPUT_LIMIT));
}

async function stop(pid) {
  const entry = background.get(pid);
  if (!entry) return { ok: true };
  if (!entry.exited) {
    entry.child.kill('SIGTERM');
    const t = setTimeout(() => entry.child.kill('SIGKILL'), 2000);
    await entry.closed;
    clearTimeout(t);
  }
  return { ok: true };
}

async function handle(msg) {
  try {
    switch (msg.op) {
      case 'exec':
        return await exec(msg);
      case 'start':
        return await start(msg);
      case 'stop':
        return await stop(msg.pid);
      case 'output': {
        const entry = background.get(msg.pid);
        return {
          ok: true,
          output: entry ? tail(Buffer.concat(entry.chunks)).toString('utf8') : '',
          running: entry ? !entry.exited : false,
        };
      }
      case 'shutdown':
        await Promise.all([...background.keys()].map(stop));
        return { ok: true };
      default:
        return { ok: false, error: `unknown op ${msg.op}` };
    }
  } catch (e) {
    return { ok: false, error: String(e?.stack ?? e) };
  }
}

// Reads run on the thread pool (a blocking char device read), one at a time.
let pending = '';
const buf = Buffer.alloc(65536);
function readLoop() {
  read(fd, buf, 0, buf.length, null, (err, n) => {
    if (err) {
      if (err.code === 'EAGAIN' || err.code === 'EINTR') return setTimeout(readLoop, 10);
      process.stderr.write(`guest-agent: read: ${err.message}\n`);
      process.exit(1);
    }
    if (n === 0) return setTimeout(readLoop, 50); // host not connected yet
    pending += buf.toString('utf8', 0, n);
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
      if (!line.trim()) continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        send({ id: null, ok: false, error: 'bad JSON from host' });
        continue;
      }
      handle(msg).then((res) => {
        send({ id: msg.id, ...res });
        if (msg.op === 'shutdown') {
          // process.exit() would wait for the thread-pool read blocked on the
          // port; the answer is written (writeSync), so leave at once and let
          // init power the guest off.
          process.kill(process.pid, 'SIGKILL');
        }
      });
    }
    readLoop();
  });
}

const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
send({ hello: true, uptime, kernel });
readLoop();
