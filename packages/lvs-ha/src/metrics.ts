// The Prometheus metrics of a running `lvs-ha start`, exposed with
// prom-client. A scrape reads the node once (ClusterNode.observe(): the
// status, the membership thread's counters, each Director's report and the
// kernel's table with its IPVS stats) and every metric's collect() takes
// its values from that one reading, so all figures of a scrape are of the
// same moment. Nothing is kept between scrapes but the VIPs' since.
import type { ClusterObservation } from '@lvs-ha/cluster';
import type { RealServerReport } from '@lvs-ha/director';
import { describeDestination, describeService, type Stats } from '@lvs-ha/ipvs';
import { CHECK_DURATION_BUCKETS } from '@lvs-ha/probes';
import { Counter, Gauge, Registry } from 'prom-client';

/** What the metrics read: a ClusterNode, or anything that observes like one. */
export interface MetricsSource {
  observe(): Promise<ClusterObservation>;
}

/** The Heartbeat statuses a node can have (cl_status nodestatus). */
const NODE_STATUSES = ['init', 'up', 'active', 'dead'] as const;
const HOLDINGS = ['all', 'local', 'foreign', 'none'] as const;

type Labels = Record<string, string>;
type Values = { labels: Labels; value: number }[];

/** One sample of a family, kept across scrapes (only its value changes): prom-client gets the same objects each time. */
interface Slot {
  labels?: Labels;
  sharedLabels: Labels;
  value: number;
}

/**
 * A real server as a scrape reads it, kept across scrapes (its labels, a slot
 * per sample it has, its results' samples): a scrape only sets what it read
 * this time (report, stats, checks), so 10,000 real servers allocate nothing
 * per scrape.
 */
interface RealRow {
  labels: Labels;
  slots: Slot[];
  /** lvs_ha_check_results_total's samples, by result. */
  results: Map<string, Slot>;
  /** The scrape that last saw it (one not seen is dropped). */
  seen: number;
  report: RealServerReport;
  stats: Stats | undefined;
  checks: ClusterObservation['directors'][number]['checks'][number] | undefined;
}

interface VirtualRow {
  labels: Labels;
  /** The virtual service alone (the check histogram's labels). */
  checkLabels: Labels;
  inKernel: boolean;
  stats: Stats | undefined;
  reals: RealRow[];
}

/** The result label objects, one per result (prom-client formats a labels object anew each time: at least no new object). */
const RESULT_LABELS = new Map<string, Labels>();
const resultLabels = (result: string): Labels => {
  let l = RESULT_LABELS.get(result);
  if (!l) {
    l = { result };
    RESULT_LABELS.set(result, l);
  }
  return l;
};

const IN = { direction: 'in' };
const OUT = { direction: 'out' };

/** One scrape's reading, indexed for the collect() callbacks. */
interface Reading {
  o: ClusterObservation;
  virtuals: VirtualRow[];
  reals: RealRow[];
  /** ?reals=full: each real server's traffic too. */
  full: boolean;
}

/**
 * A metric whose values are set from the reading at each scrape (prom-client
 * formats them). Gauges and counters are prom-client's own classes with a
 * collect() that resets and sets them.
 */
function rows<T>(list: T[], value: (x: T) => number | undefined, labels: (x: T) => Labels): Values {
  const out: Values = [];
  for (const x of list) {
    const v = value(x);
    if (v !== undefined && Number.isFinite(v)) out.push({ labels: labels(x), value: v });
  }
  return out;
}

/** The registry of one node's metrics; `scrape()` is what GET /metrics answers. */
export class ClusterMetrics {
  readonly registry = new Registry();
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  private reading: Reading | undefined;
  /** When each VIP was first seen up (epoch ms), while it stays up. */
  private readonly vipSince = new Map<string, number>();
  /** The labels object and samples of each real server, kept across scrapes so prom-client's cache of its text holds and nothing is allocated again. */
  private readonly labelCache = new Map<string, Map<string, RealRow>>();
  private scrapes = 0;
  /** Slot numbers of the per-real-server samples, given out as the families are defined. */
  private slotCount = 0;

