// What the haresources groups start and stop, as Heartbeat's
// ResourceManager and its scripts do it, with the fail-safe rules of a
// director that must never leave a VIP on both machines:
// - a group is started left to right (ldirectord first, see acquire());
//   when a resource fails to start, what
//   was started is stopped again right to left and the acquire reports the
//   failure (the node then gives the group up to the peer, as Heartbeat's
//   hb_standby does), so no half group stays behind claiming the VIP;
// - a group is stopped right to left, and a resource that fails to stop is
//   tried again until it stops: the release is not over, the peer is not
//   told, and it does not start the group beside ours (Heartbeat reboots
//   the machine instead, RecoverFromFailedStop; a library does not);
// - an acquire of a group held already, or a release of one not held, does
//   nothing: the hand-over may ask twice;
// - one Director per ldirectord.cf, shared by the groups that name it and
//   stopped (cleanstop) only when the last of them is released.
// The caller serialises: one action at a time (ClusterNode's queue).
import { execFile } from 'node:child_process';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Director,
  type DirectorIpvs,
  describeOperation,
  describeSysctlChange,
  serviceKeyOfVirtual,
} from '@lvs-ha/director';
import {
  type HaResource,
  type HaResourceGroup,
  type LdResolvedConfig,
  loadLdirectordCf,
} from '@lvs-ha/ha-config';
import { serviceId } from '@lvs-ha/ipvs';
import { announce, listAddresses, release, takeOver } from '@lvs-ha/vip';
import { ConfigCallback } from './callback.js';

export interface ResourceRunnerOptions {
  /** Heartbeat's configuration directory (resource.d, ldirectord.cf). */
  configDir: string;
  /** Opens the IPVS binding for an ldirectord resource. */
  openIpvs: () => Promise<DirectorIpvs & { close(): void }>;
  /** Milliseconds a resource script may run before it is killed and counts as failed (default 60 s). */
  scriptTimeoutMs?: number;
  /** How long a Director's first table waits for the first round of checks (default 1000 ms). */
  firstRoundMs?: number;
  /** Delay before the n-th retry of a failed stop (default 1, 2, 4… s, at most 10 s). */
  stopRetryMs?: (attempt: number) => number;
  /** One line per event. */
  say: (line: string) => void;
  /** The VIPs up now, after each change. */
  onVips?: (specs: string[]) => void;
  /**
   * What a fail-stop from the heartbeat thread has to take down, in stop
   * order, after each change (that thread does it if this one hangs): the
   * VIPs and the scripts of the groups held (ldirectord's table stays: it is
   * harmless without its VIP, and the next start's idle check removes it).
   */
  onFailStopList?: (items: FailStopItem[]) => void;
}

/** One thing the heartbeat thread takes down itself when the main thread hangs. */
export type FailStopItem =
  | { kind: 'vip'; spec: string }
  | { kind: 'script'; path: string; args: string[]; timeoutMs: number };

export class ResourceError extends Error {
  override readonly name = 'ResourceError';
  constructor(
    /** NO_SCRIPT: no resource.d or init.d script; LDIRECTORD_CF: no usable ldirectord.cf; SCRIPT: a script failed. */
    readonly code: 'NO_SCRIPT' | 'LDIRECTORD_CF' | 'SCRIPT',
    message: string,
  ) {
    super(message);
  }
}

/** How a resource is named in the log, as haresources writes it. */
export function resourceName(r: HaResource): string {
  return r.kind === 'ipaddr' ? `IPaddr ${r.spec}` : [r.name, ...r.args].join('::');
}

/** The first of `paths` that exists, as Heartbeat and ldirectord look their files up. */
async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths)
    if (
      await access(p).then(
        () => true,
        () => false,
      )
    )
      return p;
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunningDirector {
  director: Director;
  ipvs: DirectorIpvs & { close(): void };
  /** The groups that hold it. */
  users: Set<string>;
  file: string;
  /** The file's mtime and size when it was last read (autoreload compares them). */
  stamp: string;
  /** ldirectord's autoreload and checkinterval of the configuration running. */
  autoreload: boolean;
  checkintervalMs: number;
  /** When autoreload last looked at the file. */
  lookedAt: number;
  /** ldirectord's callback of the configuration running (null: none). */
  callback: string | null;
}

