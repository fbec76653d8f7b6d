// The status page (GET /) in Debian's headless Chromium, on this machine:
// the real serveApi with the real control, metrics and page routes over a
// small node (one Director's report and the kernel's table as the guest's
// real pair gives them, held in a variable the test changes). What it
// checks: rendering, accessibility basics, live updates without a reload,
// the stale state, no write buttons on a read-only listener, and on a
// listener with writes the token asked for and sent as a Bearer header
// (never in the page). The page against a real pair and the kernel's IPVS
// table is test/page.lab.test.ts (qemu guest).

import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterNode, ClusterObservation } from '@lvs-ha/cluster';
import { until } from '@lvs-ha/lab';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiServer, requestApi, serveApi } from '../src/api.js';
import { type ControlTarget, controlRoutes } from '../src/control.js';
import { observeRoutes } from '../src/observe.js';
import { EventLog, pageRoutes } from '../src/page.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from './support/chromium.js';
import { observation } from './support/observation.js';

const missing = chromiumMissing();
if (missing) process.stderr.write(`[page] skipping the status page in Chromium: ${missing}\n`);

const TOKEN = 'page-test-token-7f3a9c';
const V = 'tcp:192.0.2.1:1000';

/** The text of each cell of a table row (its header cell first). */
const cells = (row: Locator) => row.locator('th, td').allTextContents();

/** until() as these tests use it: what the page or stream shows, every 50 ms, 10 s unless said. */
const soon = <T>(what: string, read: () => Promise<T>, holds: (v: T) => boolean, ms = 10_000) =>
  until(what, read, ms, { everyMs: 50, holds, detail: (v) => `last: ${JSON.stringify(v)}` });

