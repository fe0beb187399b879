// Browser tests in headless Chromium (Debian /usr/bin/chromium + playwright-core): the demo page
// loads the bundled fixture by fetch streaming, single-threaded (page without COOP/COEP) and
// threaded (crossOriginIsolated), gives the same vectors as Node, shows the memory plan, and worker
// mode keeps the main thread responsive during a long embed, nothing is printed to the console;
// then hosting the way real servers do it (static-server.mjs): .cjs not served as JavaScript, the
// library on another origin, the worker script missing or slow, the docs' import map; the page's
// own behaviour (red errors, a failed or new load clears the old model's views and shows the
// refused plan, a chosen documents file is indexed, Cancel) and serve.mjs (bad URLs, redirects,
// command line, busy port). Screenshots go to test-output/.
// Run: node --test tests/browser/browser.test.mjs   (needs dist/ from scripts/build-web.sh)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(ROOT, 'test-output');
const TINY = path.join(ROOT, 'tests/fixtures/tiny');

let chromium = null;
try { ({ chromium } = await import('playwright-core')); } catch { /* skipped below */ }
const skip = !chromium ? 'playwright-core not installed (npm install)'
  : !fs.existsSync(CHROMIUM) ? `${CHROMIUM} missing (apt-get install chromium)` : false;

let server, base, browser, userDir;
const sentences = fs.readFileSync(path.join(ROOT, 'tests/fixtures/sentences.txt'), 'utf8')
  .split('\n').map((l) => l.trim()).filter(Boolean);

before(async () => {
  if (skip) return;
  const { createServer } = await import('../../examples/browser/serve.mjs');
  server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-chromium-'));
  // A fresh profile per run (launchPersistentContext passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 1250 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  fs.mkdirSync(OUT, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.close();
  if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  const m = await import('../../web/index.js');
  m.shutdown();
});

// A page whose errors, console output and failed requests are collected: the library prints
// nothing, and the demo requests nothing that is not there (no favicon 404).
async function newPage(url) {
  const page = await browser.newPage();
  const errors = [], logs = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  // A weight download cancelled on purpose (a budget refusal), or one Chromium still counts as in
  // flight when the worker that read it to the end is terminated, shows as ERR_ABORTED: not a fault.
  page.on('requestfailed', (r) => {
    const why = r.failure() && r.failure().errorText;
    if (!(why === 'net::ERR_ABORTED' && r.url().endsWith('.safetensors'))) logs.push(`request failed: ${r.url()} ${why}`);
  });
  await page.goto(url);
  return { page, errors, logs };
}

async function openDemo(coi) {
  const { page, errors, logs } = await newPage(`${base}/examples/browser/${coi ? '' : '?coi=0'}`);
  await page.waitForFunction(() => window.demo && window.demo.ready);
  await page.waitForFunction(() => document.getElementById('docs').value.length > 0);
  return { page, errors, logs };
}

async function nodeVectors(backend) {
  const { load } = await import('../../web/index.js');
  const m = await load(TINY, { backend });
  const v = await m.embed(sentences);
  m.dispose();
  return v;
}

