// A MiniLM-L6-shaped model (generated) through both wasm builds and the native one: the wasm
// runs grow linear memory by tens of MB during the load, which crashed Node 20 (SIGSEGV on return,
// V8 fast API calls into node:wasi; seen with stdout on a file, not on a pipe) before wasi/run.mjs
// turned those off. Also the three builds
// agree on a real-sized model, and q8 stays within cosine 0.999 of f32 storage.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, VARIANT_NAMES, cosine, genModel, jsonl, maxAbs, mkTemp, readLines, run } from './helpers.mjs';

let dir, model;
before(() => {
  dir = mkTemp('bertwasm-minilm-');
  model = genModel(path.join(dir, 'minilm'), ['--shape', 'minilm', '--dtype', 'F32']);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('MiniLM shape: all builds exit 0 and agree (q8, batch 2 and 8); q8 close to f32', () => {
  const texts = readLines(path.join(FIXTURES, 'sentences.txt')).slice(0, 6);
  const input = texts.join('\n') + '\n';
  const res = {};
  for (const v of VARIANT_NAMES) {
    for (const batch of ['2', '8']) {
      const out = path.join(dir, `out-${v}-${batch}.jsonl`);
      const fd = fs.openSync(out, 'w');
      let r;
      try {
        r = run(v, ['embed', '--model', model, '--dtype', 'q8', '--batch', batch], { input, stdoutFd: fd });
      } finally {
        fs.closeSync(fd);
      }
      assert.equal(r.code, 0, `${v} batch ${batch}: exit ${r.code} signal ${r.signal}\n${r.stderr}`);
      assert.equal(r.stderr, '');
      const recs = jsonl(fs.readFileSync(out, 'utf8'));
      assert.equal(recs.length, texts.length);
      res[`${v}/${batch}`] = recs;
    }
  }
  const ref = res['simd/2'];
  for (const [k, recs] of Object.entries(res)) {
    recs.forEach((r, i) => {
      assert.equal(r.embedding.length, 384);
      const d = maxAbs(r.embedding, ref[i].embedding);
      assert.ok(d <= 1e-5, `${k} line ${i + 1}: max |diff| ${d} vs simd/2`);
    });
  }
  const f32 = jsonl(run('native', ['embed', '--model', model, '--dtype', 'f32'], { input }).stdout.toString());
  let worst = 1;
  f32.forEach((r, i) => { worst = Math.min(worst, cosine(r.embedding, ref[i].embedding)); });
  console.log(`# MiniLM q8 vs f32 storage: worst cosine ${worst.toFixed(6)}`);
  assert.ok(worst >= 0.999, `q8 vs f32 cosine ${worst}`);
});
