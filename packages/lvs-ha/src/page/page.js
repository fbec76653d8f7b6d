// The status page of a running `lvs-ha start` (served at / by its HTTP API).
// No framework: it reads the API's own answers, GET status (the ClusterReport
// that `lvs-ha status --json` prints), GET metrics?reals=full (the kernel's
// rates) and GET events (the node's lines, server-sent), and writes only with
// POST drain / undrain. Every value is put in the page as text (never as
// HTML). The token for writes is typed by the operator and kept in a variable
// of this tab: it is never in the page the server sends, nor stored.

const STATUS_EVERY_MS = 1000;
const METRICS_EVERY_MS = 3000;
const MAX_EVENTS = 200;

/** none: read-only listener; open: writes without a token (the Unix socket); token: writes with the Bearer token. */
const writes = document.querySelector('meta[name="lvs-ha-writes"]')?.getAttribute('content') ?? 'none';
let token = '';
/** `${virtual} ${real}` -> { cps, inBps, outBps } from the last scrape */
let rates = new Map();
/** the last status, to render again when rates come */
let lastStatus;

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}

/** Sets the element's children only when they differ (keeps focus and selection elsewhere). */
function setText(e, text) {
  if (e.textContent !== text) e.textContent = text;
}

function ago(iso) {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

function timeEl(iso) {
  if (!iso) return el('span', {}, '–');
  const d = new Date(iso);
  return el('time', { datetime: iso, title: d.toString() }, `${d.toLocaleTimeString()} (${ago(iso)})`);
}

function realName(r) {
  return r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`;
}

function rate(n) {
  if (n === undefined) return '–';
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

// --- the pair -------------------------------------------------------------

function renderPair(s) {
  setText($('node-name'), s.node);
  document.title = `lvs-ha ${s.node}: ${s.nodeStatus}, holding ${s.holding}`;
  const dl = $('this-node');
  dl.replaceChildren(
    el('dt', {}, 'This node'),
    el('dd', {}, `${s.node}: ${s.nodeStatus}`, s.nodeStatusSince ? ' since ' : '', timeEl(s.nodeStatusSince)),
    el('dt', {}, 'Holding'),
    el('dd', {}, `${s.holding} (${s.state})`, s.holdingSince ? ' since ' : '', timeEl(s.holdingSince)),
    el('dt', {}, 'VIPs up here'),
    el('dd', {}, s.vips.length > 0 ? s.vips.join(', ') : 'none'),
    el('dt', {}, 'Directors running here'),
    el('dd', {}, s.directors.length > 0 ? s.directors.join(', ') : 'none'),
  );
  $('peers')
    .querySelector('tbody')
    .replaceChildren(
      ...s.peers.map((p) => {
        const links = Object.entries(p.links);
        return el(
          'tr',
          { 'data-peer': p.name, 'data-status': p.status },
          el('th', { scope: 'row' }, p.name),
          el('td', { class: `status-${p.status}` }, p.status),
          el('td', {}, timeEl(p.since)),
          el(
            'td',
            {},
            links.length > 0
              ? links.map(([medium, state]) => `${medium}: ${state}`).join(', ')
              : 'none heard',
          ),
        );
      }),
    );
  $('groups')
    .querySelector('tbody')
    .replaceChildren(
      ...(s.groups ?? []).map((g) =>
        el(
          'tr',
          {},
          el('th', { scope: 'row' }, g.key),
          el('td', {}, g.owner),
          el('td', {}, g.heldHere ? 'yes' : 'no'),
        ),
      ),
    );
}

// --- the virtual services ----------------------------------------------------

const HEAD = [
  'Real server',
  'Health',
  'Last check',
  'Weight in the kernel',
  'Active connections',
  'Inactive connections',
  'Connections/s',
  'Bytes/s in / out',
];

function weightText(r) {
  const k = r.kernel ? String(r.kernel.weight) : 'not in the table';
  const parts = [`configured ${r.configuredWeight}`];
  if (r.override) parts.push(r.override.remove ? 'drained: to be removed' : `override ${r.override.weight}`);
  return `${k} (${parts.join(', ')})`;
}

function lastText(r) {
  if (!r.last) return 'not checked yet';
  const what = r.last.ok ? 'ok' : (r.last.reason ?? 'failed');
  const detail = r.last.detail ? `: ${r.last.detail}` : '';
  return `${what}${r.last.ok ? '' : detail} (${r.last.durationMs} ms)`;
}

function actionCell(v, r) {
  const name = realName(r);
  const drained = r.override !== undefined && (r.override.weight === 0 || r.override.remove);
  const op = r.override ? 'undrain' : 'drain';
  const label = op === 'drain' ? 'Drain' : drained ? 'Undrain' : 'Undo weight';
  const b = el(
    'button',
    {
      type: 'button',
      'data-op': op,
      'data-virtual': v.id,
      'data-real': name,
      'aria-label': `${label} ${name} of ${v.service}`,
    },
    label,
  );
  b.addEventListener('click', () => write(b, op, { real: name, virtual: v.id }));
  return el('td', {}, b);
}

function renderRow(tr, v, r) {
  const name = realName(r);
  const rt = rates.get(`${v.id} ${name}`);
  const cells = [
    lastText(r),
    weightText(r),
    r.kernel ? String(r.kernel.activeConns) : '–',
    r.kernel ? String(r.kernel.inactiveConns) : '–',
    rt ? rate(rt.cps) : '–',
    rt ? `${rate(rt.inBps)} / ${rate(rt.outBps)}` : '–',
  ];
  tr.dataset.health = r.health;
  tr.dataset.weight = r.kernel ? String(r.kernel.weight) : '';
  let th = tr.querySelector('th');
  if (!th) {
    th = el('th', { scope: 'row' }, name);
    tr.append(th, el('td', {}), ...cells.map(() => el('td', {})));
  }
  const tds = tr.querySelectorAll('td');
  tds[0].className = `health-${r.health}`;
  setText(tds[0], r.health);
  for (const [i, c] of cells.entries()) setText(tds[i + 1], c);
  if (writes !== 'none') {
    const op = r.override ? 'undrain' : 'drain';
    const cur = tr.querySelector('button');
    if (!cur || (cur.dataset.op !== op && cur.getAttribute('aria-disabled') !== 'true')) {
      const focused = cur !== null && document.activeElement === cur;
      const cell = actionCell(v, r);
      const old = tds[cells.length + 1];
      if (old) old.replaceWith(cell);
      else tr.append(cell);
      // Drain becomes Undrain under the keyboard's focus
      if (focused) cell.querySelector('button').focus();
    }
  }
}

function renderVirtuals(s) {
  const box = $('virtuals');
  const files = s.ipvs ?? [];
  const seen = new Set();
  if (files.length === 0) {
    box.replaceChildren(
      el('p', { id: 'no-director' }, 'No Director runs on this node (the peer holds the ldirectord group?).'),
    );
    return;
  }
  box.querySelector('#no-director')?.remove();
  for (const f of files) {
    for (const v of f.virtuals) {
      const key = `${f.file} ${v.id}`;
      seen.add(key);
      let table = [...box.querySelectorAll('table')].find((t) => t.dataset.key === key);
      if (!table) {
        const head = [...HEAD, ...(writes !== 'none' ? ['Actions'] : [])];
        table = el(
          'table',
          { 'data-key': key, 'data-virtual': v.id },
          el('caption', {}),
          el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))),
          el('tbody'),
        );
        box.append(table);
      }
      const bits = [`${v.service} (${v.scheduler})`];
      if (!v.inKernel) bits.push('not in the kernel');
      if (v.fallback) bits.push(`fallback ${v.fallback} in`);
      if (files.length > 1) bits.push(f.file);
      setText(table.querySelector('caption'), bits.join(', '));
      const body = table.querySelector('tbody');
      const rows = new Map([...body.rows].map((tr) => [tr.dataset.real, tr]));
      const keep = new Set();
      for (const r of v.reals) {
        const name = realName(r);
        keep.add(name);
        let tr = rows.get(name);
        if (!tr) {
          tr = el('tr', { 'data-real': name });
          body.append(tr);
        }
        renderRow(tr, v, r);
      }
      for (const [name, tr] of rows) if (!keep.has(name)) tr.remove();
    }
  }
  for (const t of box.querySelectorAll('table')) if (!seen.has(t.dataset.key)) t.remove();
}

// --- writes -------------------------------------------------------------------

async function write(button, op, body) {
  const out = $('action-result');
  if (writes === 'token' && token === '') {
    out.textContent = 'Type the token for writes first.';
    $('token').focus();
    return;
  }
  // aria-disabled, not disabled: a disabled button would drop the keyboard's focus
  if (button.getAttribute('aria-disabled') === 'true') return;
  button.setAttribute('aria-disabled', 'true');
  out.textContent = `${op} ${body.real}…`;
  try {
    const res = await fetch(op, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(writes === 'token' && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({}));
    if (res.ok) {
      out.textContent = `${op} ${body.real}: done`;
    } else {
      const e = answer.error ?? { code: `HTTP ${res.status}`, message: '' };
      out.textContent = `${op} ${body.real} refused: ${e.code}: ${e.message}`;
      if (res.status === 401) $('token').focus();
    }
  } catch (e) {
    out.textContent = `${op} ${body.real}: no answer (${e.message})`;
  } finally {
    button.removeAttribute('aria-disabled');
    refreshSoon();
  }
}

// --- the node's events ---------------------------------------------------------

function addEvent(e) {
  const list = $('events');
  const li = el('li', { 'data-seq': e.seq }, timeEl(e.time), ' ', el('span', { class: 'line' }, e.line));
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

function listenEvents() {
  const source = new EventSource('events');
  let last = 0;
  source.onmessage = (m) => {
    const e = JSON.parse(m.data);
    // a reconnect sends what was missed; a restarted node numbers from 1 again
    if (e.seq <= last && e.seq !== 1) return;
    if (e.seq === 1 && last > 0)
      addEvent({ seq: 0, time: new Date().toISOString(), line: '(the node restarted)' });
    last = e.seq;
    addEvent(e);
    refreshSoon();
  };
}

// --- polling --------------------------------------------------------------------

let timer;
let inFlight = false;
let again = false;

function refreshSoon() {
  if (inFlight) {
    again = true;
    return;
  }
  clearTimeout(timer);
  timer = setTimeout(refresh, 50);
}

async function refresh() {
  clearTimeout(timer);
  inFlight = true;
  const conn = $('connection');
  try {
    const res = await fetch('status', { cache: 'no-store' });
    const body = await res.json().catch(() => undefined);
    if (!res.ok || !body)
      throw new Error(body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
    lastStatus = body;
    renderPair(body);
    renderVirtuals(body);
    document.body.classList.remove('stale');
    setText(conn, `Live: updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    document.body.classList.add('stale');
    setText(conn, `No answer from the node (${e.message}); the figures below are old. Retrying…`);
  } finally {
    inFlight = false;
    timer = setTimeout(refresh, again ? 50 : STATUS_EVERY_MS);
    again = false;
  }
}

