// Tests of the npm package's JS API (web/index.js over dist/bertwasm*.wasm) in Node.
// Needs `bash scripts/build-web.sh` first. Run: node --test tests/node/web.test.mjs
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import util from 'node:util';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TINY = path.join(ROOT, 'tests/fixtures/tiny');
const CROSS = path.join(ROOT, 'tests/fixtures/tiny-cross');
const HAVE_DIST = fs.existsSync(path.join(ROOT, 'dist/bertwasm.wasm')) && fs.existsSync(path.join(ROOT, 'dist/bertwasm-mt.wasm'));
if (!HAVE_DIST) throw new Error('dist/bertwasm*.wasm missing: run `bash scripts/build-web.sh` first');

const { load, BertError, cosineSimilarity, shutdown } = await import('../../web/index.js');

const goldens = JSON.parse(fs.readFileSync(path.join(TINY, 'goldens.json'), 'utf8'));
const crossGoldens = JSON.parse(fs.readFileSync(path.join(CROSS, 'goldens.json'), 'utf8'));
const texts = goldens.items.map((it) => it.text);

function compare(a, b) {
  let dot = 0, na = 0, nb = 0, maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i];
    maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
  }
  return { cos: dot / Math.sqrt(na * nb), maxAbs };
}

// A ReadableStream over a file that records how many bytes were pulled; highWaterMark 0 so
// nothing is read ahead of the consumer.
function recordingStream(file, chunk, { delayAfter = Infinity, delayMs = 0, truncateAt = Infinity } = {}) {
  const data = fs.readFileSync(file); // test-side source, not the library
  const rec = { pulled: 0, chunks: 0, cancelled: false };
  const stream = new ReadableStream({
    async pull(ctl) {
      if (rec.pulled >= Math.min(data.length, truncateAt)) { ctl.close(); return; }
      if (rec.chunks >= delayAfter) await new Promise((r) => setTimeout(r, delayMs));
      const end = Math.min(rec.pulled + chunk, data.length, truncateAt);
      ctl.enqueue(new Uint8Array(data.subarray(rec.pulled, end)));
      rec.pulled = end; rec.chunks++;
    },
    cancel() { rec.cancelled = true; },
  }, { highWaterMark: 0 });
  return { stream, rec, size: data.length };
}

const parts = (dir, weights) => ({
  config: fs.readFileSync(path.join(dir, 'config.json'), 'utf8'),
  tokenizer: fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'),
  files: Object.fromEntries(['tokenizer_config.json', 'special_tokens_map.json', 'modules.json',
    '1_Pooling/config.json', 'sentence_bert_config.json']
    .filter((f) => fs.existsSync(path.join(dir, f)))
    .map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')])),
  weights,
});

after(() => shutdown());

// Runs an ES module script in a fresh Node process. A script that hangs (blocked event loop, or a
// worker that keeps the process alive) is killed at `timeout`: { code: null, signal: 'SIGTERM' }.
// `INDEX`, `WORKER`, `TINY` and `CROSS` are defined for the script.
function runScript(code, timeout = 30000) {
  const prelude = `const INDEX = ${JSON.stringify(pathToFileURL(path.join(ROOT, 'web/index.js')).href)};
const WORKER = ${JSON.stringify(pathToFileURL(path.join(ROOT, 'web/worker.js')).href)};
const TINY = ${JSON.stringify(TINY)}, CROSS = ${JSON.stringify(CROSS)};\n`;
  // A file, not `node -e`: workers inherit execArgv, and `--input-type` is refused in a worker.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-script-'));
  const file = path.join(dir, 'script.mjs');
  fs.writeFileSync(file, prelude + code);
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: ROOT, timeout }, (err, stdout, stderr) => {
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code: err ? err.code ?? null : 0, signal: err ? err.signal : null, stdout, stderr });
    });
  });
}

// What p settles to (value or error), or 'pending' if it has not settled within ms.
function within(p, ms) {
  let timer;
  const late = new Promise((r) => { timer = setTimeout(() => r('pending'), ms); });
  return Promise.race([p.then((v) => v, (e) => e), late]).finally(() => clearTimeout(timer));
}

describe('embeddings', () => {
  for (const backend of ['single', 'threads']) {
    test(`${backend}: f32 matches transformers.js goldens (cos >= 0.99999, max abs <= 1e-4), ids exact`, async () => {
      const m = await load(TINY, { dtype: 'f32', backend });
      assert.equal(m.backend, backend === 'single' ? 'wasm-simd' : 'wasm-simd-threads');
      assert.equal(m.dim, 32);
      assert.equal(m.config.pooling, 'mean');
      assert.equal(m.config.maxTokens, 128);
      const vecs = await m.embed(texts);
      assert.equal(vecs.length, texts.length);
      let worstCos = 1, worstAbs = 0;
      for (let i = 0; i < texts.length; i++) {
        const g = goldens.items[i];
        const { cos, maxAbs } = compare(vecs[i], g.embedding);
        worstCos = Math.min(worstCos, cos); worstAbs = Math.max(worstAbs, maxAbs);
        const tok = await m.tokenize(g.text);
        assert.deepEqual(tok.ids, g.ids, `ids of item ${i}`);
        assert.equal(tok.truncated, g.ids_untruncated.length - g.ids.length);
        assert.equal(await m.countTokens(g.text), g.ids_untruncated.length);
      }
      assert.ok(worstCos >= 0.99999, `worst cosine ${worstCos}`);
      assert.ok(worstAbs <= 1e-4, `worst max abs ${worstAbs}`);
      // Single text gives the same vector as inside a batch.
      const one = await m.embed(texts[3]);
      assert.ok(compare(one, vecs[3]).maxAbs < 1e-6);
      m.dispose();
    });
  }

  test('q8 (default) cos >= 0.999 against goldens; single and threads agree', async () => {
    const a = await load(TINY, { backend: 'single' });
    const b = await load(TINY, { backend: 'threads', threads: 2 });
    assert.equal(a.plan.dtype, 'q8');
    const va = await a.embed(texts), vb = await b.embed(texts);
    for (let i = 0; i < texts.length; i++) {
      const { cos } = compare(va[i], goldens.items[i].embedding);
      assert.ok(cos >= 0.999, `item ${i}: cos ${cos}`);
      assert.ok(compare(va[i], vb[i]).maxAbs < 1e-5, `variants differ on item ${i}`);
    }
    a.dispose(); b.dispose();
  });

  test('equals the native build (build/bertwasm embed) within float tolerance', async (t) => {
    const exe = path.resolve(ROOT, process.env.BERT_BUILD_DIR || 'build', 'bertwasm');
    if (!fs.existsSync(exe)) { t.skip(`native CLI ${exe} not built (set BERT_BUILD_DIR): comparison skipped`); return; }
    for (const dtype of ['f32', 'q8']) {
      const out = execFileSync(exe, ['embed', '--model', TINY, '--dtype', dtype], { input: texts.join('\n') + '\n' }).toString();
      const native = out.trim().split('\n').map((l) => JSON.parse(l).embedding);
      assert.equal(native.length, texts.length);
      const m = await load(TINY, { dtype, backend: 'single' });
      const vecs = await m.embed(texts);
      let worst = 0;
      for (let i = 0; i < texts.length; i++) worst = Math.max(worst, compare(vecs[i], native[i]).maxAbs);
      console.log(`# ${dtype}: wasm vs native max abs ${worst.toExponential(2)} over ${texts.length} texts`);
      assert.ok(worst <= 1e-5, `${dtype}: max abs vs native ${worst}`);
      m.dispose();
    }
  });

  test('cross-encoder rerank matches the goldens logits and sorts', async () => {
    const m = await load(CROSS, { dtype: 'f32' });
    assert.equal(m.config.numLabels, 1);
    for (const g of crossGoldens.items.slice(0, 6)) {
      const [r] = await m.rerank(g.query, [g.document]);
      assert.ok(Math.abs(r.logit - g.logits[0]) <= 1e-4, `${r.logit} vs ${g.logits[0]}`);
      // one label: score = sigmoid(logit), as the CLI and sentence-transformers' CrossEncoder give it
      assert.ok(Math.abs(r.score - 1 / (1 + Math.exp(-g.logits[0]))) <= 1e-4, `${r.score}`);
      assert.ok(r.score > 0 && r.score < 1 && r.logits === undefined);
    }
    const q = crossGoldens.items[0].query;
    const docs = crossGoldens.items.map((g) => g.document);
    const ranked = await m.rerank(q, docs);
    assert.equal(ranked.length, docs.length);
    for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].score >= ranked[i].score);
    assert.deepEqual(ranked.map((r) => r.index).sort((x, y) => x - y), docs.map((_, i) => i));
    assert.equal((await m.rerank(q, docs, { topK: 3 })).length, 3);
    m.dispose();
    const e = await load(TINY);
    await assert.rejects(e.rerank('q', ['d']), (err) => err instanceof BertError && err.code === 'UNSUPPORTED');
    e.dispose();
  });
});

