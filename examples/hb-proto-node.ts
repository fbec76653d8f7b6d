// A Heartbeat cluster node in a few lines: reads ha.cf and authkeys, joins
// the cluster (real Heartbeat 3.0.6 nodes included) and prints one JSON line
// per event. Run as root inside the namespace that has the ha.cf media, e.g.
//
//   ip netns exec load2 pnpm --filter @lvs-ha/hb-proto exec tsx ../../examples/hb-proto-node.ts /etc/ha.d load2
//
// With a haresources file it also takes part in the resource hand-over
// (it prints what it would start and stop). SIGUSR1 = hb_standby all,
// SIGUSR2 = hb_takeover all, SIGHUP prints the counters. SIGTERM leaves cleanly (resources released,
// peers see "shutdone"); SIGKILL is a crash.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuthkeys, parseHaCf, parseHaresources } from '@lvs-ha/ha-config';
import { HeartbeatNode, haresourcesGroups } from '@lvs-ha/hb-proto';

const [dir = '/etc/ha.d', name = (await import('node:os')).hostname()] = process.argv.slice(2);
const say = (event: string, detail: object = {}) => console.log(JSON.stringify({ event, ...detail }));

const haCf = parseHaCf(readFileSync(join(dir, 'ha.cf'), 'utf8'), { file: join(dir, 'ha.cf') });
const keysFile = join(dir, 'authkeys');
const authkeys = parseAuthkeys(readFileSync(keysFile, 'utf8'), {
  file: keysFile,
  mode: statSync(keysFile).mode & 0o7777,
});
for (const p of [...haCf.problems, ...authkeys.problems])
  if (p.severity === 'error') say('config-error', { message: p.message });

const options = HeartbeatNode.optionsFromHaCf(haCf.value.settings, name, authkeys.value);
// HBPROTO_LOSS=0.3 drops 30 % of packets each way (to watch retransmission work)
const loss = Number(process.env.HBPROTO_LOSS ?? 0);
if (loss > 0) options.simulateLoss = { receive: loss, send: loss };
const haresourcesFile = join(dir, 'haresources');
if (existsSync(haresourcesFile)) {
  const groups = haresourcesGroups(parseHaresources(readFileSync(haresourcesFile, 'utf8')).value, name);
  options.resources = {
    autoFailback: haCf.value.settings.autoFailback,
    localGroups: groups.local,
    foreignGroups: groups.foreign,
    // a real director would run IPaddr2/ldirectord here; we say what we would do
    run: (a) => say('action', { action: a.action, set: a.set, groups: a.groups, reason: a.reason }),
  };
}
const node = new HeartbeatNode(options);
node.resources?.on('change', (holding, state) =>
  say('resources', { holding, state, rscstatus: node.resources?.rscstatus }),
);
node.resources?.on('warning', (message) => say('warning', { message }));
process.on('SIGUSR1', () => node.resources?.standby('all'));
process.on('SIGHUP', () => say('counters', { ...node.membership.counters, auth: node.auth.counters }));
process.on('SIGUSR2', () => node.resources?.takeover('all'));
node.on('status', (peer, status, previous) => {
  const p = node.membership.peer(peer);
  // for a death: how long the peer had been silent, against the deadtime it advertised;
  // rounded up, since a death needs strictly more silence than the deadtime (4000.3 is not 4000)
  const silentMs = p && status === 'dead' ? Math.ceil(node.now() - p.lastHeardAt) : undefined;
  say('status', { node: peer, status, previous, deadtimeMs: p?.deadtimeMs, silentMs });
});
node.on('link', (node, medium, status) => say('link', { node, medium, status }));
node.on('late', (node, intervalMs) => say('late', { node, intervalMs }));
node.on('message', (msg, from) =>
  say('message', { from, type: msg.fields.find((f) => f.name === 't')?.value }),
);
node.on('rejected', (e, from) => say('rejected', { from, code: e.code, message: e.message }));
node.on('error', (e) => say('error', { message: e.message }));
await node.start();
say('started', { node: node.membership.node, media: node.membership.media });

process.on('SIGTERM', () => void node.close({ graceful: true }).then(() => process.exit(0)));
process.on('SIGINT', () => void node.close({ graceful: true }).then(() => process.exit(0)));