function maxAbs(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const coi of [false, true]) {
  const name = coi ? 'threaded (crossOriginIsolated)' : 'single-threaded (no COOP/COEP)';
  test(`demo ${name}: fetch-streams the fixture, same vectors as Node, plan shown`, { skip }, async () => {
    const { page, errors, logs } = await openDemo(coi);
    assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), coi);
    // Over budget: refused with the core's message, shown on the page.
    const code = await page.evaluate(() => window.demo.loadModel({ mode: 'main', budgetMiB: 1 }).then(() => 'loaded', (e) => e.code));
    assert.equal(code, 'BUDGET_EXCEEDED');
    assert.match(await page.textContent('#progressText'), /BUDGET_EXCEEDED: .*budget/);
    const info = await page.evaluate(() => window.demo.loadModel({ mode: 'main', budgetMiB: 512 }));
    assert.equal(info.backend, coi ? 'wasm-simd-threads' : 'wasm-simd');
    const progress = await page.evaluate(() => window.demo.state.progress);
    const w = progress.filter((e) => e.phase === 'weights');
    const size = fs.statSync(path.join(TINY, 'model.safetensors')).size;
    assert.ok(w.length >= 2, 'weights arrived in more than one chunk (streamed)');
    for (let i = 1; i < w.length; i++) assert.ok(w[i].loaded >= w[i - 1].loaded);
    assert.equal(progress[progress.length - 1].phase, 'done');
    assert.equal(progress[progress.length - 1].loaded, size);
    const planText = await page.textContent('#plan');
    assert.match(planText, /total plan/);
    assert.match(planText, new RegExp(info.plan.total.toLocaleString('en')));
    const got = await page.evaluate((s) => window.demo.embed(s), sentences);
    const want = await nodeVectors(coi ? 'threads' : 'single');
    let worst = 0;
    for (let i = 0; i < sentences.length; i++) worst = Math.max(worst, maxAbs(got[i], want[i]));
    assert.ok(worst <= 1e-6, `browser vs Node max abs ${worst}`);
    // Worker mode on the same page: the same vectors.
    const wInfo = await page.evaluate(() => window.demo.loadModel({ mode: 'worker' }));
    assert.equal(wInfo.backend, info.backend);
    const gotW = await page.evaluate((s) => window.demo.embed(s), sentences);
    for (let i = 0; i < sentences.length; i++) assert.ok(maxAbs(gotW[i], want[i]) <= 1e-6, `worker mode differs on ${i}`);
    await page.evaluate(() => window.demo.indexDocs());
    const results = await page.evaluate(() => window.demo.search('A man is eating food.'));
    assert.equal(results[0].doc, 'A man is eating food.');
    assert.ok(Math.abs(results[0].score - 1) < 1e-5);
    await page.screenshot({ path: path.join(OUT, `demo-${coi ? 'threads' : 'single'}.png`), fullPage: true });
    assert.deepEqual(errors, []);
    assert.deepEqual(logs, [], 'console output or failed requests (main thread and worker, threads or not)');
    await page.close();
  });
}

test('worker mode keeps the main thread responsive during a long embed', { skip }, async () => {
  const { page, errors } = await openDemo(true);
  const texts = [];
  for (let i = 0; i < 40; i++) texts.push(...sentences);
  const measure = (mode) => page.evaluate(async ({ mode, texts }) => {
    await window.demo.loadModel({ mode });
    let ticks = 0;
    const iv = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    const v = await window.demo.state.model.embed(texts);
    const ms = performance.now() - t0;
    // let a tick that was due during a blocked main thread fire before reading the count
    clearInterval(iv);
    return { ticks, ms, n: v.length };
  }, { mode, texts });
  const w = await measure('worker');
  const m = await measure('main');
  console.log(`# worker: ${w.ticks} ticks in ${w.ms.toFixed(0)} ms; main thread: ${m.ticks} ticks in ${m.ms.toFixed(0)} ms (${texts.length} texts)`);
  assert.equal(w.n, texts.length);
  assert.ok(w.ms >= 150, `the embed should take a while to make the check meaningful (${w.ms} ms)`);
  // A 10 ms timer on a free main thread fires ~ms/10 times; demand at least a third of that.
  assert.ok(w.ticks >= w.ms / 30, `worker mode: only ${w.ticks} ticks in ${w.ms} ms`);
  assert.ok(m.ticks <= 1, `main-thread mode blocks the thread (sanity check of the test): ${m.ticks} ticks`);
  await page.evaluate(() => window.demo.indexDocs());
  await page.evaluate(() => window.demo.search('a man eating'));
  await page.screenshot({ path: path.join(OUT, 'demo-worker.png'), fullPage: true });
  await page.evaluate(() => window.demo.dispose());
  assert.deepEqual(errors, []);
  await page.close();
});