describe('loading', () => {
  test('progress events are monotonic and end at total', async () => {
    const events = [];
    const m = await load(TINY, { onProgress: (e) => events.push(e) });
    const w = events.filter((e) => e.phase === 'weights' || e.phase === 'plan' || e.phase === 'done');
    const size = fs.statSync(path.join(TINY, 'model.safetensors')).size;
    assert.ok(w.length >= 3);
    for (let i = 1; i < w.length; i++) assert.ok(w[i].loaded >= w[i - 1].loaded, 'loaded decreased');
    const last = events[events.length - 1];
    assert.equal(last.phase, 'done');
    assert.equal(last.loaded, size);
    assert.equal(last.total, size);
    const plan = events.find((e) => e.phase === 'plan');
    assert.equal(plan.plan.total, m.plan.total);
    m.dispose();
  });

  test('memory grows only before the first weight byte, by about the plan (fresh instance)', async () => {
    // A module of our own gets a fresh wasm instance, so the growth is visible.
    const mod = await WebAssembly.compile(fs.readFileSync(path.join(ROOT, 'dist/bertwasm.wasm')));
    const events = [];
    const m = await load(TINY, { wasm: mod, onProgress: (e) => events.push(e) });
    const w = events.filter((e) => 'wasmMemory' in e);
    const start = w[0].wasmMemory;
    const planAt = w.findIndex((e) => e.phase === 'plan');
    assert.ok(planAt > 0);
    const atPlan = w[planAt].wasmMemory;
    for (const e of w.slice(planAt)) assert.equal(e.wasmMemory, atPlan, `memory changed after the plan (${e.phase} ${e.loaded})`);
    assert.equal(m.memory.wasmMemory, atPlan);
    const growth = atPlan - start;
    console.log(`# fresh instance: ${start} -> ${atPlan} bytes (+${growth}); plan ${m.plan.total}, scratch ${m.memory.scratch}`);
    assert.ok(growth <= m.plan.total + m.memory.scratch + 65536, `grew ${growth} > plan + scratch`);
    m.dispose();
  });

  test('explicit parts: weights as ReadableStream, Blob, ArrayBuffer, Response, path give equal vectors', async () => {
    const file = path.join(TINY, 'model.safetensors');
    const ref = await load(TINY);
    const want = await ref.embed(texts.slice(0, 4));
    ref.dispose();
    const bytes = fs.readFileSync(file);
    const sources = {
      stream: recordingStream(file, 4096).stream,
      blob: new Blob([bytes]),
      arrayBuffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      response: new Response(recordingStream(file, 65536).stream),
      path: file,
    };
    for (const [kind, weights] of Object.entries(sources)) {
      const m = await load(parts(TINY, weights));
      const got = await m.embed(texts.slice(0, 4));
      for (let i = 0; i < 4; i++) assert.ok(compare(got[i], want[i]).maxAbs === 0, `${kind} differs`);
      m.dispose();
    }
  });

  test('URL source over HTTP: optional files may 404, custom fetch and headers are used, NETWORK errors', async () => {
    const { createServer } = await import('../../examples/browser/serve.mjs');
    const server = createServer();
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${server.address().port}`;
    try {
      const seen = [];
      const myFetch = (url, init) => { seen.push([String(url), init && init.headers && init.headers.Authorization]); return fetch(url, init); };
      const m = await load(`${base}/tests/fixtures/tiny-cross`, { fetch: myFetch, headers: { Authorization: 'Bearer x' }, dtype: 'f32' });
      assert.equal(m.config.numLabels, 1);
      const g = crossGoldens.items[0];
      const [r] = await m.rerank(g.query, [g.document]);
      assert.ok(Math.abs(r.logit - g.logits[0]) <= 1e-4);
      m.dispose();
      assert.ok(seen.some(([u]) => u.endsWith('/modules.json')), 'optional files were asked for');
      assert.ok(seen.some(([u]) => u.endsWith('/model.safetensors')));
      assert.ok(seen.every(([, auth]) => auth === 'Bearer x'), 'headers passed on every request');
      await assert.rejects(load(`${base}/tests/fixtures/nothing-here`), (e) => e.code === 'BAD_MODEL' && /config\.json/.test(e.message));
    } finally {
      server.close();
    }
    await assert.rejects(load('http://127.0.0.1:9/x/'), (e) => e instanceof BertError && e.code === 'NETWORK');
  });

  test('budget below the plan: BUDGET_EXCEEDED before the weight stream is read (header + one chunk at most)', async () => {
    const CH = 16384;
    const { stream, rec } = recordingStream(path.join(TINY, 'model.safetensors'), CH);
    const err = await load(parts(TINY, stream), { memoryBudget: 1 << 20 }).catch((e) => e);
    assert.ok(err instanceof BertError, String(err));
    assert.equal(err.code, 'BUDGET_EXCEEDED');
    assert.match(err.message, /budget/);
    assert.ok(err.plan && err.plan.total > (1 << 20), 'error carries the plan');
    assert.ok(rec.pulled <= err.plan.headerSize + CH, `pulled ${rec.pulled} > header ${err.plan.headerSize} + ${CH}`);
    assert.ok(rec.cancelled, 'stream cancelled');
    // The same budget as the plan is accepted.
    const m = await load(TINY, { memoryBudget: err.plan.total });
    m.dispose();
  });

  test('truncated stream: BAD_MODEL', async () => {
    const { stream } = recordingStream(path.join(TINY, 'model.safetensors'), 65536, { truncateAt: 1_000_000 });
    await assert.rejects(load(parts(TINY, stream)), (e) => e instanceof BertError && e.code === 'BAD_MODEL');
    await assert.rejects(load(parts(TINY, new Uint8Array(100))), (e) => e instanceof BertError && e.code === 'BAD_MODEL');
  });

  test('bad inputs: INVALID_ARGUMENT, missing folder BAD_MODEL', async () => {
    await assert.rejects(load(TINY, { dtype: 'q3' }), (e) => e.code === 'INVALID_ARGUMENT');
    await assert.rejects(load(TINY, { pooling: 'median' }), (e) => e.code === 'INVALID_ARGUMENT');
    await assert.rejects(load(42), (e) => e.code === 'INVALID_ARGUMENT');
    await assert.rejects(load('/nonexistent/model'), (e) => e.code === 'BAD_MODEL');
  });

  test('abort mid-download: ABORTED, stream cancelled, memory reusable', async () => {
    const m0 = await load(TINY, { backend: 'single' });
    m0.dispose();
    const ctl = new AbortController();
    const { stream, rec } = recordingStream(path.join(TINY, 'model.safetensors'), 65536, { delayAfter: 3, delayMs: 50 });
    const p = load(parts(TINY, stream), { signal: ctl.signal, backend: 'single',
      onProgress: (e) => { if (e.phase === 'weights' && e.loaded >= 3 * 65536) ctl.abort(); } });
    const err = await p.catch((e) => e);
    assert.equal(err.code, 'ABORTED');
    assert.ok(rec.cancelled, 'stream cancelled');
    assert.ok(rec.pulled < fs.statSync(path.join(TINY, 'model.safetensors')).size);
    // Everything freed: another load fits in the same memory.
    const m1 = await load(TINY, { backend: 'single' });
    const before = m1.memory.wasmMemory;
    m1.dispose();
    for (let i = 0; i < 3; i++) {
      const c = new AbortController();
      const s = recordingStream(path.join(TINY, 'model.safetensors'), 65536, { delayAfter: 2, delayMs: 20 });
      setTimeout(() => c.abort(), 30);
      await assert.rejects(load(parts(TINY, s.stream), { signal: c.signal, backend: 'single' }), (e) => e.code === 'ABORTED');
    }
    const m2 = await load(TINY, { backend: 'single' });
    assert.equal(m2.memory.wasmMemory, before, 'wasm memory grew after aborted loads');
    m2.dispose();
    // An already-aborted signal rejects at once.
    const c = new AbortController(); c.abort();
    await assert.rejects(load(TINY, { signal: c.signal }), (e) => e.code === 'ABORTED');
  });

  test('precompiled WebAssembly.Module from the caller', async () => {
    const mod = await WebAssembly.compile(fs.readFileSync(path.join(ROOT, 'dist/bertwasm.wasm')));
    const m = await load(TINY, { wasm: mod });
    assert.equal(m.backend, 'wasm-simd');
    const ref = await load(TINY, { backend: 'single' });
    assert.ok(compare(await m.embed('custom module'), await ref.embed('custom module')).maxAbs === 0);
    m.dispose(); ref.dispose();
    const mt = await load(TINY, { wasm: path.join(ROOT, 'dist/bertwasm-mt.wasm') });
    assert.equal(mt.backend, 'wasm-simd-threads');
    mt.dispose();
  });

  test('options.wasm errors are BertErrors: bad bytes, foreign module, missing path, unreachable URL, HTTP error', async () => {
    const is = (code) => (e) => e instanceof BertError && e.code === code && e.cause !== undefined;
    await assert.rejects(load(TINY, { wasm: new Uint8Array([1, 2, 3]) }), is('INVALID_ARGUMENT'));
    // A valid module that is not bertwasm (the empty module) must not crash the process.
    await assert.rejects(load(TINY, { wasm: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) }), is('INVALID_ARGUMENT'));
    await assert.rejects(load(TINY, { wasm: path.join(ROOT, 'no-such.wasm') }), is('INVALID_ARGUMENT'));
    await assert.rejects(load(TINY, { wasm: 'http://127.0.0.1:9/x.wasm' }), is('NETWORK'));
    await assert.rejects(load(TINY, { wasm: new Response('x', { status: 404 }) }), (e) => e instanceof BertError && e.code === 'NETWORK');
    await assert.rejects(load(TINY, { wasm: {} }), (e) => e instanceof BertError && e.code === 'INVALID_ARGUMENT');
  });

  test('options.wasm: a body failing mid-stream or a non-Error throw is NETWORK with a useful message', async () => {
    const reset = new Error('connection reset (test)');
    const failing = (type) => new Response(new ReadableStream({ pull(c) { c.error(reset); } }), { headers: { 'content-type': type } });
    for (const type of ['application/wasm', 'application/octet-stream']) { // compileStreaming / arrayBuffer()
      const e = await load(TINY, { wasm: failing(type) }).catch((x) => x);
      assert.ok(e instanceof BertError && e.code === 'NETWORK' && e.cause === reset, `${type}: ${e && e.code} ${e}`);
      assert.match(e.message, /^options\.wasm: /);
    }
    const e = await load(TINY, { wasm: 'http://127.0.0.1:9/x.wasm', fetch: async () => { throw 'offline'; } }).catch((x) => x); // eslint-disable-line no-throw-literal
    assert.equal(e.code, 'NETWORK');
    assert.match(e.message, /offline$/);
  });

  test('a broken install (bundled wasm not wasm, or missing): INTERNAL naming the bundled file, also with memoryBudget', async () => {
    // A copy of web/ whose dist/ has the glue but an HTML page or nothing as bertwasm.wasm.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-badwasm-'));
    try {
      fs.mkdirSync(path.join(dir, 'web'));
      fs.mkdirSync(path.join(dir, 'dist'));
      for (const f of ['index.js', 'parts.js']) fs.copyFileSync(path.join(ROOT, 'web', f), path.join(dir, 'web', f));
      for (const f of ['bertwasm.js', 'bertwasm-mt.js']) fs.copyFileSync(path.join(ROOT, 'dist', f), path.join(dir, 'dist', f));
      const I = await import(pathToFileURL(path.join(dir, 'web/index.js')).href);
      for (const wasm of ['<!doctype html><title>not found</title>', null]) {
        const file = path.join(dir, 'dist/bertwasm.wasm');
        if (wasm) fs.writeFileSync(file, wasm); else fs.rmSync(file, { force: true });
        for (const options of [{ backend: 'single' }, { backend: 'single', memoryBudget: 64 << 20 }]) {
          const e = await I.load(TINY, options).catch((x) => x);
          const what = `${wasm ? 'html' : 'missing'} ${JSON.stringify(options)}: ${e}`;
          assert.ok(e instanceof I.BertError, `not a BertError: ${what}`);
          assert.equal(e.code, 'INTERNAL', what);
          assert.match(e.message, /^bundled dist\/bertwasm\.wasm/, what);
          assert.ok(e.cause !== undefined, what);
        }
      }
      I.shutdown();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a small-file error the core reports with the weights (empty vocab.txt) names vocab.txt\'s path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-vocab-'));
    try {
      fs.cpSync(TINY, dir, { recursive: true });
      fs.rmSync(path.join(dir, 'tokenizer.json'));
      fs.writeFileSync(path.join(dir, 'vocab.txt'), '');
      for (const options of [{}, { memoryBudget: 64 << 20 }]) {
        const e = await load(dir, options).catch((x) => x);
        assert.ok(e instanceof BertError && e.code === 'BAD_MODEL', String(e));
        assert.ok(e.message.startsWith(path.join(dir, 'vocab.txt') + ':'), e.message);
        assert.ok(!e.message.includes('model.safetensors'), e.message);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a file: URL object loads like the file: URL string', async () => {
    const url = pathToFileURL(TINY + '/');
    const a = await load(url), b = await load(url.href);
    assert.ok(compare(await a.embed('file url'), await b.embed('file url')).maxAbs === 0);
    a.dispose(); b.dispose();
  });

  test('a file given as the model folder: INVALID_ARGUMENT (not NETWORK)', async () => {
    await assert.rejects(load(path.join(TINY, 'config.json')),
      (e) => e instanceof BertError && e.code === 'INVALID_ARGUMENT' && /not a (model )?folder/.test(e.message));
    await assert.rejects(load(parts(TINY, path.join(TINY, 'config.json', 'model.safetensors'))),
      (e) => e instanceof BertError && e.code === 'INVALID_ARGUMENT');
    await assert.rejects(load(parts(TINY, TINY)), (e) => e instanceof BertError && e.code === 'INVALID_ARGUMENT');
  });

  test('weights as a Node Readable (fs.createReadStream with start) are read as a stream, not reopened by path', async () => {
    const file = path.join(TINY, 'model.safetensors');
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-rs-')), 'prefixed.bin');
    try {
      fs.writeFileSync(tmp, Buffer.concat([Buffer.alloc(1000, 0x55), fs.readFileSync(file)]));
      const m = await load(parts(TINY, fs.createReadStream(tmp, { start: 1000 })));
      const ref = await load(TINY);
      assert.ok(compare(await m.embed('read stream'), await ref.embed('read stream')).maxAbs === 0);
      m.dispose(); ref.dispose();
    } finally {
      fs.rmSync(path.dirname(tmp), { recursive: true, force: true });
    }
  });

  test('NETWORK errors from a failed fetch or body read carry the original error as cause', async () => {
    const refused = new TypeError('connection refused (test)');
    const err = await load('http://127.0.0.1:9/x/', { fetch: async () => { throw refused; } }).catch((e) => e);
    assert.ok(err instanceof BertError, String(err));
    assert.equal(err.code, 'NETWORK');
    assert.equal(err.cause, refused);
    assert.match(err.message, /http:\/\/127\.0\.0\.1:9\/x\//);
    const reset = new Error('connection reset (test)');
    const broken = async () => new Response(new ReadableStream({ pull(c) { c.error(reset); } }));
    const err2 = await load('http://127.0.0.1:9/x/', { fetch: broken }).catch((e) => e);
    assert.equal(err2.code, 'NETWORK');
    assert.equal(err2.cause, reset);
    // Worker mode: the cause crosses back from the worker.
    const W = await import('../../web/worker.js');
    const err3 = await W.load('http://127.0.0.1:9/x/').catch((e) => e);
    assert.ok(err3 instanceof BertError && err3.code === 'NETWORK', String(err3));
    assert.ok(err3.cause instanceof Error, `worker-mode cause: ${err3.cause}`);
  });

  test('a server answering with an HTML page (SPA fallback): BAD_MODEL naming the URL and the file; optional files as HTML count as missing', async () => {
    const http = await import('node:http');
    const HTML = '<!doctype html><html><head><title>App</title></head><body><div id="app"></div></body></html>';
    // /m/<mode>/<file>: the fixture's files, except what the mode replaces by the app's HTML page.
    const server = http.createServer((req, res) => {
      const [, , mode, ...rest] = decodeURIComponent(new URL(req.url, 'http://x').pathname).split('/');
      const file = rest.join('/');
      const html = (type) => { res.writeHead(200, { 'Content-Type': type }); res.end(HTML); };
      if (mode === 'wrong') return html('text/html; charset=utf-8');
      if (mode === 'no-modules' && file === 'modules.json') return html('text/html');
      if (mode === 'no-modules-404' && file === 'modules.json') { res.writeHead(404); res.end(); return; }
      if (file === 'model.safetensors' && mode === 'html-weights') return html('text/html');
      if (file === 'model.safetensors' && mode === 'octet-weights') return html('application/octet-stream');
      const p = path.join(TINY, file);
      if (!fs.existsSync(p) || !fs.statSync(p).isFile()) return html('text/html');
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      fs.createReadStream(p).pipe(res);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${server.address().port}/m`;
    try {
      const wrong = await load(`${base}/wrong/`).catch((e) => e);
      assert.ok(wrong instanceof BertError, String(wrong));
      assert.equal(wrong.code, 'BAD_MODEL');
      assert.ok(wrong.message.includes(`${base}/wrong/config.json`), wrong.message);
      assert.match(wrong.message, /HTML page instead of config\.json \(is the model path right\?\)/);
      for (const mode of ['html-weights', 'octet-weights']) {
        const e = await load(`${base}/${mode}/`).catch((x) => x);
        assert.equal(e.code, 'BAD_MODEL', `${mode}: ${e.message}`);
        assert.ok(e.message.includes(`${base}/${mode}/model.safetensors`), e.message);
        assert.match(e.message, /HTML page instead of model\.safetensors/);
      }
      // An optional file answered by the app's page is treated as missing (as a 404 would be).
      const a = await load(`${base}/no-modules/`), b = await load(`${base}/no-modules-404/`);
      assert.ok(compare(await a.embed('spa'), await b.embed('spa')).maxAbs === 0);
      a.dispose(); b.dispose();
    } finally {
      server.close();
    }
  });

  test('abort while an async-iterable weight source stalls: ABORTED promptly', async () => {
    const bytes = fs.readFileSync(path.join(TINY, 'model.safetensors'));
    let returned = false;
    const stalling = {
      [Symbol.asyncIterator]() {
        let sent = false;
        return {
          next: () => (sent ? new Promise(() => {}) : (sent = true, Promise.resolve({ done: false, value: bytes.subarray(0, 600000) }))),
          return: async () => { returned = true; return { done: true }; },
        };
      },
    };
    const ctl = new AbortController();
    const p = load(parts(TINY, stalling), { signal: ctl.signal,
      onProgress: (e) => { if (e.phase === 'weights' && e.loaded > 0) setTimeout(() => ctl.abort(), 20); } });
    const r = await within(p, 3000);
    assert.ok(r instanceof BertError, `load still ${r} 3 s after abort`);
    assert.equal(r.code, 'ABORTED');
    assert.ok(returned, 'the iterator was closed');
  });
});

