// The pair's files for the fault suite: ha.cf, authkeys, haresources and the
// script resource `vipb`, for both kinds of pair:
//   A: lvs-ha start on load1 and load2;
//   B: lvs-ha start on load1, Debian's Heartbeat 3.0.6 on load2 (its own
//      IPaddr/IPaddr2 and a copy of vipb in its resource.d).
// load1's group is VIP1 and vipb (which brings VIP1b up), load2's is VIP2.
// Every address is in 192.0.2.0/24 on the suite's own segments.

export type Kind = 'A' | 'B';
export type NodeName = 'load1' | 'load2';
export const NODES: readonly NodeName[] = ['load1', 'load2'];

export const VIP1 = '192.0.2.50';
/** brought up by load1's second resource, the script vipb */
export const VIP1B = '192.0.2.52';
export const VIP2 = '192.0.2.51';
export const VIPS: readonly string[] = [VIP1, VIP1B, VIP2];
/** which node's group each VIP belongs to (auto_failback on: where it lives when both are up) */
export const HOME: Record<string, NodeName> = { [VIP1]: 'load1', [VIP1B]: 'load1', [VIP2]: 'load2' };

export interface Timings {
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
}

/**
 * A: no real Heartbeat involved, so the shorter timings (keepalive 200 ms,
 * deadtime 1 s, initdead 3 s). B: the real Heartbeat's (keepalive 250 ms,
 * deadtime 2 s, warntime 1 s, initdead 6 s), as the heartbeat-peer test.
 */
export const TIMINGS: Record<Kind, Timings> = {
  A: { keepaliveMs: 200, deadtimeMs: 1000, warntimeMs: 500, initdeadMs: 3000 },
  B: { keepaliveMs: 250, deadtimeMs: 2000, warntimeMs: 1000, initdeadMs: 6000 },
};

/**
 * The loss lane's timings: 16 keepalives per deadtime, so that 30 % loss
 * alone (0.3^16: never within a minute) cannot make a node dead, and a
 * failover under it is the node's fault, not the dice's. With deadtime 2 s
 * (8 keepalives) a loaded CI machine saw lvs-ha and, per the measurements
 * in scenarios.ts, real Heartbeats declare a live peer dead now and then.
 */
export const LOSS_TIMINGS: Timings = {
  keepaliveMs: 250,
  deadtimeMs: 4000,
  warntimeMs: 2000,
  initdeadMs: 8000,
};

/**
 * A node the test starts, continues (SIGCONT) or reconnects counts as live
 * only one deadtime later: until then it cannot have heard its peer (a
 * resumed or reconnected node learns that the peer took over only from the
 * peer's next heartbeats, and Heartbeat gives it a deadtime to do so), so
 * what it still or already holds in that time is not counted against it.
 * Everything it holds after that is.
 */
export const liveGraceMs = (t: Timings) => t.deadtimeMs;

const seconds = (ms: number) => (ms % 1000 === 0 ? String(ms / 1000) : `${ms}ms`);

/**
 * ha.cf. `logfile`: where the node writes its log. The real Heartbeat has a
 * private /var/log (bound over in its own mount namespace); lvs-ha honours
 * logfile too and shares this machine's file system, so it gets a file in
 * the pair's directory, never this machine's /var/log.
 */
export function haCf(t: Timings, logfile = '/var/log/ha-log'): string {
  return [
    `logfile ${logfile}`,
    `keepalive ${seconds(t.keepaliveMs)}`,
    `deadtime ${seconds(t.deadtimeMs)}`,
    `warntime ${seconds(t.warntimeMs)}`,
    `initdead ${seconds(t.initdeadMs)}`,
    'udpport 694',
    'bcast eth0',
    'auto_failback on',
    'node load1 load2',
    '',
  ].join('\n');
}

export const AUTHKEYS = 'auth 1\n1 sha1 fault-suite-secret\n';

/** load1: IPaddr2's form and the script; load2: the bare address (Heartbeat's IPaddr). */
export const HARESOURCES = `load1 IPaddr2::${VIP1}/32/eth0 vipb::${VIP1B}\nload2 ${VIP2}/32/eth0\n`;

/**
 * The script resource, Heartbeat style (`vipb ADDRESS start|stop|status`):
 * start adds ADDRESS/32 to eth0 (and announces it), stop removes it, status says running (0) or
 * stopped (3). With `faulty`, it obeys flag files in `flags`: `start-fail`
 * makes its start exit 1 without adding the address, `stop-fail` makes its
 * stop exit 1 without removing it, `stop-hang` makes its stop wait (without
 * removing it) as long as the flag is there. The real Heartbeat's
 * copy is never faulty: its ResourceManager answers a failed stop with
 * `pkill -9 heartbeat` and `reboot -nf` (RecoverFromFailedStop), which on
 * this machine would not stay in the namespace.
 */
export function vipbScript(flags: string | undefined): string {
  const startFault = flags
    ? [`    if [ -e ${flags}/start-fail ]; then echo "vipb: start fails (the test's flag)" >&2; exit 1; fi`]
    : [];
  const faults = flags
    ? [
        `    while [ -e ${flags}/stop-hang ]; do sleep 0.1; done`,
        `    if [ -e ${flags}/stop-fail ]; then echo "vipb: stop fails (the test's flag)" >&2; exit 1; fi`,
      ]
    : [];
  return [
    '#!/bin/sh',
    '# vipb ADDRESS start|stop|status: the fault suite script resource',
    'A=$1',
    'has() { ip -o -4 addr show dev eth0 | grep -q " $A/32 "; }',
    'case "$2" in',
    '  start)',
    ...startFault,
    '    has || ip addr add "$A/32" dev eth0 || exit 1',
    // announced as IPaddr does, so the client's ARP cache follows (in the background)
    '    (busybox arping -q -U -c 3 -I eth0 -s "$A" "$A" >/dev/null 2>&1 &)',
    '    exit 0 ;;',
    '  stop)',
    ...faults,
    '    ! has || ip addr del "$A/32" dev eth0',
    // LSB: a stop of a stopped resource succeeds
    '    exit 0 ;;',
    '  status)',
    // stdout for Heartbeat's ResourceManager, the exit code for LSB (3: stopped)
    '    if has; then echo running; exit 0; else echo stopped; exit 3; fi ;;',
    'esac',
    'exit 1',
    '',
  ].join('\n');
}