// ---------------------------------------------------------------------------------------------
// Hosting: static-server.mjs set up as real servers are.

const BLANK = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>blank</title>';

async function hostedPage(serverOptions, pagePath = '/blank.html') {
  const { startStatic } = await import('./static-server.mjs');
  const s = await startStatic({ pages: { '/blank.html': BLANK }, ...serverOptions });
  const p = await newPage(s.base + pagePath);
  return { ...p, s, close: async () => { await p.page.close(); await s.close(); } };
}

// In the page: load the fixture with `api` ('/web/index.js' or '/web/worker.js', or a URL),
// embed, dispose. -> 'backend dim' or 'CODE message'.
const loadIn = (page, api, model, options = {}) => page.evaluate(async ({ api, model, options }) => {
  const { load } = await import(api);
  try {
    const m = await load(model, options);
    const v = await m.embed('hello');
    await m.dispose();
    return `${m.backend} ${v.length}`;
  } catch (e) { return `${e.code} ${e.message}`; }
}, { api, model, options });

test('pthreads with .cjs served as application/octet-stream: main thread and worker work, the wasm is fetched once, nothing printed', { skip }, async () => {
  const h = await hostedPage({ coi: true, types: { '.cjs': 'application/octet-stream' } });
  try {
    assert.equal(await loadIn(h.page, '/web/index.js', '/tests/fixtures/tiny/', { backend: 'threads', threads: 2, memoryBudget: 64 << 20 }),
      'wasm-simd-threads 32');
    assert.equal(h.s.requests.filter((p) => p.endsWith('/bertwasm-mt.wasm')).length, 1, 'a budgeted threaded load downloads the wasm once');
    assert.equal(await loadIn(h.page, '/web/worker.js', '/tests/fixtures/tiny/', { threads: 2 }), 'wasm-simd-threads 32');
    assert.deepEqual(h.errors, []);
    assert.deepEqual(h.logs, []);
  } finally { await h.close(); }
});

test('the library on another origin (a CDN with CORS): worker mode works on plain and crossOriginIsolated pages', { skip }, async () => {
  const { startStatic } = await import('./static-server.mjs');
  const cdn = await startStatic({ cors: true });
  try {
    for (const coi of [false, true]) {
      const h = await hostedPage({ coi });
      try {
        const model = h.s.base + '/tests/fixtures/tiny/';
        for (const api of ['web/worker.js', 'web/index.js']) {
          assert.equal(await loadIn(h.page, `${cdn.base}/${api}`, model, { threads: 2 }), `${coi ? 'wasm-simd-threads' : 'wasm-simd'} 32`, `${api} coi=${coi}`);
        }
        assert.deepEqual(h.errors, []);
        assert.deepEqual(h.logs, []);
      } finally { await h.close(); }
    }
  } finally { await cdn.close(); }
});

test('the bundled wasm answered with a 404 or an HTML page: NETWORK naming it, also with memoryBudget', { skip }, async () => {
  for (const [what, server] of [['404', { missing: ['/dist/bertwasm.wasm'] }],
    ['html', { pages: { '/blank.html': BLANK, '/dist/bertwasm.wasm': BLANK } }]]) {
    const h = await hostedPage(server);
    try {
      for (const options of [{}, { memoryBudget: 64 << 20 }]) {
        const r = await h.page.evaluate(async (options) => {
          const { load, BertError } = await import('/web/index.js');
          return load('/tests/fixtures/tiny/', options).then(() => 'loaded',
            (e) => ({ bert: e instanceof BertError, code: e.code, message: e.message }));
        }, options);
        const label = `${what} ${JSON.stringify(options)}: ${JSON.stringify(r)}`;
        assert.equal(r.bert, true, label);
        assert.equal(r.code, 'NETWORK', label);
        assert.match(r.message, /^bundled dist\/bertwasm\.wasm: /, label);
      }
    } finally { await h.close(); }
  }
});