describe('model calls', () => {
  test('1,000 embeds and 20 load/dispose cycles leave wasm memory size unchanged after the first load', async () => {
    for (const backend of ['single', 'threads']) {
      let m = await load(TINY, { backend });
      const size0 = m.memory.wasmMemory;
      for (let i = 0; i < 1000; i++) await m.embed(texts[i % texts.length] + ' ' + i);
      assert.equal(m.memory.wasmMemory, size0, `${backend}: memory grew during embeds`);
      m.dispose();
      for (let c = 0; c < 20; c++) {
        m = await load(TINY, { backend });
        await m.embed(texts);
        assert.equal(m.memory.wasmMemory, size0, `${backend}: memory grew at cycle ${c}`);
        m.dispose();
      }
    }
  });

  test('threads: more live models than pthread workers in the pool do not deadlock', async () => {
    const ms = [];
    for (let i = 0; i < 4; i++) ms.push(await load(TINY, { backend: 'threads', threads: 2 }));
    ms.push(await load(TINY, { backend: 'threads', threads: 3 }));
    assert.equal(ms[4].threads, 3);
    const vs = await Promise.all(ms.map((m) => m.embed(texts[2])));
    for (const v of vs) assert.ok(compare(v, vs[0]).maxAbs < 1e-6);
    for (const m of ms) m.dispose();
  });

  test('long text: pieces give the same ids as the whole text; count is exact', async () => {
    const m = await load(TINY);
    const s = 'The quick brown fox, jumps over the lazy dog! ';
    const per = (await m.countTokens(s)) - 2;
    const reps = Math.ceil(300 * 1024 / s.length); // > the 256 KiB text window
    const long = s.repeat(reps);
    assert.equal(await m.countTokens(long), per * reps + 2);
    const short = s.repeat(20);
    const a = await m.tokenize(long), b = await m.tokenize(short);
    assert.deepEqual(a.ids, b.ids);
    assert.deepEqual(a.offsets, b.offsets);
    assert.equal(a.truncated, per * reps + 2 - 128);
    assert.ok(compare(await m.embed(long), await m.embed(short)).maxAbs === 0);
    // A long text without whitespace (cut at punctuation) and multi-byte text.
    const cjk = '東京は日本の首都です。'.repeat(12000);
    const n = await m.countTokens(cjk);
    assert.equal(n, ((await m.countTokens('東京は日本の首都です。')) - 2) * 12000 + 2);
    m.dispose();
  });

  test('tokenize: tokens and UTF-16 offsets', async () => {
    const m = await load(TINY);
    const t = 'Héllo, wörld! 🙂 ok';
    const r = await m.tokenize(t);
    assert.equal(r.ids.length, r.tokens.length);
    assert.equal(r.tokens[0], '[CLS]');
    assert.equal(r.tokens[r.tokens.length - 1], '[SEP]');
    assert.deepEqual(r.offsets[0], [0, 0]);
    const okIdx = r.tokens.indexOf('ok');
    assert.deepEqual(r.offsets[okIdx], [t.length - 2, t.length]);
    const commaIdx = r.tokens.indexOf(',');
    assert.equal(t.slice(...r.offsets[commaIdx]), ',');
    m.dispose();
  });

  test('concurrent calls are queued; calls after dispose throw DISPOSED', async () => {
    const m = await load(TINY);
    const seq = [];
    for (const t of texts.slice(0, 10)) seq.push(await m.embed(t));
    const par = await Promise.all(texts.slice(0, 10).map((t) => m.embed(t)));
    for (let i = 0; i < 10; i++) assert.ok(compare(seq[i], par[i]).maxAbs === 0);
    const queued = [m.embed(texts[0]), m.embed(texts[1]), m.tokenize(texts[2])];
    m.dispose();
    const settled = await Promise.allSettled(queued);
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      assert.equal(s.reason.code, 'DISPOSED');
    }
    await assert.rejects(m.embed('x'), (e) => e instanceof BertError && e.code === 'DISPOSED');
    m.dispose(); // idempotent
  });

  test('similarity and Symbol.dispose', async () => {
    const m = await load(TINY);
    const s = await m.similarity('a cat sat on the mat', 'a cat sat on the mat');
    assert.ok(Math.abs(s - 1) < 1e-5);
    const [a, b] = await m.embed(['hello there', 'completely different words']);
    assert.ok(Math.abs(cosineSimilarity(a, b) - (await m.similarity(a, b))) < 1e-7);
    assert.equal(typeof m[Symbol.dispose], 'function');
    m[Symbol.dispose](); // what `using` calls
    assert.equal(m.disposed, true);
  });

  test('similarity of two vectors after dispose rejects with DISPOSED', async () => {
    const m = await load(TINY);
    const [a, b] = await m.embed(['one', 'two']);
    m.dispose();
    await assert.rejects(m.similarity(a, b), (e) => e instanceof BertError && e.code === 'DISPOSED');
  });

  test('rerank topK must be a positive integer', async () => {
    const m = await load(CROSS);
    const docs = ['a', 'b', 'c', 'd'];
    for (const topK of [0, -1, 1.5, NaN, '2', Infinity])
      await assert.rejects(m.rerank('q', docs, { topK }), (e) => e instanceof BertError && e.code === 'INVALID_ARGUMENT', `topK ${topK}`);
    assert.equal((await m.rerank('q', docs, { topK: 2 })).length, 2);
    assert.equal((await m.rerank('q', docs, { topK: 10 })).length, 4);
    assert.equal((await m.rerank('q', docs, {})).length, 4);
    m.dispose();
  });

  test('pooling "none" returns one vector per token', async () => {
    const m = await load(TINY, { pooling: 'none' });
    const v = await m.embed('hello world');
    const n = (await m.tokenize('hello world')).ids.length;
    assert.equal(v.length, n * m.dim);
    m.dispose();
  });
});