/** mtime and size: what tells autoreload that a file changed (ldirectord compares an md5 of it; either works). */
async function stampOf(file: string): Promise<string> {
  const st = await stat(file).catch(() => undefined);
  return st ? `${st.mtimeMs}/${st.size}` : 'missing';
}

/** What the Directors did since the start, for metrics. */
export interface DirectorCounters {
  /** Operations sent to the kernel, by kind (add-destination, edit-destination…). */
  operations: Record<string, number>;
  /** Failed or refused changes of the table, by DirectorError code. */
  applyErrors: Record<string, number>;
  /** Reloads of an ldirectord.cf: applied, or refused (a broken file: nothing changed). */
  reloads: { ok: number; refused: number };
}

export class ResourceRunner {
  readonly counters: DirectorCounters = { operations: {}, applyErrors: {}, reloads: { ok: 0, refused: 0 } };
  /** Groups held whole. */
  private readonly held = new Map<string, HaResourceGroup>();
  private readonly directors = new Map<string, RunningDirector>();
  /** The last ldirectord.cf of each name that had no error: used when an edit broke it. */
  private readonly lastGood = new Map<string, LdResolvedConfig>();
  /** VIP spec -> where it is up (to announce it again). */
  private readonly vips = new Map<string, { address: string; interface: string }>();
  /** Resource scripts by name -> the path they were found at. */
  private readonly scripts = new Map<string, string>();
  /** ldirectord callbacks: run one after the other, never on the caller's queue. */
  private readonly callback: ConfigCallback;

  constructor(private readonly o: ResourceRunnerOptions) {
    this.callback = new ConfigCallback({
      say: o.say,
      ...(o.scriptTimeoutMs !== undefined && { timeoutMs: o.scriptTimeoutMs }),
    });
  }

  /** Groups held now. */
  holding(): string[] {
    return [...this.held.keys()];
  }

  /** The VIP specs up now. */
  vipsUp(): string[] {
    return [...this.vips.keys()];
  }

  /** The ldirectord.cf files whose Director runs. */
  runningDirectors(): string[] {
    return [...this.directors.values()].map((d) => d.file);
  }

  directorsRunning(): { file: string; director: Director; ipvs: DirectorIpvs }[] {
    return [...this.directors.values()].map((d) => ({ file: d.file, director: d.director, ipvs: d.ipvs }));
  }

  /**
   * Reads an ldirectord.cf now and keeps it as the last good one (done at
   * start, so that an edit that breaks the file before a takeover does not
   * leave the group without a table). Throws a ResourceError when it has errors.
   */
  async preloadLdirectord(name: string): Promise<LdResolvedConfig> {
    const loaded = await loadLdirectordCf(name, { configDir: this.o.configDir });
    if (!loaded.value)
      throw new ResourceError(
        'LDIRECTORD_CF',
        loaded.problems
          .filter((p) => p.severity === 'error')
          .map((p) => p.message)
          .join('; '),
      );
    this.lastGood.set(name, loaded.value);
    return loaded.value;
  }

  /** Starts a group left to right; on a failure, stops what it started and returns false. */
  async acquire(key: string, group: HaResourceGroup): Promise<boolean> {
    if (this.held.has(key)) {
      this.o.say(`group ${key} is held already: nothing to start`);
      return true;
    }
    const started: HaResource[] = [];
    // ldirectord first: its table (built after one round of checks) is in
    // the kernel before the VIP is announced, so the first clients after a
    // takeover meet the healthy real servers, not a fallback (ldirectord
    // itself starts on the fallback). Everything else left to right.
    const isDirector = (r: HaResource) => r.kind === 'script' && r.name === 'ldirectord';
    const order = [...group.resources.filter(isDirector), ...group.resources.filter((r) => !isDirector(r))];
    for (const r of order) {
      try {
        await this.start(key, r);
        started.push(r);
      } catch (e) {
        this.o.say(`error start ${resourceName(r)}: ${(e as Error).message}`);
        // what may have partly started too: scripts and VIPs stop idempotently
        for (const s of [r, ...started.reverse()]) await this.stopUntilDone(key, s);
        this.o.say(`group ${key} could not be started: stopped again`);
        return false;
      }
    }
    this.held.set(key, group);
    this.tellFailStop();
    return true;
  }