test('worker script missing: NETWORK naming it; slow to arrive: the signal aborts the start at once', { skip }, async () => {
  const missing = await hostedPage({ missing: ['/web/worker-entry.js'] });
  try {
    const r = await missing.page.evaluate(async () => {
      const W = await import('/web/worker.js');
      return W.load('/tests/fixtures/tiny/').then(() => 'loaded', (e) => ({ bert: e instanceof W.BertError, code: e.code, message: e.message }));
    });
    assert.equal(r.bert, true, JSON.stringify(r));
    assert.equal(r.code, 'NETWORK');
    assert.ok(r.message.includes(`${missing.s.base}/web/worker-entry.js`) && /404/.test(r.message), r.message);
  } finally { await missing.close(); }
  const slow = await hostedPage({ slow: { match: /worker-entry\.js$/, chunk: 200, delay: 150 } });
  try {
    const r = await slow.page.evaluate(async () => {
      const W = await import('/web/worker.js');
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 100);
      const t0 = performance.now();
      const code = await W.load('/tests/fixtures/tiny/', { signal: ctl.signal }).then(() => 'loaded', (e) => e.code);
      return { code, msAfterAbort: performance.now() - t0 - 100 };
    });
    assert.equal(r.code, 'ABORTED');
    assert.ok(r.msAfterAbort < 2000, `load settled ${r.msAfterAbort} ms after the abort`); // (generous: loaded CI runners)
    assert.ok(!slow.s.requests.some((p) => p.endsWith('.safetensors')), 'nothing downloaded after the abort');
  } finally { await slow.close(); }
});

