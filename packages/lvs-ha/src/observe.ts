// The read-only routes of the API that look at the node: GET /metrics
// (Prometheus text, src/metrics.ts). Mounted beside the control routes on
// the control socket and on the TCP listener (`--listen`), which Prometheus
// scrapes.
import type { ClusterNode } from '@lvs-ha/cluster';
import { ApiError, type ApiRoute } from './api.js';
import { ClusterMetrics } from './metrics.js';

export function observeRoutes(node: () => ClusterNode | undefined): ApiRoute[] {
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
        const text = await metrics.scrape({ fullReals: url.searchParams.get('reals') === 'full' });
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(text);
      },
    },
  ];
}
