// The control endpoints of a running `lvs-ha start` on its HTTP API (api.ts):
// what Heartbeat's cl_status, hb_standby and hb_takeover ask the daemon,
// ldirectord's reload and stop, and the runtime weights (drain, undrain,
// weight). The routes call a ControlTarget (the running node); the client
// (askControl) is what the CLI's commands and the tests use.
import type { DrainResult, RealOverride, RealSelector } from '@lvs-ha/director';
import { ApiError, type ApiErrorCode, type ApiRoute, readJsonBody, requestApi, sendJson } from './api.js';

/** Where `lvs-ha start` listens unless told otherwise. */
export const DEFAULT_CONTROL_SOCKET = '/run/lvs-ha/control.sock';

/** A drain as asked: the real servers, and whether to wait for their connections to end, how long, then remove them. */
export interface DrainRequest extends RealSelector {
  wait?: boolean;
  /** Seconds to wait at most (default 300). */
  timeout?: number;
  remove?: boolean;
}

export type ControlRequest =
  | { op: 'status' }
  | { op: 'standby' }
  | { op: 'takeover' }
  | { op: 'reload' }
  | { op: 'stop' }
  | ({ op: 'drain' } & DrainRequest)
  | ({ op: 'undrain' } & RealSelector)
  | ({ op: 'weight'; weight: number } & RealSelector)
  /** Fault injection for the fail-safety tests; honoured only by a node started with LVS_HA_FAULT_INJECTION=1. */
  | { op: 'fault'; fault: 'kill-heartbeat-thread' }
  | { op: 'fault'; fault: 'block-main'; ms: number };

/** One override as the API answers it: the real server, its virtual service, the weight it now has while up. */
export interface OverrideAnswer extends RealOverride {
  /** The ldirectord.cf whose Director holds it. */
  file: string;
}

/** What a running node does for the control endpoints (lvs-ha start's ClusterNode). */
export interface ControlTarget {
  report(): Promise<unknown>;
  standby(): void;
  takeover(): void;
  reload(): Promise<{ file: string; ok: boolean }[]>;
  /** Starts the stop (the answer goes out before the node is gone). */
  stop(): void;
  drain(req: DrainRequest): Promise<{ file: string; result: DrainResult }[]>;
  undrain(sel: RealSelector): Promise<{ file: string; virtual: string; real: string; weight: number }[]>;
  weight(sel: RealSelector, weight: number): Promise<OverrideAnswer[]>;
  /** Present only with LVS_HA_FAULT_INJECTION=1. */
  fault?(f: { fault: 'kill-heartbeat-thread' } | { fault: 'block-main'; ms: number }): void;
}

export type ControlErrorCode = 'NOT_RUNNING' | 'IN_USE' | 'PROTOCOL' | ApiErrorCode;

export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    /** NOT_RUNNING: nothing listens there; IN_USE: another node does; PROTOCOL: an answer not in the API's shape; else the API's own code. */
    readonly code: ControlErrorCode,
    message: string,
    /** The HTTP status of a refusal. */
    readonly status?: number,
  ) {
    super(message);
  }
}

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v.trim() === '')
    throw new ApiError('BAD_REQUEST', `${what} is a non-empty string`);
  return v;
};

/** The real server and, when given, the virtual service of a body. */
export function parseSelector(body: Record<string, unknown>): RealSelector {
  const real = str(body.real, 'real (ADDRESS[:PORT])');
  if (body.virtual === undefined) return { real };
  return { real, virtual: str(body.virtual, 'virtual') };
}

/** A drain's body: { real, virtual?, wait?, timeout? (seconds, default 300), remove? }. */
export function parseDrainRequest(body: Record<string, unknown>): DrainRequest {
  const sel = parseSelector(body);
  for (const k of ['wait', 'remove'] as const)
    if (body[k] !== undefined && typeof body[k] !== 'boolean')
      throw new ApiError('BAD_REQUEST', `${k} is true or false`);
  const t = body.timeout;
  if (t !== undefined && !(typeof t === 'number' && t > 0 && t <= 86_400))
    throw new ApiError('BAD_REQUEST', 'timeout is seconds, above 0 and at most 86400');
  return {
    ...sel,
    ...(body.wait === true && { wait: true }),
    ...(typeof t === 'number' && { timeout: t }),
    ...(body.remove === true && { remove: true }),
  };
}

/** A weight's body: { real, virtual?, weight } (an integer 0 to 65535, as ipvsadm's -w). */
export function parseWeightRequest(body: Record<string, unknown>): RealSelector & { weight: number } {
  const sel = parseSelector(body);
  const w = body.weight;
  if (!(typeof w === 'number' && Number.isInteger(w) && w >= 0 && w <= 65_535))
    throw new ApiError('BAD_REQUEST', 'weight is an integer from 0 to 65535');
  return { ...sel, weight: w };
}

