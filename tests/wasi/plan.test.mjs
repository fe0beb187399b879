// plan reads only the safetensors header: a bert-large-shaped file (real header, sparse 1.3 GB
// zero body) is planned after reading a few KB of it, counted by wrapping the WASI fd_read import.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PYTHON, REPO, SIMD_WASM, RELAXED_WASM, VARIANT_NAMES, mkTemp, run, runOk, TMP } from './helpers.mjs';

let dir, model, sizes;
before(() => {
  dir = mkTemp('bertwasm-plan-');
  model = path.join(dir, 'bert-large');
  const r = spawnSync(PYTHON, [path.join(REPO, 'tests', 'wasi', 'sparse_model.py'), model], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  sizes = JSON.parse(r.stdout);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function countedRun(wasm, args, nodeFlags = []) {
  const out = path.join(dir, `reads-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, [...nodeFlags, path.join(REPO, 'tests', 'wasi', 'count_reads.mjs'), wasm, out, '--', ...args], {
    cwd: REPO, encoding: 'utf8', env: { ...process.env, BERTWASM_DIRS: TMP }, maxBuffer: 1 << 26,
  });
  assert.equal(r.status, r.status); // exit code checked by the caller via the JSON
  const res = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out);
  return { ...res, stdout: r.stdout, stderr: r.stderr };
}

for (const [wasm, flags] of [[SIMD_WASM, []], [RELAXED_WASM, ['--experimental-wasm-relaxed-simd']]]) {
  test(`plan on a ${'1.3 GB'} bert-large file reads only its header (${path.basename(wasm)})`, () => {
    const res = countedRun(wasm, ['plan', '--model', model, '--dtype', 'q8', '--max-tokens', '128', '--batch', '4'], flags);
    assert.equal(res.code, 0, res.stderr);
    const plan = JSON.parse(res.stdout);
    const st = Object.entries(res.reads).filter(([p]) => p.endsWith('model.safetensors'));
    assert.equal(st.length, 1, `model.safetensors opened once: ${JSON.stringify(res.opens)}`);
    const stBytes = st[0][1];
    console.log(`# plan: read ${stBytes} of ${sizes.file_size} bytes of model.safetensors (header ${sizes.header_size})`);
    assert.equal(stBytes, sizes.header_size, 'exactly 8 bytes + the header');
    assert.equal(plan.bytes_read, sizes.header_size);
    assert.ok(stBytes < sizes.file_size / 10000);
    assert.equal(plan.file_size, sizes.file_size);
    assert.equal(plan.header_size, sizes.header_size);
    // all files together: the tokenizer files dominate, nothing near the weights
    const total = Object.values(res.reads).reduce((a, b) => a + b, 0);
    assert.ok(total < 2 * 1024 * 1024, `read ${total} bytes in all`);
    // q8_0 weights: 34 bytes per 32 values of the 335M parameters (embeddings included)
    assert.ok(plan.weights > 300e6 && plan.weights < 400e6, `q8 weights ${plan.weights}`);
    assert.equal(plan.total >= plan.weights + plan.vocab + plan.activations + plan.staging, true);
    assert.equal(plan.wtype, 'q8_0');
    assert.equal(plan.max_tokens, 128);
    assert.equal(plan.max_batch, 4);
  });
}

test('plan: builds agree; f32 > f16 > q8 > q4; budget exceeded prints the plan and exits 1', () => {
  const plans = {};
  for (const v of VARIANT_NAMES) {
    plans[v] = {};
    for (const d of ['f32', 'f16', 'q8', 'q4']) plans[v][d] = JSON.parse(runOk(v, ['plan', '--model', model, '--dtype', d]));
  }
  // The vocab tables and the fixed structs (model, layer table) hold pointers: their sizes (and so
  // the total) differ slightly between wasm32 and a 64-bit native host; the rest is the same plan.
  const sansPointers = (p) => Object.fromEntries(Object.entries(p).map(([d, x]) =>
    [d, { ...x, vocab: undefined, total: undefined, description: undefined }]));
  assert.deepEqual(plans.relaxed, plans.simd, 'relaxed plan differs');
  assert.deepEqual(sansPointers(plans.native), sansPointers(plans.simd), 'native plan differs');
  for (const d of Object.keys(plans.simd)) {
    const diff = Math.abs(plans.native[d].total - plans.simd[d].total);
    assert.ok(diff < 256 * 1024, `${d}: native total differs from wasm32 by ${diff} bytes`);
  }
  const p = plans.simd;
  assert.ok(p.f32.weights > p.f16.weights && p.f16.weights > p.q8.weights && p.q8.weights > p.q4.weights);
  assert.ok(p.f32.weights > 1.3e9);
  for (const v of VARIANT_NAMES) {
    const r = run(v, ['plan', '--model', model, '--dtype', 'f32', '--budget', '256MiB']);
    assert.equal(r.code, 1, `${v}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^bertwasm: .*bert-large\/model\.safetensors: BUDGET_EXCEEDED: /);
    const plan = JSON.parse(r.stdout.toString());
    assert.equal(plan.fits_budget, false);
    assert.equal(plan.budget, 256 * 1024 * 1024);
    // a budget smaller than the header itself: still a plan on stdout, exit 1, one line
    const tiny = run(v, ['plan', '--model', model, '--budget', '1KiB']);
    assert.equal(tiny.code, 1);
    assert.match(tiny.stderr, /^bertwasm: .*model\.safetensors: BUDGET_EXCEEDED: model needs .*budget is 1\.0 KiB\n$/);
    assert.equal(JSON.parse(tiny.stdout.toString()).fits_budget, false);
    const ok = JSON.parse(runOk(v, ['plan', '--model', model, '--dtype', 'q4', '--max-tokens', '64', '--budget', '1GiB']));
    assert.equal(ok.fits_budget, true);
  }
});
