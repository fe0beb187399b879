// memoryBudget caps the wasm linear memory itself (both variants): a load with a budget runs in an
// instance whose WebAssembly.Memory maximum is derived from the budget (web/index.js, memoryCap).
// Checked: the maximum is set, page-aligned and within the documented overhead of the budget; the
// memory after the load (and at every progress event) is <= that maximum; growing the memory past
// it is refused by the engine (RangeError), and a second load into the same instance that would
// need more fails with a clean BertError while the first model keeps working; embeddings equal a
// load without a budget bit for bit; 5 load/dispose cycles with the budget leave the memory size
// unchanged; loads without a budget stay in the default (4 GiB maximum) instance.
// Run: node --test tests/reliability/budget_memory.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TINY, requireDist, modelParts, maxAbsDiff } from './common.mjs';

requireDist();
const { load, BertError, shutdown } = await import('../../web/index.js');
after(() => shutdown());

const W = path.join(TINY, 'model.safetensors');
const PAGE = 65536;
const INITIAL = 4 << 20; // -sINITIAL_MEMORY in web/CMakeLists.txt
const TOK_BYTES = fs.statSync(path.join(TINY, 'tokenizer.json')).size;
const TEXTS = ['hello world', 'the quick brown fox jumps over the lazy dog', ''];
// f32 weights and a large activation plan: the plan (~15 MB) dwarfs the fixed overhead in the
// cap, so a second model cannot fit in the headroom.
const SHAPE = { dtype: 'f32', maxTokens: 512, maxBatch: 32 };

// The instance's WebAssembly.Memory (imported by the pthreads build, exported by the single one).
function wasmMemoryOf(model) {
  const M = model._rt.M;
  if (M.wasmMemory instanceof WebAssembly.Memory) return M.wasmMemory;
  return Object.values(M.asm).find((x) => x instanceof WebAssembly.Memory);
}

for (const backend of ['single', 'threads']) {
  test(`${backend}: memoryBudget sets the wasm memory maximum`, async () => {
    const threads = backend === 'threads' ? 2 : 1;
    const opts = { backend, threads, ...SHAPE };
    const ref = await load(modelParts(TINY, W), opts);
    const plan = ref.plan.total;
    const refVecs = (await ref.embed(TEXTS)).map((v) => v.slice());
    assert.equal(ref.memory.wasmMemoryMax, null, 'a load without a budget got a capped instance');
    ref.dispose();

    const budget = plan; // the tightest budget that loads
    let peak = 0;
    const m = await load(modelParts(TINY, W), { ...opts, memoryBudget: budget,
      onProgress: (e) => { if (e.wasmMemory) peak = Math.max(peak, e.wasmMemory); } });
    const mem = wasmMemoryOf(m);
    assert.ok(mem, 'no WebAssembly.Memory found');
    assert.notEqual(m._rt, ref._rt, 'budgeted load shares the default instance');
    const max = m.memory.wasmMemoryMax;
    assert.ok(Number.isInteger(max) && max > 0 && max % PAGE === 0, `maximum ${max}`);
    assert.ok(max < 4 * 1024 ** 3, 'maximum not derived from the budget');
    assert.ok(max >= budget + INITIAL, `maximum ${max} < budget + initial memory`);
    // Overhead over the budget: initial memory, JS scratch, token buffers, tokenizer transient
    // (3 x tokenizer.json), pthread stacks, 1 MiB slack, page rounding.
    const overhead = max - budget;
    const bound = INITIAL + 3 * TOK_BYTES + 2 * m.memory.scratch + (threads - 1) * 327680 + (1 << 20) + PAGE;
    assert.ok(overhead <= bound, `overhead ${overhead} > ${bound}`);
    // The memory never exceeded the maximum: at every progress event and now.
    assert.equal(mem.buffer.byteLength, m.memory.wasmMemory);
    assert.ok(peak > 0 && peak <= max, `peak ${peak} > max ${max}`);
    assert.ok(mem.buffer.byteLength <= max, `byteLength ${mem.buffer.byteLength} > max ${max}`);
    // The engine refuses to grow past the maximum (WebAssembly.Memory has no max getter).
    const room = (max - mem.buffer.byteLength) / PAGE;
    assert.throws(() => mem.grow(room + 1), RangeError);
    assert.equal(mem.buffer.byteLength, m.memory.wasmMemory);
    // Embeddings: identical to the load without a budget.
    const vecs = await m.embed(TEXTS);
    for (let i = 0; i < TEXTS.length; i++) assert.equal(maxAbsDiff(vecs[i], refVecs[i]), 0, `vector ${i} differs`);

    // A second model in the same instance (same budget -> same maximum) does not fit: clean error.
    const err = await load(modelParts(TINY, W), { ...opts, memoryBudget: budget }).then((x) => { x.dispose(); return null; }, (e) => e);
    assert.ok(err instanceof BertError, `second load: ${err}`);
    assert.equal(err.code, 'OUT_OF_MEMORY', `${err.code}: ${err.message}`);
    assert.ok(mem.buffer.byteLength <= max, `after the refused load: ${mem.buffer.byteLength} > ${max}`);
    const vecs2 = await m.embed(TEXTS);
    for (let i = 0; i < TEXTS.length; i++) assert.equal(maxAbsDiff(vecs2[i], refVecs[i]), 0, `vector ${i} differs after the refused load`);
    const memAfterRefusal = mem.buffer.byteLength;
    m.dispose();

    // 5 load/dispose cycles in the same instance: the memory size does not move.
    const sizes = [];
    for (let c = 0; c < 5; c++) {
      const x = await load(modelParts(TINY, W), { ...opts, memoryBudget: budget });
      assert.equal(x._rt, m._rt, `cycle ${c}: a different instance`);
      const v = await x.embed(TEXTS[1]);
      assert.equal(maxAbsDiff(v, refVecs[1]), 0, `cycle ${c}: vector differs`);
      sizes.push(x.memory.wasmMemory);
      x.dispose();
      sizes.push(mem.buffer.byteLength);
    }
    for (const s of sizes) assert.equal(s, memAfterRefusal, `cycle sizes ${sizes} vs ${memAfterRefusal}`);
    console.log(`# ${backend}: plan ${plan} B, budget ${budget} B -> memory maximum ${max} B (overhead ${overhead} B), ` +
      `peak while loading ${peak} B, after a reload ${sizes[0]} B, grow past max refused, ` +
      `second load ${err.code}, 5 cycles at ${memAfterRefusal} B`);
  });
}

test('budget too small for the header: refused cleanly, twice (the empty instance is dropped and re-made)', async () => {
  const err = await load(modelParts(TINY, W), { backend: 'single', memoryBudget: 1000 }).catch((e) => e);
  assert.ok(err instanceof BertError && err.code === 'BUDGET_EXCEEDED', String(err));
  // The same budget again behaves the same (a fresh instance, nothing left over).
  const err2 = await load(modelParts(TINY, W), { backend: 'single', memoryBudget: 1000 }).catch((e) => e);
  assert.equal(err2.code, 'BUDGET_EXCEEDED');
});