/** A fault's body: { fault: 'kill-heartbeat-thread' } or { fault: 'block-main', ms: 1..600000 }. */
export function parseFaultRequest(
  body: Record<string, unknown>,
): { fault: 'kill-heartbeat-thread' } | { fault: 'block-main'; ms: number } {
  if (body.fault === 'kill-heartbeat-thread') return { fault: body.fault };
  const ms = body.ms;
  if (body.fault === 'block-main' && Number.isInteger(ms) && (ms as number) > 0 && (ms as number) <= 600_000)
    return { fault: body.fault, ms: ms as number };
  throw new ApiError('BAD_REQUEST', 'fault is kill-heartbeat-thread, or block-main with ms (1 to 600000)');
}

/** The HTTP request of a ControlRequest (pure: the client's half of the protocol). */
export function httpOf(req: ControlRequest): {
  method: 'GET' | 'POST';
  path: string;
  body?: Record<string, unknown>;
} {
  const { op, ...rest } = req;
  if (op === 'status') return { method: 'GET', path: '/status' };
  return { method: 'POST', path: `/${op}`, ...(Object.keys(rest).length > 0 && { body: rest }) };
}

/**
 * The control endpoints. `target()` is the running node, or undefined while
 * it is being built (503 STARTING).
 */
export function controlRoutes(target: () => ControlTarget | undefined): ApiRoute[] {
  const node = (): ControlTarget => {
    const t = target();
    if (!t) throw new ApiError('STARTING', 'the node is starting');
    return t;
  };
  const post = (
    path: string,
    summary: string,
    run: (t: ControlTarget, body: Record<string, unknown>) => Promise<unknown> | unknown,
  ): ApiRoute => ({
    method: 'POST',
    path,
    write: true,
    summary,
    async handle(req, res) {
      const body = await readJsonBody(req);
      sendJson(res, 200, await run(node(), body));
    },
  });
  return [
    {
      method: 'GET',
      path: '/status',
      summary: 'what the node believes (cl_status) and each Director’s table as the kernel has it',
      async handle(_req, res) {
        sendJson(res, 200, await node().report());
      },
    },
    post('/standby', 'give our resource groups to the peer (hb_standby)', (t) => {
      t.standby();
      return { ok: true };
    }),
    post('/takeover', "take the peer's resource groups (hb_takeover)", (t) => {
      t.takeover();
      return { ok: true };
    }),
    post('/reload', 're-read ldirectord.cf (a file with errors changes nothing)', async (t) => ({
      files: await t.reload(),
    })),
    post('/stop', 'release the resources and leave (as SIGTERM)', (t) => {
      t.stop();
      return { ok: true };
    }),
    post('/drain', 'weight 0 for a real server; wait for its connections to end; remove', async (t, b) => {
      const r = await t.drain(parseDrainRequest(b));
      return {
        drained: r.every((x) => x.result.drained),
        removed: r.some((x) => x.result.removed),
        waitedMs: Math.max(0, ...r.map((x) => x.result.waitedMs)),
        reals: r.flatMap((x) => x.result.reals.map((y) => ({ file: x.file, ...y }))),
      };
    }),
    post('/undrain', 'undo a drain or a runtime weight: the weight of ldirectord.cf again', async (t, b) => ({
      reals: await t.undrain(parseSelector(b)),
    })),
    post('/weight', 'a runtime weight for a real server (kept until undrain)', async (t, b) => {
      const w = parseWeightRequest(b);
      return { reals: await t.weight(w, w.weight) };
    }),
    post('/fault', 'fault injection (LVS_HA_FAULT_INJECTION=1 only)', (t, b) => {
      if (!t.fault)
        throw new ApiError(
          'FAULT_INJECTION_OFF',
          'fault injection is off (LVS_HA_FAULT_INJECTION=1 turns it on)',
        );
      t.fault(parseFaultRequest(b));
      return { ok: true };
    }),
  ];
}

/**
 * Asks the node listening on `path`: the answer's JSON body, or a
 * ControlError: NOT_RUNNING when nothing listens, the API's code when it
 * refused, PROTOCOL for an answer not in its shape.
 */
export async function askControl(path: string, req: ControlRequest, timeoutMs = 10_000): Promise<unknown> {
  const { method, path: url, body } = httpOf(req);
  let answer: Awaited<ReturnType<typeof requestApi>>;
  try {
    answer = await requestApi({ socketPath: path }, method, url, { ...(body && { body }), timeoutMs });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED')
      throw new ControlError('NOT_RUNNING', `no lvs-ha start listens on ${path}`);
    throw new ControlError('PROTOCOL', `${path}: ${(e as Error).message}`);
  }
  if (answer.status >= 200 && answer.status < 300 && typeof answer.body === 'object') return answer.body;
  const err = (answer.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (err && typeof err.code === 'string' && typeof err.message === 'string')
    throw new ControlError(err.code as ControlErrorCode, err.message, answer.status);
  throw new ControlError(
    'PROTOCOL',
    `${path}: HTTP ${answer.status}: ${answer.text.slice(0, 200)}`,
    answer.status,
  );
}