describe.skipIf(missing !== undefined)(
  'the status page in headless Chromium (serveApi, a small node)',
  () => {
    let dir: string;
    let browser: Browser;
    let readOnly: ApiServer;
    let writable: ApiServer;
    let state: ClusterObservation;
    let failing: ApiError | undefined;
    const events = new EventLog();
    const asked: string[] = [];
    const pageErrors: string[] = [];

    const reals = () => state.directors[0]!.virtuals[0]!.reals;
    const dests = () => state.directors[0]!.table[0]!.destinations;
    const setWeight = (real: string, weight: number | undefined) => {
      const [address, port] = real.split(':');
      const r = reals().find((x) => x.address === address && String(x.port) === port);
      const d = dests().find((x) => x.address === address && String(x.port) === port);
      if (!r) throw new ApiError('NOT_FOUND', `no real server ${real}`);
      if (weight === undefined) delete r.override;
      else r.override = { weight };
      const w = weight ?? r.configuredWeight;
      if (r.kernel) r.kernel.weight = w;
      if (d) d.weight = w;
      return {
        file: state.directors[0]!.file,
        virtual: V,
        real,
        weight: w,
        configuredWeight: r.configuredWeight,
      };
    };
    const target: ControlTarget = {
      report: async () => {
        if (failing) throw failing;
        return {
          ...state.status,
          ipvs: state.directors.map((d) => ({ file: d.file, virtuals: d.virtuals })),
        };
      },
      standby: () => asked.push('standby'),
      takeover: () => asked.push('takeover'),
      reload: async () => [],
      stop: () => asked.push('stop'),
      drain: async (req) => {
        asked.push(`drain ${req.real} ${req.virtual}`);
        setWeight(req.real, 0);
        return [
          {
            file: state.directors[0]!.file,
            result: {
              reals: [{ virtual: V, real: req.real, activeConns: 0 }],
              drained: true,
              removed: false,
              waitedMs: 0,
            },
          },
        ];
      },
      undrain: async (sel) => {
        asked.push(`undrain ${sel.real} ${sel.virtual}`);
        const r = setWeight(sel.real, undefined);
        return [{ file: r.file, virtual: r.virtual, real: r.real, weight: r.configuredWeight }];
      },
      weight: async (sel, weight) => {
        asked.push(`weight ${sel.real} ${weight}`);
        const r = setWeight(sel.real, weight);
        return [{ file: r.file, virtual: V, real: sel.real, weight }];
      },
    };
    const node = { observe: async () => state } as unknown as ClusterNode;
    const routes = () => [
      ...controlRoutes(() => target),
      ...observeRoutes(() => node),
      ...pageRoutes({ events }),
    ];
    const url = (s: ApiServer) => `http://127.0.0.1:${s.tcpAddress?.port}/`;

    const open = async (s: ApiServer): Promise<Page> => {
      const page = await browser.newPage();
      page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        // a refused request is said on the console by Chromium itself (the tests make 401 and 503 on purpose)
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
          pageErrors.push(`console: ${m.text()}`);
      });
      await page.goto(url(s));
      await page.locator('tr[data-real]').first().waitFor({ timeout: 15_000 });
      return page;
    };

    beforeAll(async () => {
      state = observation(1, 3);
      dir = mkdtempSync(join(tmpdir(), 'lvs-ha-page-'));
      readOnly = await serveApi({
        socketPath: join(dir, 'ro.sock'),
        routes: routes(),
        tcp: { host: '127.0.0.1', port: 0 },
      });
      writable = await serveApi({
        socketPath: join(dir, 'rw.sock'),
        routes: routes(),
        tcp: { host: '127.0.0.1', port: 0, allowWrites: true, token: TOKEN },
      });
      events.push('node load1 active');
      events.push(`${V} real 198.51.100.1:8000 up (ok)`);
      const { chromium } = await import('playwright-core');
      const t0 = Date.now();
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      process.stderr.write(`[page] chromium launched in ${Date.now() - t0} ms\n`);
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await readOnly?.close();
      await writable?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('read-only: the pair, the virtual service with each real server, the recent events; no buttons, no token field', async () => {
      const page = await open(readOnly);
      expect(await page.locator('#node-name').textContent()).toBe('load1');
      expect(await page.title()).toBe('lvs-ha load1: active, holding local');
      expect(await page.locator('#this-node dt').allTextContents()).toEqual([
        'This node',
        'Holding',
        'VIPs up here',
        'Directors running here',
      ]);
      const self = await page.locator('#this-node dd').allTextContents();
      // how long ago the reading's since was, as the page reads it (the state was made before
      // Chromium started, which takes from seconds to a minute on a loaded machine)
      const agoS = (iso: string | undefined) => (Date.now() - Date.parse(iso ?? '')) / 1000;
      const shownAgo = (text: string | undefined, re: RegExp) => Number(re.exec(text ?? '')?.[1]);
      const nodeAgo = shownAgo(self[0], /^load1: active since .+ \((\d+) s ago\)$/);
      const holdingAgo = shownAgo(self[1], /^local \(stable\) since .+ \((\d+) s ago\)$/);
      expect(nodeAgo, self[0]).toBeGreaterThanOrEqual(agoS(state.status.nodeStatusSince) - 5);
      expect(nodeAgo, self[0]).toBeLessThanOrEqual(agoS(state.status.nodeStatusSince) + 1);
      expect(holdingAgo, self[1]).toBeGreaterThanOrEqual(agoS(state.status.holdingSince) - 5);
      expect(holdingAgo, self[1]).toBeLessThanOrEqual(agoS(state.status.holdingSince) + 1);
      // ten seconds apart, as the reading says
      expect(nodeAgo - holdingAgo).toBeGreaterThanOrEqual(9);
      expect(nodeAgo - holdingAgo).toBeLessThanOrEqual(11);
      expect(self.slice(2)).toEqual(['192.0.2.50', '/etc/ha.d/ldirectord.cf']);
      const peer = page.locator('#peers tbody tr');
      expect(await peer.count()).toBe(1);
      expect(await cells(peer)).toEqual(['load2', 'active', '–', 'bcast eth0: up']);
      expect(await cells(page.locator('#groups tbody tr').first())).toEqual([
        'load1 192.0.2.50',
        'load1',
        'yes',
      ]);
      expect(await cells(page.locator('#groups tbody tr').nth(1))).toEqual([
        'load2 192.0.2.51',
        'load2',
        'no',
      ]);
      const table = page.locator(`table[data-virtual="${V}"]`);
      expect(await table.locator('caption').textContent()).toBe('192.0.2.1:1000/tcp (wrr)');
      // the second real server (n = 1 in the observation): weight 2, 1 active, 1 inactive, 1 conn/s, 3 / 5 bytes/s
      const row = table.locator('tr[data-real="198.51.100.2:8000"]');
      await soon(
        'the rates from GET /metrics',
        () => cells(row),
        (t) => t[7] === '3 / 5',
      );
      expect(await cells(row)).toEqual([
        '198.51.100.2:8000',
        'up',
        'ok (2 ms)',
        '2 (configured 2)',
        '1',
        '1',
        '1',
        '3 / 5',
      ]);
      expect(await page.locator('button').count()).toBe(0);
      expect(await page.locator('#token-form').isHidden()).toBe(true);
      expect(await page.locator('#events li .line').allTextContents()).toEqual([
        `${V} real 198.51.100.1:8000 up (ok)`,
        'node load1 active',
      ]);
      expect(pageErrors).toEqual([]);
      await page.close();
    });

    it('accessibility basics: language, landmarks, headings, captions and header cells, live regions', async () => {
      const page = await open(readOnly);
      const tables = await page.locator('table').all();
      const inputs = await page.locator('input').all();
      const a11y = {
        lang: await page.locator('html').getAttribute('lang'),
        h1: await page.locator('h1').count(),
        h2: await page.locator('h2').allTextContents(),
        main: await page.locator('main').count(),
        tables: await Promise.all(
          tables.map(async (t) => ({
            caption: (await t.locator('caption').textContent()) ?? '',
            colHeadersWithoutScope: await t.locator('thead th:not([scope="col"])').count(),
            rowsWithoutRowHeader: await t.locator('tbody tr:not(:has(> th[scope="row"]))').count(),
          })),
        ),
        eventsLive: await page.locator('#events').getAttribute('aria-live'),
        connectionRole: await page.locator('#connection').getAttribute('role'),
        resultRole: await page.locator('#action-result').getAttribute('role'),
        unlabelled: (
          await Promise.all(
            inputs.map(
              async (i) =>
                (await i.getAttribute('aria-label')) === null &&
                (await page.locator(`label[for="${await i.getAttribute('id')}"]`).count()) === 0,
            ),
          )
        ).filter(Boolean).length,
      };
      expect(inputs.length).toBe(1);
      expect(a11y.lang).toBe('en');
      expect(a11y.h1).toBe(1);
      expect(a11y.h2).toEqual(['The pair', 'Virtual services', 'Recent events']);
      expect(a11y.main).toBe(1);
      expect(a11y.tables.length).toBe(3);
      for (const t of a11y.tables) {
        expect(t.caption).not.toBe('');
        expect(t.colHeadersWithoutScope).toBe(0);
        expect(t.rowsWithoutRowHeader).toBe(0);
      }
      expect(a11y.eventsLive).toBe('polite');
      expect(a11y.connectionRole).toBe('status');
      expect(a11y.resultRole).toBe('status');
      expect(a11y.unlabelled).toBe(0);
      // the table's cells are found by their row and column names (what a screen reader announces)
      expect(await page.getByRole('rowheader', { name: '198.51.100.3:8000' }).count()).toBe(1);
      expect(await page.getByRole('columnheader', { name: 'Weight in the kernel' }).count()).toBe(1);
      await page.close();
    });

    it('live: a real server that goes down and the line the node logs show without a reload', async () => {
      const page = await open(readOnly);
      const row = page.locator('tr[data-real="198.51.100.3:8000"]');
      expect(await row.getAttribute('data-health')).toBe('up');
      const r = reals()[2]!;
      const t0 = Date.now();
      // as the Director has it after a refused check: down, out of the table
      r.health = 'down';
      r.last = {
        ok: false,
        reason: 'refused',
        detail: 'connect ECONNREFUSED 198.51.100.3:8000',
        durationMs: 0.4,
      };
      delete r.kernel;
      state.directors[0]!.table[0]!.destinations = dests().filter((d) => d.address !== r.address);
      events.push(`${V} real 198.51.100.3:8000 down (refused: connect ECONNREFUSED 198.51.100.3:8000)`);
      const shown = await soon(
        'the row says down',
        () => cells(row),
        (t) => t[1] === 'down',
      );
      process.stderr.write(`[page] a real server down: shown ${Date.now() - t0} ms after the change\n`);
      // the event asks for a refresh at once; the status poll alone comes every second
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(shown.value.slice(0, 4)).toEqual([
        '198.51.100.3:8000',
        'down',
        'refused: connect ECONNREFUSED 198.51.100.3:8000 (0.4 ms)',
        'not in the table (configured 3)',
      ]);
      expect(await row.locator('td').first().getAttribute('class')).toBe('health-down');
      expect(await page.locator('#events li .line').first().textContent()).toBe(
        `${V} real 198.51.100.3:8000 down (refused: connect ECONNREFUSED 198.51.100.3:8000)`,
      );
      await page.close();
    });

    it('stale: while the node does not answer, the page says so and keeps the last figures', async () => {
      const page = await open(readOnly);
      failing = new ApiError('STOPPING', 'the node is stopping');
      try {
        await soon(
          'the page says the node does not answer',
          () => page.locator('#connection').textContent(),
          (t) => t?.includes('No answer from the node (STOPPING: the node is stopping)') === true,
        );
        expect(await page.locator('body').getAttribute('class')).toBe('stale');
        expect(await page.locator('tr[data-real]').count()).toBe(3);
      } finally {
        failing = undefined;
      }
      await soon(
        'live again',
        () => page.locator('#connection').textContent(),
        (t) => t?.startsWith('Live') === true,
      );
      await page.close();
    });

    it('writes with a token: buttons; the token is asked for, a wrong one refused, the right one drains and undrains', async () => {
      const page = await open(writable);
      const real = '198.51.100.1:8000';
      const drain = page.getByRole('button', { name: `Drain ${real} of 192.0.2.1:1000/tcp` });
      // every real server has one (a drain of a down one holds when it comes back)
      expect(await page.getByRole('button', { name: /^Drain / }).count()).toBe(3);
      expect(await page.locator('#token-form').isVisible()).toBe(true);
      expect(await page.getByLabel('Token for writes').getAttribute('type')).toBe('password');
      // no token typed: nothing is sent
      await drain.click();
      await soon(
        'asks for the token',
        () => page.locator('#action-result').textContent(),
        (t) => t === 'Type the token for writes first.',
      );
      expect(asked).toEqual([]);
      // a wrong token: 401 from the API, said on the page
      await page.getByLabel('Token for writes').fill('not-the-token');
      await drain.click();
      await soon(
        'the refusal',
        () => page.locator('#action-result').textContent(),
        (t) => t?.includes('refused: UNAUTHORIZED') === true,
      );
      expect(asked).toEqual([]);
      expect(reals()[0]!.kernel?.weight).toBe(1);
      // the right one
      await page.getByLabel('Token for writes').fill(TOKEN);
      await drain.click();
      const row = page.locator(`tr[data-real="${real}"]`);
      await soon(
        'the row shows weight 0, drained',
        () => cells(row),
        (t) => t[3] === '0 (configured 1, override 0)',
      );
      expect(asked).toEqual([`drain ${real} ${V}`]);
      expect(await page.locator('#action-result').textContent()).toBe(`drain ${real}: done`);
      const undrain = page.getByRole('button', { name: `Undrain ${real} of 192.0.2.1:1000/tcp` });
      // the keyboard's focus stays on the row's button as Drain becomes Undrain
      expect(await page.locator('button:focus').getAttribute('aria-label')).toBe(
        `Undrain ${real} of 192.0.2.1:1000/tcp`,
      );
      await undrain.click();
      await soon(
        'the row shows the configured weight again',
        () => cells(row),
        (t) => t[3] === '1 (configured 1)',
      );
      expect(asked).toEqual([`drain ${real} ${V}`, `undrain ${real} ${V}`]);
      expect(await drain.count()).toBe(1);
      expect(pageErrors).toEqual([]);
      await page.close();
    });

    it('the page never carries the token; on the Unix socket it shows the buttons without asking for one', async () => {
      const tcp = await requestApi({ host: '127.0.0.1', port: writable.tcpAddress!.port }, 'GET', '/');
      expect(tcp.status).toBe(200);
      expect(tcp.text).toContain('<meta name="lvs-ha-writes" content="token">');
      expect(tcp.text).not.toContain(TOKEN);
      const ro = await requestApi({ host: '127.0.0.1', port: readOnly.tcpAddress!.port }, 'GET', '/');
      expect(ro.text).toContain('<meta name="lvs-ha-writes" content="none">');
      const unix = await requestApi({ socketPath: join(dir, 'ro.sock') }, 'GET', '/');
      expect(unix.text).toContain('<meta name="lvs-ha-writes" content="open">');
      for (const [path, type] of [
        ['/page.js', 'text/javascript; charset=utf-8'],
        ['/page.css', 'text/css; charset=utf-8'],
      ] as const) {
        const a = await requestApi({ socketPath: join(dir, 'ro.sock') }, 'GET', path);
        expect(a.status).toBe(200);
        expect(a.text).not.toContain(TOKEN);
        expect(a.text.length).toBeGreaterThan(500);
        expect(a.text).not.toContain('{{');
        expect(type).toBeTruthy();
      }
      // the page's own answers forbid inline script and other origins
      const head = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: readOnly.tcpAddress!.port, path: '/', method: 'HEAD' },
          (res) => {
            res.resume();
            resolve(res.headers);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(head['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
      expect(head['x-content-type-options']).toBe('nosniff');
      // a drain from the read-only listener is refused whatever the page shows
      const refused = await requestApi(
        { host: '127.0.0.1', port: readOnly.tcpAddress!.port },
        'POST',
        '/drain',
        {
          body: { real: '198.51.100.1:8000' },
          token: TOKEN,
        },
      );
      expect(refused.status).toBe(403);
    });
  },
);

describe('GET /events', () => {
  let dir: string;
  let server: ApiServer;
  const events = new EventLog(3);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvs-ha-events-'));
    server = await serveApi({ socketPath: join(dir, 'c.sock'), routes: pageRoutes({ events }) });
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the last lines, numbered; ?after= gives the ones since', async () => {
    for (const l of ['a', 'b', 'c', 'd']) events.push(l);
    const all = await requestApi({ socketPath: join(dir, 'c.sock') }, 'GET', '/events');
    expect(
      (all.body as { events: { seq: number; line: string }[] }).events.map((e) => [e.seq, e.line]),
    ).toEqual([
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
    const after = await requestApi({ socketPath: join(dir, 'c.sock') }, 'GET', '/events?after=3');
    expect((after.body as { events: { line: string }[] }).events.map((e) => e.line)).toEqual(['d']);
    // a number past the last (the node restarted since the client's last read): everything kept
    const restarted = await requestApi({ socketPath: join(dir, 'c.sock') }, 'GET', '/events?after=99');
    expect((restarted.body as { events: unknown[] }).events.length).toBe(3);
  });

  it('streams server-sent events: what was missed since Last-Event-ID, then each new line', async () => {
    const got: string[] = [];
    const req = httpRequest({
      socketPath: join(dir, 'c.sock'),
      path: '/events',
      headers: { accept: 'text/event-stream', 'last-event-id': '3' },
    });
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    res.setEncoding('utf8');
    res.on('data', (c: string) => got.push(c));
    await soon(
      'the missed line',
      async () => got.join(''),
      (t) => t.includes('"line":"d"'),
    );
    events.push('e');
    const text = await soon(
      'the new line',
      async () => got.join(''),
      (t) => t.includes('"line":"e"'),
    );
    expect(text.value).toMatch(
      /^retry: 2000\n\nid: 4\ndata: \{"seq":4,"time":"[^"]+","line":"d"\}\n\nid: 5\ndata: /,
    );
    expect(events.listeners).toBe(1);
    req.destroy();
    await soon(
      'the stream is let go',
      async () => events.listeners,
      (n) => n === 0,
    );
  });
});
