// Budget sweep through the JS API (both wasm variants): from 1 byte to the plan + 1, every refusal
// is BUDGET_EXCEEDED and comes before the weights are consumed (a counting ReadableStream: at most
// the header + one chunk pulled, then cancelled), the boundary is exact (plan - 1 fails, plan
// loads), and the wasm linear memory never grows past what the plan implies.
// Run: node --test tests/reliability/budget_sweep.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, TINY, requireDist, modelParts, countingStream, headerSize, maxAbsDiff } from './common.mjs';

requireDist();
const { load, BertError, shutdown } = await import('../../web/index.js');
after(() => shutdown());

const FILE = fs.readFileSync(path.join(TINY, 'model.safetensors'));
const HDR = headerSize(FILE);
const CHUNK = 4096;
const PAGE = 65536;
const TOK_BYTES = fs.statSync(path.join(TINY, 'tokenizer.json')).size;
const INITIAL = 4 << 20; // -sINITIAL_MEMORY in web/CMakeLists.txt
const TEXTS = ['hello world', 'the quick brown fox jumps over the lazy dog', ''];

for (const backend of ['single', 'threads']) {
  test(`${backend}: budget sweep 1 .. plan+1`, async () => {
    const opts = { backend, threads: backend === 'threads' ? 2 : 1 };
    // A fresh instance: a load at exactly its plan leaves the heap at most initial + plan + scratch.
    shutdown();
    const fresh = await load(modelParts(TINY, path.join(TINY, 'model.safetensors')), opts);
    const freshMem = fresh.memory;
    fresh.dispose();
    assert.ok(freshMem.wasmMemory <= INITIAL + freshMem.plan + freshMem.scratch, `fresh instance: ${JSON.stringify(freshMem)}`);
    // Reference: no budget (0 means none in this API, as in the C core).
    const ref = await load(modelParts(TINY, path.join(TINY, 'model.safetensors')), { ...opts, memoryBudget: 0 });
    const plan = ref.plan.total;
    const refVecs = await ref.embed(TEXTS);
    assert.equal(ref.plan.headerSize, HDR);
    assert.ok(plan > HDR + 2 * CHUNK);

    const points = new Set([1, 2, 8, HDR - 9, HDR - 8, HDR - 1, HDR, HDR + 1, plan - 1]);
    for (let i = 0; i < 30; i++) points.add(Math.round(HDR + 2 + (plan - HDR - 4) * i / 29));
    const budgets = [...points].sort((a, b) => a - b);
    const memBefore = ref.memory.wasmMemory;
    let refused = 0, maxPulled = 0, memAfterFirst = 0;
    for (const b of budgets) {
      const { stream, rec } = countingStream(FILE, CHUNK);
      let err = null;
      try { (await load(modelParts(TINY, stream), { ...opts, memoryBudget: b })).dispose(); } catch (e) { err = e; }
      assert.ok(err instanceof BertError, `budget ${b} (plan ${plan}): ${err ? err : 'loaded'}`);
      assert.equal(err.code, 'BUDGET_EXCEEDED', `budget ${b}: ${err.code}: ${err.message}`);
      assert.ok(rec.pulled <= HDR + CHUNK, `budget ${b}: ${rec.pulled} bytes pulled (header ${HDR})`);
      assert.ok(rec.cancelled, `budget ${b}: the stream was not cancelled`);
      if (b >= HDR - 8) { // the JSON header (HDR - 8 bytes) fits: refused at the plan
        assert.ok(err.plan && err.plan.total === plan, `budget ${b}: error.plan ${err.plan && err.plan.total} != ${plan}`);
        assert.ok(err.message.includes(`budget is ${b} B`) || err.message.includes('budget is'), err.message);
      } else {
        assert.match(err.message, /header alone is \d+ bytes/);
      }
      // A budgeted load runs in an instance whose memory maximum is derived from the budget
      // (budget_memory.test.mjs checks those caps); a refusal must leave the reference
      // (unbudgeted) instance untouched.
      const mem = ref.memory.wasmMemory;
      if (!memAfterFirst) memAfterFirst = mem;
      assert.equal(mem, memBefore, `budget ${b}: a refused budgeted load grew the shared instance`);
      refused++;
      maxPulled = Math.max(maxPulled, rec.pulled);
    }

    // plan, plan + 1: load, and give the reference vectors; plan - 1 was refused above.
    let peakExtra = 0;
    for (const b of [plan, plan + 1]) {
      const { stream, rec } = countingStream(FILE, CHUNK);
      let peak = 0;
      const m = await load(modelParts(TINY, stream), { ...opts, memoryBudget: b, onProgress: (e) => { if (e.wasmMemory) peak = Math.max(peak, e.wasmMemory); } });
      assert.equal(rec.pulled, FILE.length);
      assert.equal(m.plan.total, plan);
      const vecs = await m.embed(TEXTS);
      for (let i = 0; i < TEXTS.length; i++) assert.ok(maxAbsDiff(vecs[i], refVecs[i]) === 0, `budget ${b}: vector ${i} differs`);
      peak = Math.max(peak, m.memory.wasmMemory);
      // The model's own instance is capped from its budget, and never grows past the cap; its
      // growth over a fresh instance is at most the plan + JS buffers (+ page rounding): a loader
      // that buffered the file would exceed it.
      const cap = m.memory.wasmMemoryMax;
      assert.ok(cap > 0, `budget ${b}: no memory maximum derived from the budget`);
      assert.ok(peak <= cap, `budget ${b}: wasm memory ${peak} > its maximum ${cap}`);
      const extra = peak - INITIAL;
      const allowed = plan + m.memory.scratch + TOK_BYTES + 2 * PAGE;
      assert.ok(extra <= allowed, `budget ${b}: wasm memory grew ${extra} > plan ${plan} + scratch ${m.memory.scratch} + tokenizer.json + 2 pages`);
      peakExtra = Math.max(peakExtra, extra);
      m.dispose();
    }
    // Reloading after dispose reuses the freed arena: no further growth.
    const again = await load(modelParts(TINY, path.join(TINY, 'model.safetensors')), { ...opts, memoryBudget: plan });
    const grownTo = again.memory.wasmMemory;
    again.dispose();
    const again2 = await load(modelParts(TINY, path.join(TINY, 'model.safetensors')), { ...opts, memoryBudget: plan });
    assert.equal(again2.memory.wasmMemory, grownTo, 'a load/dispose cycle grew memory');
    again2.dispose();
    ref.dispose();
    console.log(`# ${backend}: ${budgets.length + 3} budgets (${refused} refused incl. plan-1=${plan - 1}; plan=${plan} and plan+1 load; 0 = no budget loads), ` +
      `header ${HDR} B, at most ${maxPulled} B pulled on a refusal, budgeted instance grew ${peakExtra} B over its initial memory (plan ${plan}), ` +
      `fresh instance after one load ${freshMem.wasmMemory} B`);
  });
}

test('threaded build: the unbudgeted default instance keeps the build maximum', () => {
  // Budgeted loads get their own memory with a maximum derived from the budget (see
  // budget_memory.test.mjs); without a budget the glue's own shared memory is used.
  const glue = fs.readFileSync(path.join(ROOT, 'dist/bertwasm-mt.js'), 'utf8');
  const m = /new WebAssembly\.Memory\(\{"initial":[^,]+,"maximum":([0-9]+)\/65536,"shared":true\}\)/.exec(glue);
  assert.ok(m, 'shared memory creation not found in dist/bertwasm-mt.js');
  const max = Number(m[1]);
  assert.ok(max <= 4 * 1024 ** 3);
  console.log(`# threaded build: default shared memory maximum ${max} B (${max / 1024 ** 3} GiB); budgeted instances are capped from memoryBudget`);
});
