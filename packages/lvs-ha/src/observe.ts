// The read-only routes of the API that look at the node: GET /metrics
// (Prometheus text, src/metrics.ts). Mounted beside the control routes on
// the control socket and on the TCP listener (`--listen`), which Prometheus
// scrapes.
import type { RoutingStatus } from '@lvs-ha/bird';
import { ApiError, type ApiRoute } from './api.js';
import { bgpMetricsText } from './bgp-metrics.js';
import { ClusterMetrics, type MetricsSource } from './metrics.js';

/** What the metrics read: a ClusterNode, or an active/active director, whose BGP sessions are added (bgp-metrics.ts). */
export type ObservedNode = MetricsSource & { routingStatus?(): Promise<RoutingStatus> };

export function observeRoutes(node: () => ObservedNode | undefined): ApiRoute[] {
  let metrics: ClusterMetrics | undefined;
  return [
    {
      method: 'GET',
      path: '/metrics',
      summary:
        'Prometheus metrics of the node, its VIPs, virtual services and real servers (?reals=full adds each real server’s traffic)',
      async handle(_req, res, url) {
        const n = node();
        if (!n) throw new ApiError('STARTING', 'the node is starting');
        metrics ??= new ClusterMetrics(n);
        const [text, bgp] = await Promise.all([
          metrics.scrape({ fullReals: url.searchParams.get('reals') === 'full' }),
          n.routingStatus ? n.routingStatus().then(bgpMetricsText) : '',
        ]);
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(text + bgp);
      },
    },
  ];
}