  /** Stops a held group right to left; resolves only once every resource is down. */
  async release(key: string, group: HaResourceGroup): Promise<void> {
    if (!this.held.has(key)) {
      this.o.say(`group ${key} is not held: nothing to stop`);
      return;
    }
    // The mirror of acquire(): ldirectord last, so that its table stays in
    // the kernel until the VIP is down. Stopped first (Heartbeat's order),
    // a client reaching the VIP between the two met a director without the
    // service: a RST from its own closed port, a failed request at every
    // standby.
    const isDirector = (r: HaResource) => r.kind === 'script' && r.name === 'ldirectord';
    const order = [
      ...group.resources.filter((r) => !isDirector(r)).reverse(),
      ...group.resources.filter(isDirector),
    ];
    for (const r of order) await this.stopUntilDone(key, r);
    this.held.delete(key);
    this.tellFailStop();
  }

  /** The groups held, in stop order, as the heartbeat thread's fail-stop needs them. */
  failStopList(): FailStopItem[] {
    const items: FailStopItem[] = [];
    for (const group of [...this.held.values()].reverse())
      for (const r of [...group.resources].reverse()) {
        if (r.kind === 'ipaddr') items.push({ kind: 'vip', spec: r.spec });
        else if (r.name !== 'ldirectord') {
          const path = this.scripts.get(r.name);
          if (path)
            items.push({ kind: 'script', path, args: r.args, timeoutMs: this.o.scriptTimeoutMs ?? 60_000 });
        }
      }
    // a VIP of a group still being started is up already: it goes too
    for (const spec of this.vips.keys())
      if (!items.some((i) => i.kind === 'vip' && i.spec === spec)) items.unshift({ kind: 'vip', spec });
    return items;
  }

  private tellFailStop(): void {
    this.o.onFailStopList?.(this.failStopList());
  }

  /**
   * Gratuitous ARP / unsolicited NA for every VIP up here, again: after the
   * peer held them too (a partition, a stopped process) the segment's ARP
   * caches may point at it.
   */
  async announceAll(reason: string): Promise<void> {
    const announced = new Set<string>();
    for (const [spec, where] of this.vips) {
      this.o.say(`vip ${spec} announced again on ${where.interface} (${reason})`);
      announced.add(where.address);
      await announce({ address: where.address, interface: where.interface, count: 3, intervalMs: 200 }).catch(
        (e: unknown) => this.o.say(`error announcing ${spec}: ${(e as Error).message}`),
      );
    }
    // A script resource's address argument (a site's IPaddr-like script, vipb::192.0.2.52) that
    // is up here: the script announced it once, at its start, and the peer may have announced
    // it since (both held the group during a partition): announced again too, or the
    // neighbours keep the peer's MAC for it until their ARP entry goes stale.
    const scripts = [...this.held.values()].flatMap((g) =>
      g.resources.flatMap((r) =>
        r.kind === 'script' && r.name !== 'ldirectord'
          ? r.args.map((a) => ({ script: r.name, address: a.split('/')[0] as string }))
          : [],
      ),
    );
    if (scripts.length === 0) return;
    const up = await listAddresses().catch(() => []);
    for (const { script, address } of scripts) {
      const on = up.find((x) => x.address.text === address);
      if (!on || announced.has(address)) continue;
      announced.add(address);
      this.o.say(`address ${address} of ${script} announced again on ${on.interface} (${reason})`);
      await announce({ address, interface: on.interface, count: 3, intervalMs: 200 }).catch((e: unknown) =>
        this.o.say(`error announcing ${address} of ${script}: ${(e as Error).message}`),
      );
    }
  }