describe('worker mode (bertwasm/worker in worker_threads)', () => {
  test('same vectors as the main-thread API, results transferred, DISPOSED after dispose', async () => {
    const W = await import('../../web/worker.js');
    const events = [];
    const wm = await W.load(TINY, { onProgress: (e) => events.push(e) });
    assert.equal(events[events.length - 1].phase, 'done');
    assert.ok(wm.plan.total > 0 && wm.memory.wasmMemory > 0);
    const local = await load(TINY, { backend: wm.backend === 'wasm-simd' ? 'single' : 'threads' });
    const a = await wm.embed(texts.slice(0, 8));
    const b = await local.embed(texts.slice(0, 8));
    for (let i = 0; i < 8; i++) assert.ok(compare(a[i], b[i]).maxAbs < 1e-6);
    assert.deepEqual(await wm.tokenize(texts[0]), await local.tokenize(texts[0]));
    assert.equal(await wm.countTokens(texts[5]), await local.countTokens(texts[5]));
    const err = await W.load(TINY, { memoryBudget: 1000 }).catch((e) => e);
    assert.equal(err.code, 'BUDGET_EXCEEDED');
    await wm.dispose();
    await assert.rejects(wm.embed('x'), (e) => e.code === 'DISPOSED');
    local.dispose();
  });

  test('values that cannot be sent to the worker: INVALID_ARGUMENT, model still usable, process exits', async () => {
    const r = await runScript(`
      const { load, BertError } = await import(WORKER);
      const code = (p) => p.then(() => 'resolved', (e) => (e instanceof BertError ? e.code : 'not a BertError: ' + e));
      const out = {};
      out.part = await code(load({ config: '{}', weights: 'x', files: { a: () => 1 } }));
      const m = await load(TINY);
      out.embed = await code(m.embed(() => 1));
      out.rerankOpts = await code(m.rerank('q', ['a'], { topK: 1, f: () => {} }));
      out.usable = (await m.embed('x')).length;
      console.log(JSON.stringify(out));
      // Not disposed on purpose: the process must still exit.
    `);
    assert.equal(r.signal, null, `process did not exit (${r.signal}): stdout ${r.stdout}`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { part: 'INVALID_ARGUMENT', embed: 'INVALID_ARGUMENT', rerankOpts: 'INVALID_ARGUMENT', usable: 32 });
  });

  test('RemoteModel is exported at runtime (instanceof works)', async () => {
    const W = await import('../../web/worker.js');
    assert.equal(typeof W.RemoteModel, 'function');
    const wm = await W.load(TINY, { threads: 1 });
    assert.ok(wm instanceof W.RemoteModel);
    await wm.dispose();
  });

  test('abort while the worker starts or downloads: ABORTED, stream cancelled', async () => {
    const W = await import('../../web/worker.js');
    for (const delay of [1, 150, 600]) {
      const ctl = new AbortController();
      const { stream, rec } = recordingStream(path.join(TINY, 'model.safetensors'), 65536, { delayAfter: 0, delayMs: 40 });
      setTimeout(() => ctl.abort(), delay);
      const err = await W.load(parts(TINY, stream), { signal: ctl.signal }).catch((e) => e);
      assert.ok(err instanceof BertError, `delay ${delay}: ${err}`);
      assert.equal(err.code, 'ABORTED', `delay ${delay}`);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(rec.cancelled, `delay ${delay}: stream not cancelled`);
    }
  });
});


