// The control socket of a running `lvs-ha start`: what Heartbeat's
// cl_status, hb_standby and hb_takeover ask the daemon. A Unix socket, mode
// 0600 (root only, as the daemon's own API is for haclient only); one JSON
// request line in, one JSON answer line out.
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';

/** Where `lvs-ha start` listens unless told otherwise. */
export const DEFAULT_CONTROL_SOCKET = '/run/lvs-ha/control.sock';

export type ControlRequest =
  | { op: 'status' }
  | { op: 'standby' }
  | { op: 'takeover' }
  | { op: 'reload' }
  | { op: 'stop' }
  /** Fault injection for the fail-safety tests; honoured only by a node started with LVS_HA_FAULT_INJECTION=1. */
  | { op: 'fault'; fault: 'kill-heartbeat-thread' }
  | { op: 'fault'; fault: 'block-main'; ms: number };
export type ControlAnswer = { ok: true; status?: unknown; result?: unknown } | { ok: false; error: string };

const OPS = ['status', 'standby', 'takeover', 'reload', 'stop'] as const;

export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    /** NOT_RUNNING: nothing listens there; IN_USE: another node does; PROTOCOL: a bad request or answer. */
    readonly code: 'NOT_RUNNING' | 'IN_USE' | 'PROTOCOL',
    message: string,
  ) {
    super(message);
  }
}

/** Parses one request line; a ControlError for anything else. */
export function parseControlRequest(line: string): ControlRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ControlError('PROTOCOL', 'a request is one line of JSON');
  }
  const r = (v ?? {}) as { op?: unknown; fault?: unknown; ms?: unknown };
  const op = r.op;
  if ((OPS as readonly unknown[]).includes(op)) return { op: op as (typeof OPS)[number] };
  if (op === 'fault') {
    if (r.fault === 'kill-heartbeat-thread') return { op, fault: r.fault };
    if (
      r.fault === 'block-main' &&
      Number.isInteger(r.ms) &&
      (r.ms as number) > 0 &&
      (r.ms as number) <= 600_000
    )
      return { op, fault: r.fault, ms: r.ms as number };
    throw new ControlError('PROTOCOL', 'fault is kill-heartbeat-thread, or block-main with ms (1 to 600000)');
  }
  throw new ControlError('PROTOCOL', `unknown op ${JSON.stringify(op)} (${OPS.join(', ')})`);
}

/** Reads one line from a socket (at most 64 KiB). */
function oneLine(socket: Socket, limit = 65_536): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        socket.off('data', onData);
        resolve(buf.slice(0, nl));
      } else if (buf.length > limit) {
        socket.destroy();
        reject(new ControlError('PROTOCOL', `no end of line in ${limit} bytes`));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => reject(new ControlError('PROTOCOL', 'closed before a whole line')));
  });
}

/**
 * Listens on `path` and answers each request with `handle`. A socket file
 * left by a node that died is replaced; one that answers is another node's
 * (IN_USE). close() removes the file.
 */
export async function serveControl(
  path: string,
  handle: (req: ControlRequest) => Promise<ControlAnswer>,
): Promise<{ close(): Promise<void> }> {
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new ControlError('IN_USE', `${path}: another lvs-ha start answers there`);
  await unlink(path).catch(() => undefined);
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const server: Server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    oneLine(socket)
      .then((line) => handle(parseControlRequest(line)))
      .catch((e: unknown): ControlAnswer => ({ ok: false, error: (e as Error).message }))
      .then((answer) => socket.end(`${JSON.stringify(answer)}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return {
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(path).catch(() => undefined);
    },
  };
}

/** Asks the node listening on `path`; its answer, or a ControlError (NOT_RUNNING when nothing listens). */
export async function askControl(
  path: string,
  req: ControlRequest,
  timeoutMs = 10_000,
): Promise<ControlAnswer> {
  const socket = connect(path);
  socket.setTimeout(timeoutMs, () =>
    socket.destroy(new ControlError('PROTOCOL', `no answer in ${timeoutMs} ms`)),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
            ? new ControlError('NOT_RUNNING', `no lvs-ha start listens on ${path}`)
            : e,
        ),
      );
    });
    const line = oneLine(socket);
    socket.write(`${JSON.stringify(req)}\n`);
    const answer = JSON.parse(await line) as ControlAnswer;
    if (typeof answer?.ok !== 'boolean') throw new ControlError('PROTOCOL', 'an answer without ok');
    return answer;
  } finally {
    socket.destroy();
  }
}