  /**
   * Fail-stop: every VIP down now, before anything else (the peer is about
   * to take over). Returns the VIPs that could not be taken down.
   */
  async vipsDownNow(): Promise<string[]> {
    const left: string[] = [];
    for (const spec of [...this.vips.keys()]) {
      try {
        const c = await release(spec);
        this.vips.delete(spec);
        this.o.say(`vip ${spec} down on ${c.interface}`);
      } catch (e) {
        this.o.say(`error vip ${spec} cannot be taken down: ${(e as Error).message}`);
        left.push(spec);
      }
    }
    this.o.onVips?.(this.vipsUp());
    return left;
  }

  /**
   * ldirectord's autoreload: the files of the running Directors that ask for
   * it are looked at every checkinterval, and reloaded when they changed.
   */
  async autoreload(now = performance.now()): Promise<{ file: string; ok: boolean }[]> {
    const changed: string[] = [];
    for (const [name, d] of this.directors) {
      // ldirectord looks at its file every checkinterval for autoreload and for its callback
      if ((!d.autoreload && !d.callback) || now - d.lookedAt < d.checkintervalMs) continue;
      d.lookedAt = now;
      const stamp = await stampOf(d.file);
      if (stamp === d.stamp) continue;
      d.stamp = stamp;
      if (!d.autoreload) {
        await this.contentChanged(d);
        continue;
      }
      this.o.say(`ldirectord ${d.file} changed (autoreload): reloading`);
      changed.push(name);
    }
    return changed.length > 0 ? this.reload(changed) : [];
  }

  /** ldirectord's check_cfgfile: the callback runs when the file's content changed since it was seen last. */
  private async contentChanged(d: RunningDirector): Promise<void> {
    await this.callback.look(d.file, d.callback);
  }

  /** Resolves when every ldirectord callback started so far has ended (for tests and a clean exit). */
  callbacksDone(): Promise<void> {
    return this.callback.done();
  }

  /** Re-reads the ldirectord.cf of every running Director (or those named) and applies it; a broken file changes nothing. */
  async reload(names?: readonly string[]): Promise<{ file: string; ok: boolean }[]> {
    const out: { file: string; ok: boolean }[] = [];
    for (const [name, d] of this.directors) {
      if (names && !names.includes(name)) continue;
      d.stamp = await stampOf(d.file);
      const loaded = await loadLdirectordCf(name, { configDir: this.o.configDir });
      if (!loaded.value) {
        for (const p of loaded.problems.filter((x) => x.severity === 'error'))
          this.o.say(`error ${p.message}`);
        this.o.say(`reload of ${d.file} refused: the running configuration stays`);
        this.counters.reloads.refused++;
        out.push({ file: d.file, ok: false });
        // ldirectord runs its callback whenever the file changed, broken or not
        await this.contentChanged(d);
        continue;
      }
      this.lastGood.set(name, loaded.value);
      d.autoreload = loaded.value.global.autoreload.value;
      d.checkintervalMs = loaded.value.global.checkinterval.value * 1000;
      d.callback = loaded.value.global.callback.value;
      await d.director.reload(loaded.value).catch(() => undefined); // the Director reports its own errors
      this.o.say(`reloaded ${d.file}`);
      this.counters.reloads.ok++;
      out.push({ file: d.file, ok: true });
      // ldirectord runs the callback after rereading a file that changed
      await this.contentChanged(d);
    }
    return out;
  }

