// The BGP side of an active/active director on GET /metrics (appended to
// metrics.ts's families): BIRD running and its restarts, each BGP session's
// state and its BFD session's, and each VIP wanted and announced. Read from
// one BirdRouting.status() per scrape.
import type { RoutingStatus } from '@lvs-ha/bird';
import { Counter, Gauge, Registry } from 'prom-client';

/** BGP's states (RFC 4271) as BIRD names them. */
const BGP_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;

/** The families of one routing status, in Prometheus text format 0.0.4. */
export async function bgpMetricsText(s: RoutingStatus): Promise<string> {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  gauge('lvs_ha_bird_up', 'BIRD runs and answers on its control socket (1) or not (0).').set(
    s.running ? 1 : 0,
  );
  new Counter({
    name: 'lvs_ha_bird_restarts_total',
    help: 'Times BIRD was started again after it died.',
    registers: [registry],
  }).inc(s.restarts);
  const state = gauge(
    'lvs_ha_bgp_session_state',
    'Each BGP session to an upstream router: 1 for its BGP state (Idle, Connect, Active, OpenSent, OpenConfirm, Established).',
    ['session', 'neighbor', 'state'],
  );
  const up = gauge('lvs_ha_bgp_session_up', 'Each BGP session is Established (1) or not (0).', [
    'session',
    'neighbor',
  ]);
  const bfd = gauge('lvs_ha_bfd_session_up', 'The BFD session to each BGP neighbor is Up (1) or not (0).', [
    'session',
    'neighbor',
  ]);
  for (const x of s.sessions) {
    const labels = { session: x.name, neighbor: x.neighbor ?? '' };
    for (const st of BGP_STATES) state.set({ ...labels, state: st }, x.bgpState === st ? 1 : 0);
    up.set(labels, x.bgpState === 'Established' ? 1 : 0);
    if (x.bfd !== undefined) bfd.set(labels, x.bfd === 'Up' ? 1 : 0);
  }
  const wanted = gauge(
    'lvs_ha_vip_announce_wanted',
    'The health loop wants the VIP announced (a real server of its virtual services is up).',
    ['vip'],
  );
  const announced = gauge(
    'lvs_ha_vip_announced',
    "The VIP's route is announced to the BGP sessions (BIRD's static protocol is up).",
    ['vip'],
  );
  for (const v of s.vips) {
    wanted.set({ vip: v.vip }, v.wanted ? 1 : 0);
    announced.set({ vip: v.vip }, v.announced ? 1 : 0);
  }
  return registry.metrics();
}
