// The metrics' exposition: prom-client's text, checked by Prometheus' own
// parser (promtool check metrics, Debian's prometheus package), and the
// values of a reading found under their names and labels.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClusterMetrics } from '../src/metrics.js';
import { observation } from './support/observation.js';
import { PROMTOOL, promtoolCheck, sample } from './support/prom.js';

describe.skipIf(!existsSync(PROMTOOL) && process.env.CI !== 'true')('metrics', () => {
  it('renders every metric of a reading as Prometheus text that promtool accepts', async () => {
    const o = observation(3, 4);
    const m = new ClusterMetrics({ observe: async () => o });
    const text = await m.scrape({ fullReals: true });
    const lint = await promtoolCheck(text);
    // promtool exits 0 on valid text; it says what it would lint (none expected)
    expect(lint, lint.out).toMatchObject({ code: 0 });
    expect(lint.out).toBe('');
    expect(sample(text, 'lvs_ha_node_status', { node: 'load1', status: 'active' })).toBe(1);
    expect(sample(text, 'lvs_ha_node_status', { node: 'load2', status: 'dead' })).toBe(0);
    expect(sample(text, 'lvs_ha_holding', { holding: 'local' })).toBe(1);
    expect(sample(text, 'lvs_ha_heartbeat_packets_sent_total')).toBe(1234);
    expect(sample(text, 'lvs_ha_heartbeat_rejected_total', { reason: 'AUTH_FAILED' })).toBe(2);
    expect(sample(text, 'lvs_ha_heartbeat_retransmissions_total', { direction: 'requested' })).toBe(5);
    expect(sample(text, 'lvs_ha_heartbeat_packets_lost_total')).toBe(1);
    expect(sample(text, 'lvs_ha_link_up', { node: 'load2', medium: 'bcast eth0' })).toBe(1);
    expect(sample(text, 'lvs_ha_vip_held', { vip: '192.0.2.50' })).toBe(1);
    expect(sample(text, 'lvs_ha_vip_held_since_timestamp_seconds', { vip: '192.0.2.50' })).toBeGreaterThan(0);
    const dir = o.directors[0];
    const v = dir?.virtuals[1];
    const real = v?.reals[2];
    const labels = { virtual: v?.id ?? '', real: `${real?.address}:${real?.port}` };
    const dest = dir?.table[1]?.destinations.find(
      (d) => d.address === real?.address && d.port === real?.port,
    );
    expect(sample(text, 'lvs_ha_real_weight', labels)).toBe(real?.kernel?.weight);
    expect(sample(text, 'lvs_ha_real_active_connections', labels)).toBe(real?.kernel?.activeConns);
    expect(sample(text, 'lvs_ha_real_packets_total', { ...labels, direction: 'out' })).toBe(
      dest?.stats64?.outPackets,
    );
    expect(sample(text, 'lvs_ha_real_bytes_per_second', { ...labels, direction: 'in' })).toBe(
      dest?.stats64?.inBps,
    );
    expect(sample(text, 'lvs_ha_real_up', labels)).toBe(1);
    expect(sample(text, 'lvs_ha_check_results_total', { ...labels, result: 'ok' })).toBe(4);
    // the check histogram is per virtual service: each of its real servers had 4 checks
    const checked = 4 * (v?.reals.length ?? 0);
    expect(sample(text, 'lvs_ha_check_duration_seconds_bucket', { virtual: v?.id ?? '', le: '+Inf' })).toBe(
      checked,
    );
    expect(sample(text, 'lvs_ha_check_duration_seconds_count', { virtual: v?.id ?? '' })).toBe(checked);
    // a real server that is down: out of the table (no weight), its failure counted by reason
    const downReal = v?.reals.find((r) => r.health === 'down');
    if (downReal) {
      const dl = { virtual: v?.id ?? '', real: `${downReal.address}:${downReal.port}` };
      expect(sample(text, 'lvs_ha_real_weight', dl)).toBeUndefined();
      expect(sample(text, 'lvs_ha_real_in_kernel', dl)).toBe(0);
      expect(sample(text, 'lvs_ha_check_results_total', { ...dl, result: 'refused' })).toBe(1);
    }
    expect(
      sample(text, 'lvs_ha_virtual_connections_total', { virtual: v?.id ?? '', service: v?.service ?? '' }),
    ).toBe(1);
    expect(sample(text, 'lvs_ha_director_reloads_total', { result: 'refused' })).toBe(1);
    expect(sample(text, 'lvs_ha_director_operations_total', { op: 'add-destination' })).toBe(12);
    // the default scrape: each real server's state, not its traffic; then ?reals=full again has it
    const plain = await m.scrape();
    expect(sample(plain, 'lvs_ha_real_active_connections', labels)).toBe(real?.kernel?.activeConns);
    expect(sample(plain, 'lvs_ha_real_packets_total', { ...labels, direction: 'out' })).toBeUndefined();
    expect(
      sample(plain, 'lvs_ha_virtual_connections_total', { virtual: v?.id ?? '', service: v?.service ?? '' }),
    ).toBe(1);
    expect(await m.scrape({ fullReals: true })).toBe(text);
  });

  it('reads the node anew at each scrape', async () => {
    let sent = 10;
    const m = new ClusterMetrics({
      observe: async () => {
        const o = observation(1, 1);
        if (o.heartbeat) o.heartbeat.packetsSent = sent;
        sent += 5;
        return o;
      },
    });
    expect(sample(await m.scrape(), 'lvs_ha_heartbeat_packets_sent_total')).toBe(10);
    expect(sample(await m.scrape(), 'lvs_ha_heartbeat_packets_sent_total')).toBe(15);
  });
});
