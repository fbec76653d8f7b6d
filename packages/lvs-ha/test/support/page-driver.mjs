// Drives Debian's Chromium (playwright-core) inside the lab's qemu guest for
// test/page.lab.test.ts: plain Node, no tsx (it starts in seconds, not a
// minute, under emulation). Run in a director's namespace; it reads
// commands from files the host writes into the guest's share directory
// (DIR/cmd-N.json, N from 1) and answers each on stdout as one line
// `res N {json}`. Times are measured here, on the guest's clock, between
// what it does itself (a kill, a click) and what it sees (the page's DOM,
// `ipvsadm -Ln` run in the same namespace).
//   node page-driver.mjs DIR
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node page-driver.mjs DIR');
const say = (line) => process.stdout.write(`${line}\n`);

const run = (argv) =>
  new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }),
    );
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const t0 = Date.now();
const { chromium } = await import('playwright-core');
const importMs = Date.now() - t0;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  timeout: 600_000,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
const launchMs = Date.now() - t0 - importMs;
const page = await browser.newPage();
page.setDefaultTimeout(120_000);
const errors = [];
page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
const pageMs = Date.now() - t0 - importMs - launchMs;
say(`ready ${JSON.stringify({ importMs, launchMs, pageMs })}`);

const row = (real) => page.locator(`tr[data-real="${real}"]`);
const cells = (real) => row(real).locator('th, td').allTextContents();

/** Polls `ipvsadm -Ln` (this namespace's kernel table) until `pred` holds; ms since `from`. */
async function kernelUntil(pred, from, timeoutMs) {
  for (;;) {
    const r = await run(['ipvsadm', '-Ln']);
    if (pred(r.stdout)) return { ms: Date.now() - from, table: r.stdout };
    if (Date.now() - from > timeoutMs) throw new Error(`ipvsadm -Ln never as expected; last:\n${r.stdout}`);
    await sleep(100);
  }
}

const ops = {
  async goto(c) {
    const t = Date.now();
    await page.goto(c.url);
    for (const real of c.reals) await page.locator(`tr[data-real="${real}"][data-health="up"]`).waitFor();
    return { ms: Date.now() - t };
  },
  async texts(c) {
    return {
      node: await page.locator('#node-name').textContent(),
      self: await page.locator('#this-node dd').allTextContents(),
      peers: await Promise.all(
        (await page.locator('#peers tbody tr').all()).map((r) => r.locator('th, td').allTextContents()),
      ),
      reals: Object.fromEntries(await Promise.all(c.reals.map(async (r) => [r, await cells(r)]))),
      buttons: await page.locator('button').evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label'))),
      tokenField: await page.locator('#token-form').isVisible(),
      events: await page.locator('#events li .line').allTextContents(),
      errors,
    };
  },
  /** Stops a real server (the kill), then times when the kernel's table and the page show it. */
  async stopAndWatch(c) {
    const from = Date.now();
    const k = await run(c.kill);
    if (k.code !== 0) throw new Error(`${c.kill.join(' ')}: ${k.stderr}`);
    const killMs = Date.now() - from;
    const [shown, kernel] = await Promise.all([
      page
        .locator(`tr[data-real="${c.real}"][data-health="down"]`)
        .waitFor({ timeout: c.timeoutMs })
        .then(() => Date.now() - from),
      kernelUntil((t) => !t.includes(`-> ${c.real} `), from, c.timeoutMs),
    ]);
    // health down comes first (the check's result), the table's change a moment later (the
    // Director's apply): the row is read once the page also shows it out of the table
    await row(c.real).locator('td', { hasText: 'not in the table' }).waitFor({ timeout: c.timeoutMs });
    const tableOnPageMs = Date.now() - from;
    return {
      killMs,
      pageMs: shown,
      tableOnPageMs,
      kernelMs: kernel.ms,
      table: kernel.table,
      cells: await cells(c.real),
    };
  },
  /** Types the token, clicks the real server's Drain button; times the page's weight 0 and the kernel's. */
  async drain(c) {
    await page.getByLabel('Token for writes').fill(c.token);
    const button = page.getByRole('button', { name: `Drain ${c.real} of ${c.service}` });
    await button.waitFor();
    const from = Date.now();
    await button.click();
    const weight0 = new RegExp(`-> ${c.real.replaceAll('.', '\\.')} +Route +0 `);
    const [answered, shown, kernel] = await Promise.all([
      // the API's answer to the page's POST /drain
      page
        .locator('#action-result', { hasText: 'done' })
        .waitFor({ timeout: c.timeoutMs })
        .then(() => Date.now() - from),
      page
        .locator(`tr[data-real="${c.real}"][data-weight="0"]`)
        .waitFor({ timeout: c.timeoutMs })
        .then(() => Date.now() - from),
      kernelUntil((t) => weight0.test(t), from, c.timeoutMs),
    ]);
    if (c.captionHas)
      await page.locator(`table[data-virtual="${c.virtual}"] caption`, { hasText: c.captionHas }).waitFor({
        timeout: c.timeoutMs,
      });
    return {
      answeredMs: answered,
      pageMs: shown,
      kernelMs: kernel.ms,
      caption: await page.locator(`table[data-virtual="${c.virtual}"] caption`).textContent(),
      result: await page.locator('#action-result').textContent(),
      cells: await cells(c.real),
    };
  },
  async quit() {
    await browser.close();
    return {};
  },
};

for (let n = 1; ; n++) {
  const file = join(dir, `cmd-${n}.json`);
  while (!existsSync(file)) await sleep(100);
  const c = JSON.parse(readFileSync(file, 'utf8'));
  let answer;
  try {
    answer = await ops[c.op](c);
  } catch (e) {
    answer = { error: String(e?.stack ?? e) };
  }
  say(`res ${n} ${JSON.stringify(answer)}`);
  if (c.op === 'quit') break;
}