describe('worker mode: parts, dispose, startup', () => {
  test('URL objects as parts stay URLs across the worker boundary (file: URLs are read, not taken as contents)', async () => {
    const W = await import('../../web/worker.js');
    const u = (f) => pathToFileURL(path.join(TINY, f));
    const source = { config: u('config.json'), tokenizer: u('tokenizer.json'),
      files: { '1_Pooling/config.json': u('1_Pooling/config.json'), 'sentence_bert_config.json': u('sentence_bert_config.json') },
      weights: u('model.safetensors') };
    const wm = await W.load(source);
    const local = await load(source, { backend: wm.backend === 'wasm-simd' ? 'single' : 'threads' });
    assert.ok(compare(await wm.embed('url parts'), await local.embed('url parts')).maxAbs < 1e-6);
    assert.equal(wm.config.maxTokens, local.config.maxTokens);
    await wm.dispose();
    local.dispose();
  });

  test('dispose(): calls not yet settled reject with DISPOSED, as on the main thread', async () => {
    const W = await import('../../web/worker.js');
    const wm = await W.load(TINY);
    const big = Array.from({ length: 300 }, (_, i) => `sentence number ${i} ` + 'lorem ipsum dolor sit amet '.repeat(8));
    const outcome = (p) => p.then(() => 'resolved', (e) => (e instanceof BertError ? e.code : String(e)));
    const calls = [wm.embed(big), wm.embed('a'), wm.tokenize('b'), wm.countTokens('c')].map(outcome);
    const done = wm.dispose();
    calls.push(outcome(wm.embed('called after dispose()')));
    await done;
    assert.deepEqual(await Promise.all(calls), Array(5).fill('DISPOSED'));
  });

  test('a worker that dies: calls in flight and later ones reject promptly with INTERNAL', async () => {
    const W = await import('../../web/worker.js');
    const wm = await W.load(TINY);
    const big = Array.from({ length: 300 }, (_, i) => `sentence number ${i} ` + 'lorem ipsum dolor sit amet '.repeat(8));
    const outcome = (p) => within(p.then(() => 'resolved', (e) => (e instanceof BertError ? e.code : String(e))), 3000);
    const inFlight = outcome(wm.embed(big));
    await wm._port.terminate(); // as an out-of-memory crash would end it, without dispose()
    assert.equal(await inFlight, 'INTERNAL');
    assert.equal(await outcome(wm.embed('after the crash')), 'INTERNAL');
    assert.equal(await outcome(wm.countTokens('again')), 'INTERNAL');
    await wm.dispose();
    assert.equal(await outcome(wm.embed('after dispose()')), 'DISPOSED');
  });

  test('a worker script that cannot start: BertError naming it, no hang', async () => {
    // A copy of web/ without worker-entry.js (as a deployment that forgot it).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-noentry-'));
    try {
      fs.mkdirSync(path.join(dir, 'web'));
      for (const f of ['index.js', 'parts.js', 'worker.js']) fs.copyFileSync(path.join(ROOT, 'web', f), path.join(dir, 'web', f));
      fs.symlinkSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'));
      const W = await import(pathToFileURL(path.join(dir, 'web/worker.js')).href);
      const err = await within(W.load(TINY), 10000);
      assert.ok(err instanceof W.BertError, `not a BertError: ${err}`);
      assert.ok(['NETWORK', 'INTERNAL'].includes(err.code), err.code);
      assert.match(err.message, /worker-entry\.js/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('budgeted instances', () => {
  // Every wasm instance the library creates is tracked with a WeakRef; after the cycles and a GC,
  // only the last one may be alive (kept for a load with the same budget).
  test('load/dispose with a different memoryBudget each time: each new instance replaces the idle one', async () => {
    const r = await runScript(`
      import v8 from 'node:v8';
      import vm from 'node:vm';
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc');
      const made = [];
      const instantiate = WebAssembly.instantiate;
      WebAssembly.instantiate = function (...args) {
        return instantiate.apply(this, args).then((r) => { made.push(new WeakRef(r.instance || r)); return r; });
      };
      const { load } = await import(INDEX);
      const out = {};
      for (const backend of ['single', 'threads']) {
        made.length = 0;
        for (let i = 0; i < 10; i++) {
          const m = await load(TINY, { backend, threads: 2, memoryBudget: (32 + i) << 20 });
          await m.embed('x');
          m.dispose();
        }
        for (let k = 0; k < 5; k++) { gc(); await new Promise((r) => setTimeout(r, 50)); }
        out[backend] = { made: made.length, live: made.filter((w) => w.deref()).length };
        // The idle one is reused by a load with its budget.
        const again = await load(TINY, { backend, threads: 2, memoryBudget: (32 + 9) << 20 });
        again.dispose();
        out[backend].madeAfterSameBudget = made.length;
      }
      console.log(JSON.stringify(out));
    `, 60000);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    for (const [backend, { made, live, madeAfterSameBudget }] of Object.entries(out)) {
      assert.equal(made, 10, `${backend}: one instance per budget`);
      assert.ok(live <= 1, `${backend}: ${live} of ${made} budgeted instances still alive after dispose() ` +
        '(GC timing can make this fail falsely: rerun before suspecting a leak)');
      assert.equal(madeAfterSameBudget, 10, `${backend}: the same budget again made a new instance`);
    }
  });
});

describe('shutdown', () => {
  // In a child process: before the fix the embed below blocked the event loop for good.
  test('shutdown() with a live threaded model: calls reject DISPOSED, loads in flight BAD_STATE, no hang', async () => {
    const r = await runScript(`
      import fs from 'node:fs';
      const { load, shutdown, BertError } = await import(INDEX);
      const out = {};
      const code = (p) => p.then(() => 'resolved', (e) => (e instanceof BertError ? e.code : 'not a BertError: ' + e));
      const m = await load(TINY, { backend: 'threads', threads: 2 });
      const v = await m.embed('hello');
      const queued = m.embed('queued before shutdown');
      shutdown();
      out.disposed = m.disposed;
      out.queued = await code(queued);
      await new Promise((r) => setTimeout(r, 200));
      out.embed = await code(m.embed('hello'));
      out.similarity = await code(m.similarity(v, v));
      // A load in flight when shutdown() is called rejects; its instance is released.
      const cfg = fs.readFileSync(TINY + '/config.json', 'utf8'), tok = fs.readFileSync(TINY + '/tokenizer.json', 'utf8');
      const bytes = fs.readFileSync(TINY + '/model.safetensors');
      let sent = 0;
      const slow = new ReadableStream({ async pull(c) {
        if (sent >= bytes.length) { c.close(); return; }
        await new Promise((r) => setTimeout(r, 20));
        c.enqueue(new Uint8Array(bytes.subarray(sent, sent + 65536))); sent += 65536;
      } }, { highWaterMark: 0 });
      const p = load({ config: cfg, tokenizer: tok, weights: slow }, { backend: 'threads', threads: 2,
        onProgress: (e) => { if (e.phase === 'weights' && e.loaded >= 3 * 65536) shutdown(); } });
      out.inflight = await code(p);
      // The library works again after shutdown().
      const m2 = await load(TINY, { backend: 'threads', threads: 2 });
      out.after = (await m2.embed('hello')).length;
      m2.dispose();
      console.log(JSON.stringify(out));
    `);
    assert.equal(r.signal, null, `child hung and was killed (${r.signal}); stderr: ${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { disposed: true, queued: 'DISPOSED', embed: 'DISPOSED', similarity: 'DISPOSED',
      inflight: 'BAD_STATE', after: 32 });
  });
});

describe('options and arguments are checked, not coerced', () => {
  const isInvalid = (re) => (e) => e instanceof BertError && e.code === 'INVALID_ARGUMENT' && re.test(e.message);

  test('pooling names are own keys: "toString", "constructor", "__proto__" are INVALID_ARGUMENT (main thread and worker)', async () => {
    const W = await import('../../web/worker.js');
    for (const pooling of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])
      await assert.rejects(load(TINY, { pooling }), isInvalid(/options\.pooling/), `pooling ${pooling}`);
    await assert.rejects(W.load(TINY, { pooling: 'toString' }), isInvalid(/options\.pooling/), 'worker mode');
    const m = await load(TINY, { pooling: 'cls' }); // a real name still loads
    assert.equal(m.config.pooling, 'cls');
    m.dispose();
  });

  test('maxBatch / maxTokens: non-integers, negatives and values past the engine limits name the option and its range', async () => {
    for (const maxBatch of [1e12, 2 ** 32 + 1, 2 ** 30 + 1, 1.5, -1, NaN, Infinity, '8'])
      await assert.rejects(load(TINY, { maxBatch }), isInvalid(/options\.maxBatch must be an integer from 1 to 1073741824/), `maxBatch ${maxBatch}`);
    for (const maxTokens of [1e12, 2 ** 31, 2.5, -3, 1, '64'])
      await assert.rejects(load(TINY, { maxTokens }), isInvalid(/options\.maxTokens must be an integer from 2 to 2147483647/), `maxTokens ${maxTokens}`);
    // In range, but more tokens per forward pass than the engine takes: the core's check, in option names.
    await assert.rejects(load(TINY, { maxBatch: 2 ** 30 }),
      (e) => isInvalid(/options\.maxTokens x options\.maxBatch/)(e) && !/params|config\.json/.test(e.message), 'maxTokens x maxBatch');
    // Edges and defaults load; above the model's maximum means the model's maximum (512 here).
    const a = await load(TINY, { maxBatch: 1, maxTokens: 2 });
    assert.deepEqual([a.config.maxBatch, a.config.maxTokens], [1, 2]);
    a.dispose();
    const b = await load(TINY, { maxTokens: 100000, maxBatch: 0 });
    assert.deepEqual([b.config.maxBatch, b.config.maxTokens], [8, 512]);
    b.dispose();
    const W = await import('../../web/worker.js');
    await assert.rejects(W.load(TINY, { maxBatch: 1e12 }), isInvalid(/options\.maxBatch/), 'worker mode');
  });

  test('signal: something that is not an AbortSignal is INVALID_ARGUMENT, in main-thread and worker mode', async () => {
    await assert.rejects(load(TINY, { signal: {} }), isInvalid(/options\.signal must be an AbortSignal/));
    const W = await import('../../web/worker.js');
    await assert.rejects(W.load(TINY, { signal: {} }), isInvalid(/options\.signal must be an AbortSignal/), 'worker mode');
  });

  test('threads: non-integers, 0 and more than the core pool takes are refused, not truncated', async () => {
    for (const threads of [0, -1, 1.5, 257, 1e12, 2 ** 32 + 2, NaN, '2'])
      await assert.rejects(load(TINY, { threads }), isInvalid(/options\.threads must be an integer from 1 to 256/), `threads ${threads}`);
  });

  test('maxTokens: 1 names options.maxTokens, not config.json', async () => {
    const err = await load(TINY, { maxTokens: 1 }).catch((e) => e);
    assert.ok(isInvalid(/options\.maxTokens/)(err), String(err));
    assert.doesNotMatch(err.message, /config\.json|params:/);
  });

  test('similarity / cosineSimilarity: two bad arguments throw too (they used to give 0)', async () => {
    for (const [a, b] of [[1, 2], [{}, {}], ['ab', 'ab'], [null, null], [undefined, undefined], [{ length: 'x' }, { length: 'x' }]])
      assert.throws(() => cosineSimilarity(a, b), isInvalid(/cosineSimilarity/), `cosineSimilarity(${String(a)}, ${String(b)})`);
    assert.throws(() => cosineSimilarity([1, 2], [1, 2, 3]), isInvalid(/equal length/));
    assert.equal(cosineSimilarity([1, 0], [2, 0]), 1);
    assert.equal(cosineSimilarity([0, 0], [1, 0]), 0); // a zero vector: 0, as documented
    const m = await load(TINY);
    for (const [a, b] of [[1, 2], [{}, {}], [1, 'text'], ['text', {}]])
      await assert.rejects(m.similarity(a, b), isInvalid(/similarity/), `similarity(${String(a)}, ${String(b)})`);
    const v = await m.embed('hello');
    assert.ok(Math.abs((await m.similarity(v, Array.from(v))) - 1) < 1e-6, 'a plain array is a vector');
    m.dispose();
    const W = await import('../../web/worker.js');
    const wm = await W.load(TINY, { threads: 1 });
    await assert.rejects(wm.similarity(1, 2), isInvalid(/similarity/), 'worker mode');
    await wm.dispose();
  });
});

describe('what a model shows of itself', () => {
  const SUMMARY_KEYS = ['backend', 'threads', 'dim', 'dtype', 'embeddingDtype', 'pooling', 'normalize', 'maxTokens',
    'maxBatch', 'numLabels', 'planBytes', 'disposed'];

  const check = (m, name) => {
    const shown = util.inspect(m);
    assert.ok(shown.startsWith(`${name} {`), shown.slice(0, 200));
    assert.ok(shown.length < 1000, `util.inspect gives ${shown.length} characters`);
    assert.doesNotMatch(shown, /HEAP|wasmMemory|_rt|_port|PThread/);
    assert.match(util.inspect({ a: { b: { c: m } } }), new RegExp(`\\[${name}\\]`)); // below the depth: one word
    const t0 = performance.now();
    const json = JSON.parse(JSON.stringify(m));
    assert.ok(performance.now() - t0 < 100, 'JSON.stringify is quick');
    assert.deepEqual(Object.keys(json), SUMMARY_KEYS);
    assert.deepEqual(json, m.toJSON());
    assert.equal(json.dim, 32);
    assert.equal(json.planBytes, m.plan.total);
    assert.equal(json.pooling, 'mean');
    for (const k of Object.keys(m)) assert.ok(!k.startsWith('_'), `internal ${k} is enumerable`);
    return json;
  };

  test('Model: console.log / util.inspect and JSON.stringify give a short summary', async () => {
    const m = await load(TINY, { backend: 'single' });
    assert.equal(check(m, 'Model').backend, 'wasm-simd');
    assert.deepEqual(Object.keys(m).sort(), ['backend', 'config', 'dim', 'plan', 'threads']);
    m.dispose();
    assert.equal(m.toJSON().disposed, true);
    assert.match(util.inspect(m), /disposed: true/);
  });

  test('RemoteModel: the same summary', async () => {
    const W = await import('../../web/worker.js');
    const wm = await W.load(TINY, { threads: 1 });
    check(wm, 'RemoteModel');
    await wm.dispose();
    assert.equal(wm.toJSON().disposed, true);
  });
});

describe('onProgress ends with load()', () => {
  // config.json answers 404 at once; the other small files, fetched in parallel, answer late. The
  // load rejects with the 404, and must neither report those late answers nor wait for them.
  async function slowServer() {
    const http = await import('node:http');
    const aborted = [];
    const server = http.createServer((req, res) => {
      if (req.url.endsWith('/config.json')) { res.writeHead(404); res.end(); return; }
      res.on('close', () => { if (!res.writableFinished) aborted.push(req.url); });
      setTimeout(() => { if (!res.destroyed) { res.writeHead(404); res.end(); } }, 300);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const close = () => { server.closeAllConnections(); server.close(); };
    return { base: `http://127.0.0.1:${server.address().port}/model/`, aborted, close };
  }

  for (const mode of ['main thread', 'worker']) {
    test(`${mode}: no onProgress call after load() rejected; the other fetches are aborted`, async () => {
      const api = mode === 'worker' ? await import('../../web/worker.js') : { load };
      const s = await slowServer();
      try {
        const events = [];
        let settled = false, late = 0;
        const err = await api.load(s.base, { onProgress: (e) => { events.push(e); if (settled) late++; } }).catch((e) => e);
        settled = true;
        assert.ok(err instanceof BertError && err.code === 'BAD_MODEL' && /config\.json/.test(err.message), String(err));
        await new Promise((r) => setTimeout(r, 600)); // past the late answers
        assert.equal(late, 0, `onProgress called ${late} times after load() rejected`);
        if (mode === 'main thread') assert.ok(s.aborted.length >= 5, `fetches aborted: ${s.aborted.join(', ')}`);
      } finally {
        s.close();
      }
    });
  }
});
