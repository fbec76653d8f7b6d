// The control endpoints' target for a running ClusterNode: the runtime
// weights go to every Director running here whose ldirectord.cf names the
// real server (a node may run several files).
import type { ClusterNode } from '@lvs-ha/cluster';
import { DirectorError, type RealSelector } from '@lvs-ha/director';
import { ApiError } from './api.js';
import type { ControlTarget, DrainRequest } from './control.js';

/** What the control endpoints ask of a node: a ClusterNode, or an active/active director (ActiveNode) wrapped to look like one. */
export type ControlledNode = Pick<
  ClusterNode,
  'report' | 'standby' | 'takeover' | 'reload' | 'directorsRunning'
>;

/** The Directors whose file names `sel` (NOT_FOUND when none does, CONFLICT when none runs here). */
function directorsFor(node: ControlledNode, sel: RealSelector) {
  const running = node.directorsRunning();
  if (running.length === 0)
    throw new ApiError('CONFLICT', 'no Director runs on this node (the peer holds the ldirectord group?)');
  const named = running.filter((d) => {
    try {
      return d.director.select(sel).length > 0;
    } catch {
      return false;
    }
  });
  if (named.length === 0)
    throw new ApiError(
      'NOT_FOUND',
      `no real server ${sel.real}${sel.virtual !== undefined ? ` in virtual service ${sel.virtual}` : ''} in ${running.map((d) => d.file).join(', ')}`,
    );
  return named;
}

/** A DirectorError as the API's error (the table could not be changed: 500 with its message). */
function asApiError(e: unknown): unknown {
  if (e instanceof DirectorError)
    return new ApiError(e.code === 'BAD_WEIGHT' ? 'BAD_REQUEST' : 'INTERNAL', `${e.code}: ${e.message}`);
  return e;
}

export function nodeControl(
  node: ControlledNode,
  o: {
    stop(): void;
    fault?: ControlTarget['fault'];
  },
): ControlTarget {
  return {
    report: () => node.report(),
    standby: () => node.standby('all'),
    takeover: () => node.takeover('all'),
    reload: () => node.reload(),
    stop: o.stop,
    async drain(req: DrainRequest) {
      const waitMs = req.wait ? (req.timeout ?? 300) * 1000 : undefined;
      return Promise.all(
        directorsFor(node, req).map(async (d) => ({
          file: d.file,
          result: await d.director
            .drain(req, { ...(waitMs !== undefined && { waitMs }), ...(req.remove && { remove: true }) })
            .catch((e: unknown) => {
              throw asApiError(e);
            }),
        })),
      );
    },
    async undrain(sel) {
      const out = [];
      for (const d of directorsFor(node, sel)) {
        const done = await d.director.clearOverride(sel).catch((e: unknown) => {
          throw asApiError(e);
        });
        out.push(
          ...done.map((r) => ({
            file: d.file,
            virtual: r.virtual,
            real: r.real,
            weight: r.configuredWeight,
          })),
        );
      }
      return out;
    },
    async weight(sel, weight) {
      const out = [];
      for (const d of directorsFor(node, sel)) {
        const set = await d.director.setOverride(sel, { weight }).catch((e: unknown) => {
          throw asApiError(e);
        });
        out.push(...set.map((r) => ({ file: d.file, ...r })));
      }
      return out;
    },
    ...(o.fault && { fault: o.fault }),
  };
}
