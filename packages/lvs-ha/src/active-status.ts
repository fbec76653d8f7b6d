// `lvs-ha status` of an active/active director (bgp.cf): its VIPs, healthy
// and announced, each BGP session with its BFD state, then the table as
// for a director of a pair.
import type { ActiveReport } from '@lvs-ha/cluster';

/** True for the status of an active/active director (its /status has mode: 'active-active'). */
export function isActiveReport(s: unknown): s is ActiveReport {
  return typeof s === 'object' && s !== null && (s as { mode?: unknown }).mode === 'active-active';
}

/** The lines before the tables. */
export function formatActiveStatus(s: ActiveReport): string {
  const r = s.routing;
  const lines = [
    `node ${s.node} (this node): ${s.nodeStatus}${s.nodeStatusSince ? ` since ${s.nodeStatusSince}` : ''} (active/active, no pair)`,
    `bird: ${r.running ? `running (pid ${r.pid})` : 'not running'}${r.restarts > 0 ? `, restarted ${r.restarts} time(s)` : ''}`,
  ];
  for (const x of r.sessions)
    lines.push(
      `bgp ${x.name} to ${x.neighbor ?? '?'}: ${x.bgpState ?? x.state}${x.bfd !== undefined ? `, bfd ${x.bfd}` : ''}${x.info && x.info !== x.bgpState ? ` (${x.info})` : ''}`,
    );
  for (const v of s.announce)
    lines.push(
      `vip ${v.vip}: ${v.announced ? 'announced' : 'withdrawn'} (${v.healthy ? 'a real server is up' : 'no real server up'}${v.wanted !== v.announced ? `; ${v.wanted ? 'announcing' : 'withdrawing'}` : ''})${v.virtuals.length > 0 ? ` for ${v.virtuals.join(', ')}` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}