  /** Stops a resource, trying again until it stops (said loudly each time). */
  private async stopUntilDone(key: string, r: HaResource): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.stop(key, r);
        return;
      } catch (e) {
        const wait = this.o.stopRetryMs?.(attempt) ?? Math.min(10_000, 1000 * 2 ** (attempt - 1));
        this.o.say(
          `error stop ${resourceName(r)} failed (${(e as Error).message}): group ${key} stays held here so that the peer does not start it beside a copy that may still run; trying again in ${wait} ms`,
        );
        await sleep(wait);
      }
    }
  }

  private async start(key: string, r: HaResource): Promise<void> {
    if (r.kind === 'ipaddr') {
      // Heartbeat's IPaddr does not ask who else has the address: the peer is dead or gave it up.
      // One round of announcements at once, four more in the background (IPaddr2's arp_bg).
      const t = await takeOver(r.spec, { probe: false, announce: { count: 1 } });
      this.vips.set(r.spec, { address: r.address, interface: t.change.interface });
      this.o.onVips?.(this.vipsUp());
      this.tellFailStop();
      this.o.say(`vip ${r.spec} up on ${t.change.interface}`);
      announce({ address: r.address, interface: t.change.interface, count: 4, intervalMs: 200 }).catch(
        (e: unknown) => this.o.say(`error announcing ${r.spec}: ${(e as Error).message}`),
      );
    } else if (r.name === 'ldirectord') await this.startDirector(key, r.args[0] ?? 'ldirectord.cf');
    else await this.script(r.name, r.args, 'start');
  }

  private async stop(key: string, r: HaResource): Promise<void> {
    if (r.kind === 'ipaddr') {
      const c = await release(r.spec);
      this.vips.delete(r.spec);
      this.o.onVips?.(this.vipsUp());
      this.tellFailStop();
      this.o.say(`vip ${r.spec} down on ${c.interface}`);
    } else if (r.name === 'ldirectord') await this.stopDirector(key, r.args[0] ?? 'ldirectord.cf');
    else await this.script(r.name, r.args, 'stop');
  }

  private async startDirector(key: string, name: string): Promise<void> {
    const running = this.directors.get(name);
    if (running) {
      running.users.add(key);
      return;
    }
    const loaded = await loadLdirectordCf(name, { configDir: this.o.configDir });
    let config = loaded.value;
    if (config) this.lastGood.set(name, config);
    else {
      const why = loaded.problems
        .filter((p) => p.severity === 'error')
        .map((p) => p.message)
        .join('; ');
      config = this.lastGood.get(name);
      if (!config) throw new ResourceError('LDIRECTORD_CF', why);
      this.o.say(`error ${why}`);
      this.o.say(`ldirectord ${loaded.file} has errors: starting with its last good configuration`);
    }
    const ipvs = await this.o.openIpvs();
    const director = new Director({ ipvs });
    director.on('sysctl', (c) => this.o.say(describeSysctlChange(c)));
    director.on('transition', (t) =>
      this.o.say(
        `${t.virtual} real ${t.real.address}:${t.real.port} ${t.up ? 'up' : `down (${t.result.reason})`}`,
      ),
    );
    const c = this.counters;
    director.on('applied', (x) => {
      for (const op of x.operations) {
        c.operations[op.op] = (c.operations[op.op] ?? 0) + 1;
        this.o.say(describeOperation(op));
      }
    });
    director.on('fallback', (f) =>
      this.o.say(
        `${f.virtual} fallback ${f.server} ${f.on ? 'on (no real server up)' : 'off (a real server is up)'}`,
      ),
    );
    director.on('error', (e) => {
      c.applyErrors[e.code] = (c.applyErrors[e.code] ?? 0) + 1;
      this.o.say(`error ${e.code}: ${e.message}`);
    });
    const d: RunningDirector = {
      director,
      ipvs,
      users: new Set([key]),
      file: loaded.file,
      stamp: await stampOf(loaded.file),
      autoreload: config.global.autoreload.value,
      checkintervalMs: config.global.checkinterval.value * 1000,
      lookedAt: performance.now(),
      callback: config.global.callback.value,
    };
    await this.callback.look(loaded.file, null); // the content it starts with
    // in the map before it starts: a failed start is stopped by the acquire's clean-up (stopDirector)
    this.directors.set(name, d);
    await director.start(config, { firstRoundMs: this.o.firstRoundMs ?? 1000 });
    this.o.say(`ldirectord ${loaded.file} started`);
  }

  private async stopDirector(key: string, name: string): Promise<void> {
    const d = this.directors.get(name);
    if (!d) return;
    d.users.delete(key);
    if (d.users.size > 0) {
      this.o.say(`ldirectord ${d.file} stays: group ${[...d.users].join(', ')} still uses it`);
      return;
    }
    for (const op of await d.director.stop()) this.o.say(describeOperation(op));
    this.directors.delete(name);
    d.ipvs.close();
    this.o.say(`ldirectord ${d.file} stopped`);
  }

  /** Heartbeat's way: DIR/resource.d/NAME, else /etc/init.d/NAME, with the arguments then start|stop|status. */
  async script(name: string, args: string[], op: 'start' | 'stop' | 'status'): Promise<string> {
    const candidates = [join(this.o.configDir, 'resource.d', name), join('/etc/init.d', name)];
    const path = await firstExisting(candidates);
    if (!path) throw new ResourceError('NO_SCRIPT', `no script ${candidates.join(' or ')}`);
    this.scripts.set(name, path);
    const timeout = this.o.scriptTimeoutMs ?? 60_000;
    const command = [path, ...args, op].join(' ');
    const out = await new Promise<string>((resolve, reject) =>
      // SIGKILL: a script that hangs may also ignore SIGTERM
      execFile(path, [...args, op], { timeout, killSignal: 'SIGKILL' }, (err, stdout) => {
        if (!err) resolve(stdout);
        else if (err.killed)
          reject(new ResourceError('SCRIPT', `${command} did not finish in ${timeout} ms (killed)`));
        else reject(new ResourceError('SCRIPT', `${command} exited with ${err.code ?? err.signal}`));
      }),
    );
    if (op !== 'status') this.o.say(`${name} ${op}: done`);
    return out;
  }

  /**
   * Heartbeat's verifyallidle at start: a resource of ours found active
   * before we hold anything ("Resource … is active, and should not be!")
   * is left from a run that died without releasing it. It is stopped, so
   * that only the hand-over decides who holds what. Returns what was found.
   */
  async idleCheck(groups: Iterable<HaResourceGroup>): Promise<string[]> {
    const found: string[] = [];
    const ldNames = new Set<string>();
    for (const g of groups)
      for (const r of g.resources) {
        try {
          if (r.kind === 'ipaddr') {
            const c = await release(r.spec);
            if (c.changed) {
              found.push(resourceName(r));
              this.o.say(
                `warning Resource ${resourceName(r)} is active, and should not be! (left by a run that did not release it: taken down on ${c.interface})`,
              );
            }
          } else if (r.name === 'ldirectord') ldNames.add(r.args[0] ?? 'ldirectord.cf');
          else if (await this.scriptActive(r.name, r.args)) {
            found.push(resourceName(r));
            this.o.say(`warning Resource ${resourceName(r)} is active, and should not be! (stopping it)`);
            await this.script(r.name, r.args, 'stop');
          }
        } catch (e) {
          this.o.say(`warning cannot verify that ${resourceName(r)} is idle: ${(e as Error).message}`);
        }
      }
    for (const name of ldNames) {
      const config = this.lastGood.get(name);
      if (!config) continue;
      const ids = new Set(
        config.virtuals.flatMap((v) => {
          const k = serviceKeyOfVirtual(v);
          return k ? [serviceId(k)] : [];
        }),
      );
      let ipvs: (DirectorIpvs & { close(): void }) | undefined;
      try {
        ipvs = await this.o.openIpvs();
        const r = await ipvs.reconcile([], { owned: (s) => ids.has(serviceId(s)) });
        if (r.operations.length > 0) {
          found.push(`ldirectord::${name}`);
          this.o.say(
            `warning Resource ldirectord::${name} is active, and should not be! (its virtual services were in the IPVS table: removed)`,
          );
          for (const op of r.operations) this.o.say(describeOperation(op));
        }
      } catch (e) {
        this.o.say(`warning cannot verify that ldirectord::${name} is idle: ${(e as Error).message}`);
      } finally {
        ipvs?.close();
      }
    }
    return found;
  }

  /** A script's `status` as Heartbeat's ResourceManager reads it: "running" or "OK" in its output. */
  private async scriptActive(name: string, args: string[]): Promise<boolean> {
    try {
      return /\b(running|ok)\b/i.test(await this.script(name, args, 'status'));
    } catch {
      return false;
    }
  }
}