test('docs/web.md: the import map for pages without a bundler works as written', { skip }, async () => {
  const docs = fs.readFileSync(path.join(ROOT, 'docs/web.md'), 'utf8');
  const m = /<script type="importmap">([\s\S]*?)<\/script>/.exec(docs);
  assert.ok(m, 'docs/web.md has no import map');
  const map = JSON.parse(m[1]);
  assert.deepEqual(Object.keys(map.imports).sort(), ['bertwasm', 'bertwasm/worker']);
  // The package as `npm install` leaves it, served from the site root.
  const page = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">${m[1]}</script>
<script type="module">
import * as main from 'bertwasm';
import * as worker from 'bertwasm/worker';
window.apis = { main, worker };
</script>`;
  const h = await hostedPage({ pages: { '/app.html': page }, mounts: { '/node_modules/bertwasm/': ROOT } }, '/app.html');
  try {
    await h.page.waitForFunction(() => window.apis);
    const r = await h.page.evaluate(async () => {
      const out = [];
      for (const api of ['main', 'worker']) {
        const m = await window.apis[api].load('/tests/fixtures/tiny/');
        out.push((await m.embed('hello')).length);
        await m.dispose();
      }
      return out;
    });
    assert.deepEqual(r, [32, 32]);
    assert.ok(h.s.requests.every((p) => !p.startsWith('/web/') && !p.startsWith('/dist/')), 'everything came through the mapped folder');
    assert.deepEqual(h.errors, []);
  } finally { await h.close(); }
});

// ---------------------------------------------------------------------------------------------
// The demo page driven through its controls, as a user does.

const ERR_RED = 'rgb(179, 38, 30)'; // index.html's .err colour
const text = (page, sel) => page.textContent(sel).then((t) => t.trim());
const color = (page, sel) => page.$eval(sel, (el) => getComputedStyle(el).color);
const disabled = (page, sel) => page.$eval(sel, (el) => el.disabled);
const visible = (page, sel) => page.$eval(sel, (el) => !el.hidden);
const resultDocs = (page) => page.$$eval('#results li', (lis) => lis.map((li) => li.lastChild.textContent));
// Load from the form; settled when the outcome is shown and Load is offered again (after the
// index step that a successful Load runs).
async function clickLoad(page) {
  await page.$eval('#progressText', (el) => { el.textContent = ''; });
  await page.click('#loadBtn');
  await page.waitForFunction(() => /^(loaded in|cancelled|[A-Z_]+: )/.test(document.getElementById('progressText').textContent) &&
    !document.getElementById('loadBtn').disabled);
}
// Search from the form (button or Enter); settled when the result count is shown.
async function clickSearch(page, query, how = 'click') {
  await page.fill('#query', query);
  await page.$eval('#searchText', (el) => { el.textContent = ''; });
  if (how === 'click') await page.click('#searchBtn'); else await page.press('#query', 'Enter');
  await page.waitForFunction(() => document.getElementById('searchText').textContent);
  return resultDocs(page);
}

test('demo: errors are red; a refused reload clears the old model (status, plan, results) and shows the refused plan and what would fit; a new load clears old results', { skip }, async () => {
  const { page, errors, logs } = await openDemo(true);
  await clickLoad(page);
  assert.equal((await clickSearch(page, 'a man eating')).length, 10);
  assert.match(await text(page, '#status'), /wasm-simd-threads/);
  await page.fill('#budget', '2');
  await clickLoad(page);
  // 1. The error is shown as one (the id rule's grey used to win over .err).
  assert.match(await text(page, '#progressText'), /^BUDGET_EXCEEDED: model needs .* budget is 2\.0 MiB/);
  assert.equal(await color(page, '#progressText'), ERR_RED);
  // 2. Nothing of the disposed model is left: its status line, index and results are gone ...
  assert.equal(await text(page, '#status'), 'no model loaded');
  assert.equal(await text(page, '#indexText'), '');
  assert.deepEqual(await resultDocs(page), []);
  assert.equal(await text(page, '#searchText'), '');
  assert.equal(await disabled(page, '#searchBtn'), true);
  assert.equal(await disabled(page, '#loadBtn'), false);
  // ... and the table is the refused plan, labelled so, next to the budget, with no "memory now".
  assert.ok(await visible(page, '#plan'));
  assert.match(await text(page, '#planTitle'), /refused/);
  const plan = await text(page, '#plan tbody');
  assert.match(plan, /memory budget\s*2,097,152/);
  assert.match(plan, /total plan\s*3,215,570/);
  assert.doesNotMatch(plan, /wasm memory now/);
  assert.equal(await color(page, '#plan tr.total td'), ERR_RED);
  assert.ok(await visible(page, '#hint'));
  assert.match(await text(page, '#hint'), /^suggestion: q4_0 .*would need/);
  await page.screenshot({ path: path.join(OUT, 'demo-refused.png'), fullPage: true });
  // A successful load after it: the refusal is gone (not red, no hint, plain plan).
  await page.fill('#budget', '512');
  await clickLoad(page);
  assert.match(await text(page, '#progressText'), /^loaded in/);
  assert.notEqual(await color(page, '#progressText'), ERR_RED);
  assert.equal(await visible(page, '#hint'), false);
  assert.equal(await text(page, '#planTitle'), 'memory plan');
  assert.match(await text(page, '#plan tbody'), /wasm memory now/);
  // A reload with another dtype and mode: the last model's results do not stay on the page.
  assert.equal((await clickSearch(page, 'a man eating')).length, 10);
  await page.selectOption('#dtype', 'f32');
  await page.selectOption('#mode', 'main');
  await clickLoad(page);
  assert.match(await text(page, '#status'), /main thread/);
  assert.match(await text(page, '#plan tbody'), /weights \(f32\)/);
  assert.deepEqual(await resultDocs(page), []);
  assert.equal(await text(page, '#searchText'), '');
  assert.deepEqual(errors, []);
  assert.deepEqual(logs, []);
  await page.evaluate(() => window.demo.dispose());
  await page.close();
});

test('demo: a chosen documents file is indexed at once; edited documents are marked stale and re-indexed by the next search', { skip }, async () => {
  // (Opened as / : serve.mjs redirects to the demo, ?coi=0 kept.)
  const { page, errors, logs } = await newPage(`${base}/?coi=0`);
  assert.equal(page.url(), `${base}/examples/browser/?coi=0`);
  await page.waitForFunction(() => window.demo && window.demo.ready && document.getElementById('docs').value);
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), false);
  await clickLoad(page);
  assert.equal((await clickSearch(page, 'a man eating')).length, 10);
  const docs = ['zebras graze on the savanna', 'apple pie with cream', 'quantum field theory'];
  await page.setInputFiles('#file', { name: 'docs.txt', mimeType: 'text/plain', buffer: Buffer.from(docs.join('\n') + '\n') });
  await page.waitForFunction(() => document.getElementById('docs').value.startsWith('zebras'));
  // Search straight away, as a user would (the button waits while the file is being indexed).
  const got = await clickSearch(page, 'apple pie with cream');
  assert.deepEqual([...got].sort(), [...docs].sort(), 'ranks the chosen file, not the previous documents');
  assert.equal(got[0], 'apple pie with cream');
  assert.match(await text(page, '#indexText'), /^3 documents indexed/);
  // Typed edits: shown as stale at once, and the search ranks the text box, not the old index.
  await page.fill('#docs', 'one fish\ntwo fish');
  assert.match(await text(page, '#indexText'), /changed since indexing/);
  assert.match(await page.$eval('#indexText', (el) => el.className), /\bstale\b/);
  assert.deepEqual(await clickSearch(page, 'two fish', 'enter'), ['two fish', 'one fish']);
  assert.match(await text(page, '#indexText'), /^2 documents indexed/);
  assert.deepEqual(errors, []);
  assert.deepEqual(logs, []);
  await page.evaluate(() => window.demo.dispose());
  await page.close();
});

test('demo: Cancel aborts a slow load (Web Worker and main thread), shows "cancelled", and the page loads again', { skip }, async () => {
  // The weights trickle in (about 1.6 s in all) so there is a load to cancel.
  const h = await hostedPage({ coi: true, slow: { match: /model\.safetensors$/, chunk: 128 << 10, delay: 100 } }, '/examples/browser/index.html');
  try {
    const { page } = h;
    await page.waitForFunction(() => window.demo && window.demo.ready && document.getElementById('docs').value);
    assert.equal(await disabled(page, '#cancelBtn'), true, 'nothing to cancel before a load');
    for (const mode of ['worker', 'main']) {
      await page.selectOption('#mode', mode);
      await page.click('#loadBtn');
      await page.waitForFunction(() => /^weights [1-9]/.test(document.getElementById('progressText').textContent));
      assert.equal(await disabled(page, '#loadBtn'), true);
      assert.equal(await disabled(page, '#cancelBtn'), false, `${mode}: Cancel offered during the load`);
      await page.click('#cancelBtn');
      await page.waitForFunction(() => !document.getElementById('loadBtn').disabled, null, { timeout: 5000 });
      assert.equal(await text(page, '#progressText'), 'cancelled (ABORTED)', mode);
      assert.notEqual(await color(page, '#progressText'), ERR_RED, 'a cancel is not shown as a fault');
      assert.equal(await text(page, '#status'), 'no model loaded');
      assert.equal(await disabled(page, '#cancelBtn'), true);
      assert.equal(await disabled(page, '#searchBtn'), true);
      assert.equal(await page.evaluate(() => window.demo.state.model), null);
    }
    await page.screenshot({ path: path.join(OUT, 'demo-cancelled.png'), fullPage: true });
    // Ready to load again.
    await page.selectOption('#mode', 'worker');
    await clickLoad(page);
    assert.match(await text(page, '#progressText'), /^loaded in/);
    assert.match(await text(page, '#indexText'), new RegExp(`^${sentences.length} documents indexed`));
    await page.evaluate(() => window.demo.dispose());
    assert.deepEqual(h.errors, []);
    assert.deepEqual(h.logs, []);
  } finally { await h.close(); }
});

// ---------------------------------------------------------------------------------------------
// serve.mjs as a command (no browser needed).

const SERVE = path.join(ROOT, 'examples/browser/serve.mjs');

function runServe(args) {
  const p = spawn(process.execPath, [SERVE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { p, out: '', err: '' };
  p.stdout.on('data', (d) => { r.out += d; });
  p.stderr.on('data', (d) => { r.err += d; });
  r.exited = new Promise((resolve) => p.on('exit', (code) => resolve(code)));
  return r;
}

// The port from the URL it prints once listening.
async function servePort(r) {
  for (let i = 0; i < 200; i++) {
    const m = /open http:\/\/127\.0\.0\.1:(\d+)\/examples\/browser\//.exec(r.out);
    if (m) return Number(m[1]);
    if (r.p.exitCode !== null) break;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`serve.mjs did not start: ${r.out} ${r.err}`);
}

// The request target is sent as is (fetch() would normalise it).
const rawGet = (port, target) => new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port, path: target }, (res) => {
    res.resume();
    res.on('end', () => resolve({ status: res.statusCode, location: res.headers.location }));
  }).on('error', reject);
});

test('serve.mjs createServer({ root }): a malformed URL gets a 400 and the server keeps serving; / and /examples/browser redirect to the demo, keeping ?coi=0', async () => {
  const { createServer } = await import('../../examples/browser/serve.mjs');
  const server = createServer({ root: ROOT });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  try {
    assert.equal((await rawGet(port, '/%E0%A4%A')).status, 400);
    assert.equal((await rawGet(port, '/examples/%00')).status, 400);
    assert.equal((await rawGet(port, '/examples/browser/')).status, 200, 'still serving after bad requests');
    assert.deepEqual(await rawGet(port, '/examples/browser'), { status: 301, location: '/examples/browser/' });
    assert.deepEqual(await rawGet(port, '/examples/browser?coi=0'), { status: 301, location: '/examples/browser/?coi=0' });
    const root = await rawGet(port, '/?coi=0');
    assert.ok([301, 302].includes(root.status), String(root.status));
    assert.equal(root.location, '/examples/browser/?coi=0');
    assert.equal((await rawGet(port, '/examples/browser/app.js')).status, 200);
    assert.equal((await rawGet(port, '/examples/browser/nothing.js')).status, 404);
    assert.equal((await rawGet(port, '/examples/..%2f..%2f..%2fetc/passwd')).status, 403, 'nothing outside the root');
  } finally { server.close(); }
});

test('serve.mjs command line: --port=N and --port N, prints the URL to open; a busy port is one line and exit 1; bad arguments print the usage, exit 2', async () => {
  const a = runServe(['--port=0']);
  try {
    const port = await servePort(a);
    assert.ok(port > 0, '--port=0 listened on a free port, not the default');
    assert.equal((await rawGet(port, '/examples/browser/')).status, 200);
    // The same port again, as `--port N`: busy.
    const b = runServe(['--port', String(port)]);
    assert.equal(await b.exited, 1);
    assert.match(b.err, new RegExp(`port ${port} is busy.*--port`));
    assert.equal(b.err.trim().split('\n').length, 1, b.err);
    assert.doesNotMatch(b.err, /Unhandled|\n\s+at /);
    assert.equal(a.p.exitCode, null, 'the first server is still up');
  } finally { a.p.kill(); await a.exited; }
  for (const args of [['--prot', '1'], ['--port=abc'], ['--port'], ['--port', '70000'], ['8080']]) {
    const r = runServe(args);
    const code = await Promise.race([r.exited, new Promise((res) => setTimeout(res, 5000, 'still running'))]);
    if (code === 'still running') { r.p.kill(); await r.exited; }
    assert.equal(code, 2, `${args.join(' ')}: ${r.out}`);
    assert.match(r.err, /^serve\.mjs: (unknown argument|bad port)/, args.join(' '));
    assert.match(r.err, /usage: node examples\/browser\/serve\.mjs/);
    assert.equal(r.out, '');
  }
});
