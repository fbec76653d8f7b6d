// The five cases every negotiate service must pass against its real server:
// up when healthy, bad-response when the answer does not match, timeout when
// the server is hung (SIGSTOP) or black-holed (nftables drop), refused when
// stopped. One server per test file, started in beforeAll.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReason, CheckSpec, CheckTarget } from '../../src/index.js';
import { type Daemon, ServiceLab } from './lab.js';
import { ldirectordCheck } from './ldirectord.js';

export interface RunningService {
  daemon: Daemon;
  target: CheckTarget;
  /** A check that passes against the healthy server. */
  spec: CheckSpec;
  /** The same check with an expectation the server does not meet. */
  wrong: CheckSpec;
  /** Where the wrong check goes when it is the server that answers wrongly (default: target). */
  wrongTarget?: CheckTarget;
  proto?: 'tcp' | 'udp';
  /** The reason when the server is stopped (refused unless said otherwise). */
  stoppedReason?: CheckReason;
}

export interface ServiceContext {
  lab: ServiceLab;
  svc: RunningService;
}

/** Short timeout for the hung and black-holed cases. */
const QUICK = 1;

export interface ServiceCase {
  name: string;
  start: (lab: ServiceLab) => Promise<RunningService>;
  more?: (ctx: () => ServiceContext) => void;
  /** Registered last, just before the server is stopped. */
  late?: (ctx: () => ServiceContext) => void;
  /** Compare with ldirectord's own check (default true; false where its Perl client is missing). */
  ldirectord?: boolean;
}

/** One service, one namespace. */
export function describeService(
  name: string,
  start: (lab: ServiceLab) => Promise<RunningService>,
  more?: (ctx: () => ServiceContext) => void,
  opts: { ldirectord?: boolean } = {},
): void {
  describeServices(name, [{ name, start, more, ...opts }]);
}

/**
 * Several services of one test file share a namespace and a check agent;
 * each gets its own server (and directory), stopped before the next starts.
 */
export function describeServices(title: string, cases: readonly ServiceCase[]): void {
  describeWithLab(['root', 'netns'], title, () => {
    let lab: ServiceLab | undefined;
    beforeAll(async () => {
      lab = await ServiceLab.start(title.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 20));
    });
    afterAll(async () => {
      await lab?.stop();
    });
    for (const c of cases) describeCase(c, () => lab);
  });
}

function describeCase(c: ServiceCase, getLab: () => ServiceLab | undefined): void {
  describe(c.name, () => {
    let ctx: ServiceContext | undefined;
    const get = () => {
      if (!ctx) throw new Error(`${c.name}: the server did not start`);
      return ctx;
    };
    // Where the server has a self-signed certificate, ldirectord is told to trust
    // it (the https/pops/imaps tests show what it does otherwise).
    const ldirectord = (lab: ServiceLab, spec: CheckSpec, target: CheckTarget) => {
      const ca = join(lab.dir, 'cert.pem');
      return ldirectordCheck(lab.ns, spec, target, existsSync(ca) ? { caFile: ca } : {});
    };

    beforeAll(async () => {
      const lab = getLab();
      if (!lab) throw new Error('the lab did not start');
      lab.useDir(c.name);
      ctx = { lab, svc: await c.start(lab) };
    });
    afterAll(async () => {
      await getLab()?.stopDaemons();
      await getLab()?.clearBlackholes();
    });
    it('is up against the healthy server', async () => {
      const { lab, svc } = get();
      const r = await lab.check(svc.spec, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
    });

    if (c.ldirectord !== false) {
      it("ldirectord's own check (Debian's ldirectord subs) says up too", async () => {
        const { lab, svc } = get();
        expect(await ldirectord(lab, svc.spec, svc.target)).toBe('up');
      });
    }

    // Before the wrong answers: one may cost the next checks (Dovecot's auth
    // penalty delays every login from the address after a failed one).
    c.more?.(get);

    it('is down with timeout when the server is hung (SIGSTOP)', async () => {
      const { lab, svc } = get();
      svc.daemon.pause();
      try {
        const r = await lab.check({ ...svc.spec, negotiatetimeout: QUICK }, svc.target);
        expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'timeout' });
        expect(r.durationMs).toBeGreaterThanOrEqual(QUICK * 1000 - 50);
      } finally {
        svc.daemon.resume();
      }
      // Healthy again once it runs.
      const again = await lab.check(svc.spec, svc.target);
      expect(again, JSON.stringify(again)).toMatchObject({ ok: true });
    });

    it('is down with timeout when the port is black-holed (packets dropped)', async () => {
      const { lab, svc } = get();
      await lab.blackhole(svc.target.port, svc.proto ?? 'tcp');
      try {
        const r = await lab.check({ ...svc.spec, negotiatetimeout: QUICK }, svc.target);
        expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'timeout' });
      } finally {
        await lab.clearBlackholes();
      }
      const again = await lab.check(svc.spec, svc.target);
      expect(again, JSON.stringify(again)).toMatchObject({ ok: true });
    });

    it('is down with bad-response when the answer does not match', async () => {
      const { lab, svc } = get();
      const r = await lab.check(svc.wrong, svc.wrongTarget ?? svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
    });

    if (c.ldirectord !== false) {
      it("ldirectord's own check says down on the wrong answer too", async () => {
        const { lab, svc } = get();
        expect(await ldirectord(lab, svc.wrong, svc.wrongTarget ?? svc.target)).toBe('down');
      });
    }

    c.late?.(get);

    it('is down when the server is stopped', async () => {
      const { lab, svc } = get();
      await svc.daemon.stop();
      const r = await lab.check(svc.spec, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: svc.stoppedReason ?? 'refused' });
    });
  });
}