/** `name{a="x",b="y"} value` lines of the Prometheus text, for the metrics in `want`. */
function parseMetrics(text, want) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || !want.has(m[1])) continue;
    const labels = {};
    for (const l of m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const RATE_METRICS = new Set(['lvs_ha_real_connections_per_second', 'lvs_ha_real_bytes_per_second']);

async function refreshRates() {
  try {
    const res = await fetch('metrics?reals=full', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const next = new Map();
    for (const s of parseMetrics(await res.text(), RATE_METRICS)) {
      const key = `${s.labels.virtual} ${s.labels.real}`;
      const r = next.get(key) ?? {};
      if (s.name === 'lvs_ha_real_connections_per_second') r.cps = s.value;
      else if (s.labels.direction === 'in') r.inBps = s.value;
      else if (s.labels.direction === 'out') r.outBps = s.value;
      next.set(key, r);
    }
    rates = next;
    if (lastStatus) renderVirtuals(lastStatus);
  } catch {
    // no metrics here (or the node is starting): the rate columns say –
    rates = new Map();
  } finally {
    setTimeout(refreshRates, METRICS_EVERY_MS);
  }
}

function start() {
  if (writes === 'token') {
    const form = $('token-form');
    form.hidden = false;
    form.addEventListener('submit', (e) => e.preventDefault());
    $('token').addEventListener('input', (e) => {
      token = e.target.value.trim();
    });
  }
  document.body.dataset.writes = writes;
  refresh();
  refreshRates();
  listenEvents();
}

start();