  constructor(private readonly source: MetricsSource) {
    this.define();
  }

  /** Notes the VIPs up now (ClusterStatus.vips): a VIP's since is when it was first noted up. */
  noteVips(vips: readonly string[], at = Date.now()): void {
    for (const v of vips) if (!this.vipSince.has(v)) this.vipSince.set(v, at);
    for (const v of [...this.vipSince.keys()]) if (!vips.includes(v)) this.vipSince.delete(v);
  }

  /** Reads the node once and renders every metric from that reading (Prometheus text format 0.0.4). */
  async scrape({ fullReals = false } = {}): Promise<string> {
    const o = await this.source.observe();
    this.noteVips(o.status.vips);
    this.reading = index(o, fullReals, this.labelCache, ++this.scrapes);
    try {
      return await this.registry.metrics();
    } finally {
      this.reading = undefined;
    }
  }

  private gauge(name: string, help: string, labelNames: string[], values: (r: Reading) => Values): void {
    const self = this;
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        const r = self.reading;
        if (r) for (const v of values(r)) this.set(v.labels, v.value);
      },
    });
  }

  private counter(name: string, help: string, labelNames: string[], values: (r: Reading) => Values): void {
    const self = this;
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        const r = self.reading;
        if (r) for (const v of values(r)) this.inc(v.labels, v.value);
      },
    });
  }

  /**
   * A family of many series (per virtual service or real server): a metric
   * object in prom-client's shape whose get() reads the scrape's reading,
   * formatted by prom-client's Registry. Each row's labels object goes in as
   * prom-client's sharedLabels, whose formatted text the Registry caches per
   * object: the labels of a real server are escaped once per scrape, not
   * once per series (10,000 real servers, several series each).
   */
  private family(
    name: string,
    help: string,
    type: 'gauge' | 'counter',
    values: (r: Reading) => { labels?: Labels; sharedLabels: Labels; value: number }[],
  ): void {
    const self = this;
    this.registry.registerMetric({
      name,
      help,
      type,
      aggregator: 'sum',
      get() {
        const r = self.reading;
        return { name, help, type, aggregator: 'sum', values: r ? values(r) : [] };
      },
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  private define(): void {
    const hb = (r: Reading) => r.o.heartbeat;
    const one = (v: number | undefined, labels: Labels = {}): Values =>
      v === undefined ? [] : [{ labels, value: v }];

    // --- the pair (Heartbeat)
    this.gauge(
      'lvs_ha_node_status',
      'Status of each node of ha.cf as this node sees it (1 for its current status: init, up, active, dead).',
      ['node', 'status'],
      (r) => {
        const nodes = [
          { name: r.o.status.node, status: r.o.status.nodeStatus },
          ...r.o.status.peers.map((p) => ({ name: p.name, status: p.status })),
        ];
        return nodes.flatMap((n) =>
          NODE_STATUSES.map((s) => ({ labels: { node: n.name, status: s }, value: n.status === s ? 1 : 0 })),
        );
      },
    );
    this.counter(
      'lvs_ha_node_transitions_total',
      'Status changes of each node (this one included) since the membership started.',
      ['node'],
      (r) => Object.entries(hb(r)?.transitions ?? {}).map(([node, value]) => ({ labels: { node }, value })),
    );
    this.gauge(
      'lvs_ha_holding',
      'Which haresources groups this node holds (cl_status rscstatus): 1 for the current one of all, local, foreign, none.',
      ['holding'],
      (r) => HOLDINGS.map((h) => ({ labels: { holding: h }, value: r.o.status.holding === h ? 1 : 0 })),
    );
    this.gauge(
      'lvs_ha_holding_since_timestamp_seconds',
      'Since when this node has held what it holds (Unix time).',
      [],
      (r) => one(r.o.status.holdingSince ? Date.parse(r.o.status.holdingSince) / 1000 : undefined),
    );
    this.counter(
      'lvs_ha_holding_changes_total',
      'Times what this node holds changed since the start.',
      [],
      (r) => one(r.o.holdingChanges),
    );
    this.gauge('lvs_ha_group_held', 'Each haresources group: 1 when held here.', ['group', 'owner'], (r) =>
      (r.o.status.groups ?? []).map((g) => ({
        labels: { group: g.key, owner: g.owner },
        value: g.heldHere ? 1 : 0,
      })),
    );
    this.counter('lvs_ha_heartbeat_packets_sent_total', 'Heartbeat datagrams sent (every medium).', [], (r) =>
      one(hb(r)?.packetsSent),
    );
    this.counter(
      'lvs_ha_heartbeat_packets_received_total',
      'Heartbeat datagrams received, before authentication.',
      [],
      (r) => one(hb(r)?.packetsReceived),
    );
    this.counter('lvs_ha_heartbeat_bytes_sent_total', 'Bytes of the Heartbeat datagrams sent.', [], (r) =>
      one(hb(r)?.bytesSent),
    );
    this.counter(
      'lvs_ha_heartbeat_bytes_received_total',
      'Bytes of the Heartbeat datagrams received.',
      [],
      (r) => one(hb(r)?.bytesReceived),
    );
    this.counter(
      'lvs_ha_heartbeat_send_errors_total',
      'Heartbeat datagrams the sockets failed to send.',
      [],
      (r) => one(hb(r)?.sendErrors),
    );
    this.counter(
      'lvs_ha_heartbeat_packets_lost_total',
      "Peers' packets given up as lost (a retransmission was asked and never came: Heartbeat's NAK).",
      [],
      (r) => one(hb(r)?.membership.lost),
    );
    this.counter(
      'lvs_ha_heartbeat_retransmissions_total',
      'Retransmissions: asked of a peer for a gap (requested), sent for a peer that asked (sent).',
      ['direction'],
      (r) => {
        const m = hb(r)?.membership;
        return m
          ? [
              { labels: { direction: 'requested' }, value: m.rexmitRequested },
              { labels: { direction: 'sent' }, value: m.rexmitSent },
            ]
          : [];
      },
    );
    this.counter(
      'lvs_ha_heartbeat_rejected_total',
      'Datagrams refused before the membership: failed authentication by kind (AUTH_FAILED, AUTH_MISSING, AUTH_UNKNOWN_KEY) or undecodable (MALFORMED, TRUNCATED, OVERSIZED…).',
      ['reason'],
      (r) => Object.entries(hb(r)?.rejected ?? {}).map(([reason, value]) => ({ labels: { reason }, value })),
    );
    this.counter(
      'lvs_ha_heartbeat_dropped_total',
      'Authenticated messages the membership dropped, by reason (duplicates, replays, stale, notForUs, unknownNode, malformed).',
      ['reason'],
      (r) => {
        const m = hb(r)?.membership;
        if (!m) return [];
        return (['duplicates', 'replays', 'stale', 'notForUs', 'unknownNode', 'malformed'] as const).map(
          (reason) => ({ labels: { reason }, value: m[reason] }),
        );
      },
    );
    this.gauge(
      'lvs_ha_peer_last_heard_timestamp_seconds',
      'When each peer was last heard (its last status message accepted; Unix time).',
      ['node'],
      (r) =>
        rows(
          hb(r)?.peers ?? [],
          (p) => (p.lastHeard === undefined ? undefined : p.lastHeard / 1000),
          (p) => ({ node: p.name }),
        ),
    );
    this.gauge(
      'lvs_ha_link_up',
      'Each heartbeat link (peer, medium): 1 up, 0 dead.',
      ['node', 'medium'],
      (r) =>
        (hb(r)?.peers ?? []).flatMap((p) =>
          p.links.map((l) => ({
            labels: { node: p.name, medium: l.medium },
            value: l.status === 'up' ? 1 : 0,
          })),
        ),
    );

    // --- the VIPs
    // status.vips are haresources' specs (192.0.2.50/32/eth0): the label is the address
    const address = (spec: string) => spec.split('/')[0] as string;
    this.gauge('lvs_ha_vip_held', 'Each VIP up on this node (1).', ['vip'], (r) =>
      r.o.status.vips.map((vip) => ({ labels: { vip: address(vip) }, value: 1 })),
    );
    this.gauge(
      'lvs_ha_vip_held_since_timestamp_seconds',
      'Since when each VIP has been up here (Unix time; as first seen by this process).',
      ['vip'],
      (r) =>
        rows(
          r.o.status.vips,
          (vip) => {
            const t = this.vipSince.get(vip);
            return t === undefined ? undefined : t / 1000;
          },
          (vip) => ({ vip: address(vip) }),
        ),
    );

    // --- the virtual services (the kernel's IPVS stats)
    const vs = (r: Reading) => r.virtuals;
    this.family(
      'lvs_ha_virtual_in_kernel',
      "Each virtual service of ldirectord.cf: 1 when it is in the kernel's IPVS table.",
      'gauge',
      (r) => vs(r).map((v) => ({ sharedLabels: v.labels, value: v.inKernel ? 1 : 0 })),
    );
    this.traffic('lvs_ha_virtual', 'the virtual service', (r) => vs(r));
    this.checkHistogram();

    // --- the real servers: by default what an operator watches of each (a
    // scrape of 10,000 stays small and fast); their traffic with ?reals=full
    const rs = (r: Reading) => r.reals;
    /** A per-real-server sample: its slot (kept across scrapes) gets the value of this scrape. */
    const each = (slot: number, v: (x: RealRow) => number | undefined) => (r: Reading) => {
      const out: Slot[] = [];
      for (const x of rs(r)) {
        const value = v(x);
        if (value === undefined) continue;
        let s = x.slots[slot];
        if (!s) {
          s = { sharedLabels: x.labels, value };
          x.slots[slot] = s;
        } else s.value = value;
        out.push(s);
      }
      return out;
    };
    const slot = () => this.slotCount++;
    const inactiveSlot = slot();
    this.family(
      'lvs_ha_real_up',
      'What the checks say of the real server: 1 up, 0 down; absent before its first check.',
      'gauge',
      each(slot(), (x) => (x.report.health === 'unchecked' ? undefined : x.report.health === 'up' ? 1 : 0)),
    );
    this.family(
      'lvs_ha_real_weight',
      "The real server's weight in the kernel's table (0: quiescent or drained); absent when it is out of the table.",
      'gauge',
      each(slot(), (x) => x.report.kernel?.weight),
    );
    this.family(
      'lvs_ha_real_active_connections',
      'ActiveConn of the real server (IPVS).',
      'gauge',
      each(slot(), (x) => x.report.kernel?.activeConns),
    );
    const full = (r: Reading) => (r.full ? rs(r) : []);
    this.family(
      'lvs_ha_real_inactive_connections',
      'InActConn of the real server (IPVS; ?reals=full).',
      'gauge',
      (r) => (r.full ? each(inactiveSlot, (x) => x.report.kernel?.inactiveConns)(r) : []),
    );
    this.family(
      'lvs_ha_virtual_check_results_total',
      "The checks of the virtual service's real servers, summed, by result: ok, or the failure's reason (per real server with ?reals=full).",
      'counter',
      (r) =>
        r.virtuals.flatMap((v) => {
          const sum: Record<string, number> = {};
          for (const x of v.reals) {
            const results = x.checks?.checks.results;
            if (results) for (const k in results) sum[k] = (sum[k] ?? 0) + (results[k] as number);
          }
          return Object.entries(sum).map(([result, value]) => ({
            labels: resultLabels(result),
            sharedLabels: v.checkLabels,
            value,
          }));
        }),
    );
    this.family(
      'lvs_ha_check_results_total',
      "The real server's checks since it was added, by result: ok, or the failure's reason (timeout, refused, bad-response, tls, unreachable, error, maintenance; ?reals=full).",
      'counter',
      (r) => {
        const out: Slot[] = [];
        for (const x of full(r)) {
          const results = x.checks?.checks.results;
          if (!results) continue;
          for (const result in results) {
            const value = results[result] as number;
            let s = x.results.get(result);
            if (!s) {
              s = { labels: resultLabels(result), sharedLabels: x.labels, value };
              x.results.set(result, s);
            } else s.value = value;
            out.push(s);
          }
        }
        return out;
      },
    );
    this.family(
      'lvs_ha_real_configured_weight',
      'The weight ldirectord.cf gives the real server (?reals=full).',
      'gauge',
      (r) => full(r).map((x) => ({ sharedLabels: x.labels, value: x.report.configuredWeight })),
    );
    this.family(
      'lvs_ha_real_override_weight',
      'The weight a runtime override (lvs-ha drain/weight) gives it while it is up; absent without one (?reals=full).',
      'gauge',
      (r) =>
        full(r).flatMap((x) => {
          const w = (x.report as { override?: { weight: number } }).override?.weight;
          return w === undefined ? [] : [{ sharedLabels: x.labels, value: w }];
        }),
    );
    this.traffic('lvs_ha_real', 'the real server (?reals=full)', full);

    // --- the director
    this.counter(
      'lvs_ha_director_operations_total',
      'Changes of the IPVS table the Directors made, by kind (add-service, edit-destination…).',
      ['op'],
      (r) => Object.entries(r.o.counters.operations).map(([op, value]) => ({ labels: { op }, value })),
    );
    this.counter(
      'lvs_ha_director_apply_errors_total',
      'Failed or refused changes of the IPVS table, by code (IPVS_READ, IPVS_APPLY).',
      ['code'],
      (r) => Object.entries(r.o.counters.applyErrors).map(([code, value]) => ({ labels: { code }, value })),
    );
    this.counter(
      'lvs_ha_director_reloads_total',
      'Reloads of an ldirectord.cf: ok (applied) or refused (a broken file: nothing changed).',
      ['result'],
      (r) => [
        { labels: { result: 'ok' }, value: r.o.counters.reloads.ok },
        { labels: { result: 'refused' }, value: r.o.counters.reloads.refused },
      ],
    );
  }

  /** Connections, packets and bytes in and out, totals and the kernel estimator's rates (IPVS stats). */
  private traffic(
    prefix: string,
    what: string,
    list: (r: Reading) => { labels: Labels; stats: Stats | undefined }[],
  ): void {
    const one = (r: Reading, v: (s: Stats) => number) => {
      const out: { sharedLabels: Labels; value: number }[] = [];
      for (const x of list(r)) if (x.stats) out.push({ sharedLabels: x.labels, value: v(x.stats) });
      return out;
    };
    const both = (r: Reading, inV: (s: Stats) => number, outV: (s: Stats) => number) => {
      const out: { labels: Labels; sharedLabels: Labels; value: number }[] = [];
      for (const x of list(r)) {
        if (!x.stats) continue;
        out.push({ labels: IN, sharedLabels: x.labels, value: inV(x.stats) });
        out.push({ labels: OUT, sharedLabels: x.labels, value: outV(x.stats) });
      }
      return out;
    };
    this.family(
      `${prefix}_connections_total`,
      `Connections scheduled to ${what} (IPVS stats).`,
      'counter',
      (r) => one(r, (s) => s.conns),
    );
    this.family(`${prefix}_packets_total`, `Packets of ${what}, in and out (IPVS stats).`, 'counter', (r) =>
      both(
        r,
        (s) => s.inPackets,
        (s) => s.outPackets,
      ),
    );
    this.family(`${prefix}_bytes_total`, `Bytes of ${what}, in and out (IPVS stats).`, 'counter', (r) =>
      both(
        r,
        (s) => s.inBytes,
        (s) => s.outBytes,
      ),
    );
    this.family(
      `${prefix}_connections_per_second`,
      `Connections per second of ${what} (the kernel's rate estimator).`,
      'gauge',
      (r) => one(r, (s) => s.cps),
    );
    this.family(
      `${prefix}_packets_per_second`,
      `Packets per second of ${what}, in and out (the kernel's rate estimator).`,
      'gauge',
      (r) =>
        both(
          r,
          (s) => s.inPps,
          (s) => s.outPps,
        ),
    );
    this.family(
      `${prefix}_bytes_per_second`,
      `Bytes per second of ${what}, in and out (the kernel's rate estimator).`,
      'gauge',
      (r) =>
        both(
          r,
          (s) => s.inBps,
          (s) => s.outBps,
        ),
    );
  }

  /**
   * The checks' durations, one histogram per virtual service (its real
   * servers' checks summed: per real server it would be 15 series each).
   * The Monitor keeps each server's cumulative buckets, which prom-client's
   * Histogram cannot be set from; so a metric object in prom-client's shape,
   * which its Registry formats as any histogram.
   */
  private checkHistogram(): void {
    const self = this;
    const name = 'lvs_ha_check_duration_seconds';
    const help = 'How long the checks of the real servers of each virtual service took.';
    const les = [...CHECK_DURATION_BUCKETS.map(String), '+Inf'];
    this.registry.registerMetric({
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get() {
        const values: { labels: Labels; sharedLabels?: Labels; value: number; metricName: string }[] = [];
        for (const v of self.reading?.virtuals ?? []) {
          const buckets = les.map(() => 0);
          let sum = 0;
          for (const x of v.reals) {
            const c = x.checks?.checks;
            if (!c) continue;
            for (let i = 0; i < CHECK_DURATION_BUCKETS.length; i++)
              (buckets[i] as number) += c.buckets[i] ?? 0;
            (buckets[les.length - 1] as number) += c.count;
            sum += c.sum;
          }
          const count = buckets[les.length - 1] as number;
          for (let i = 0; i < les.length; i++)
            values.push({
              labels: { le: les[i] as string },
              sharedLabels: v.checkLabels,
              value: buckets[i] as number,
              metricName: `${name}_bucket`,
            });
          values.push({ labels: {}, sharedLabels: v.checkLabels, value: sum, metricName: `${name}_sum` });
          values.push({ labels: {}, sharedLabels: v.checkLabels, value: count, metricName: `${name}_count` });
        }
        return { name, help, type: 'histogram' as const, values, aggregator: 'sum' as const };
      },
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }
}

/** The reading, indexed: each virtual service and real server with its labels, kernel stats and check counts. */
function index(
  o: ClusterObservation,
  full: boolean,
  cache: Map<string, Map<string, RealRow>>,
  scrape: number,
): Reading {
  const virtuals: VirtualRow[] = [];
  const reals: RealRow[] = [];
  for (const d of o.directors) {
    const byService = new Map(d.table.map((s) => [describeService(s), s]));
    const checks = new Map(d.checks.map((c) => [c.id, c]));
    for (const v of d.virtuals) {
      const kernel = byService.get(v.service);
      const row: VirtualRow = {
        labels: { virtual: v.id, service: v.service },
        checkLabels: { virtual: v.id },
        inKernel: v.inKernel,
        stats: kernel?.stats64 ?? kernel?.stats,
        reals: [],
      };
      virtuals.push(row);
      // each real server's kernel stats only for ?reals=full (its traffic); the default reads the Director's report
      const dests = full
        ? new Map((kernel?.destinations ?? []).map((x) => [describeDestination(x), x]))
        : undefined;
      let byReal = cache.get(v.id);
      if (!byReal) {
        byReal = new Map();
        cache.set(v.id, byReal);
      }
      // the Monitor's id of a real server (Director: `${virtual}/${address}:${port}`)
      const checkPrefix = `${v.id}/`;
      for (const report of v.reals) {
        const real = describeDestination(report);
        const dest = dests?.get(real);
        const check = checks.get(
          report.address.includes(':')
            ? `${checkPrefix}${report.address}:${report.port}`
            : checkPrefix + real,
        );
        let x = byReal.get(real);
        if (!x) {
          x = {
            labels: { virtual: v.id, real },
            slots: [],
            results: new Map(),
            seen: scrape,
            report,
            stats: undefined,
            checks: undefined,
          };
          byReal.set(real, x);
        }
        x.seen = scrape;
        x.report = report;
        x.stats = dest?.stats64 ?? dest?.stats;
        x.checks = check;
        row.reals.push(x);
        reals.push(x);
      }
    }
  }
  for (const [v, byReal] of cache) {
    for (const [k, c] of byReal) if (c.seen !== scrape) byReal.delete(k);
    if (byReal.size === 0) cache.delete(v);
  }
  return { o, virtuals, reals, full };
}
