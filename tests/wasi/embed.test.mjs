// embed / tokenize / rerank on the fixtures: the SIMD128 wasm, relaxed-SIMD wasm and native builds
// give identical token ids and embeddings within 1e-5 of each other, and match the
// transformers.js goldens (f32 storage: cosine >= 0.99999, max |diff| <= 1e-4; q8: cosine >= 0.999).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  FIXTURES, REPO, RUN_MJS, SIMD_WASM, VARIANT_NAMES, cosine, jsonl, maxAbs, mkTemp, parseNpy, readLines, run, runOk,
} from './helpers.mjs';

const TINY = 'tests/fixtures/tiny';
const CROSS = 'tests/fixtures/tiny-cross';
const golden = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tiny', 'goldens.json'), 'utf8'));
const crossGolden = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tiny-cross', 'goldens.json'), 'utf8'));
const SENTENCES = fs.readFileSync(path.join(FIXTURES, 'sentences.txt'));
const texts = readLines(path.join(FIXTURES, 'sentences.txt'));

test('goldens cover sentences.txt', () => {
  assert.equal(golden.items.length, texts.length);
  golden.items.forEach((g, i) => assert.equal(g.text, texts[i]));
});

test('tokenize: identical ids in all builds, equal to the goldens', () => {
  const outs = {};
  for (const v of VARIANT_NAMES) outs[v] = runOk(v, ['tokenize', '--model', TINY], { input: SENTENCES });
  for (const v of VARIANT_NAMES) assert.equal(outs[v], outs.simd, `${v} tokenize output differs from simd`);
  const recs = jsonl(outs.simd);
  assert.equal(recs.length, golden.items.length);
  recs.forEach((r, i) => {
    const g = golden.items[i];
    assert.equal(r.index, i);
    assert.deepEqual(r.ids, g.ids, `ids of line ${i + 1}`);
    assert.equal(r.n_tokens, g.ids.length);
    assert.equal(r.n_untruncated, g.ids_untruncated.length, `untruncated count of line ${i + 1}`);
    assert.equal(r.tokens.length, r.ids.length);
    assert.equal(r.tokens[0], '[CLS]');
    assert.equal(r.tokens[r.tokens.length - 1], '[SEP]');
  });
});

test('tokenize and embed truncate alike (--max-tokens): [CLS] ... [SEP], untruncated count kept', () => {
  const long = texts.reduce((a, b) => (b.length > a.length ? b : a));
  for (const v of VARIANT_NAMES) {
    const t = jsonl(runOk(v, ['tokenize', '--model', TINY, '--max-tokens', '8', '--', long]))[0];
    assert.equal(t.n_tokens, 8);
    assert.equal(t.ids.length, 8);
    assert.equal(t.tokens[7], '[SEP]');
    assert.ok(t.n_untruncated > 8);
    const full = golden.items.find((g) => g.text === long);
    assert.deepEqual(t.ids.slice(0, 7), full.ids_untruncated.slice(0, 7));
    const e = jsonl(runOk(v, ['embed', '--model', TINY, '--max-tokens', '8', '--', long]))[0];
    assert.equal(e.n_tokens, 8);
    assert.equal(e.truncated, true);
  }
});

function embedAll(v, extra = [], opts = {}) {
  return jsonl(runOk(v, ['embed', '--model', TINY, ...extra], { input: SENTENCES, ...opts }));
}

for (const [dtype, minCos, maxDiff] of [['f32', 0.99999, 1e-4], ['f16', 0.9999, null], ['q8', 0.999, null]]) {
  test(`embed --dtype ${dtype}: builds agree within 1e-5, goldens cosine >= ${minCos}`, () => {
    const res = {};
    for (const v of VARIANT_NAMES) res[v] = embedAll(v, ['--dtype', dtype, '--batch', '8']);
    for (const v of VARIANT_NAMES) {
      assert.equal(res[v].length, golden.items.length, `${v}: one record per input`);
      res[v].forEach((r, i) => {
        assert.equal(r.index, i);
        assert.equal(r.embedding.length, golden.hidden_size);
        const d = maxAbs(r.embedding, res.simd[i].embedding);
        assert.ok(d <= 1e-5, `${v} vs simd, line ${i + 1}: max |diff| ${d}`);
      });
    }
    let worstCos = 1, worstAbs = 0;
    res.simd.forEach((r, i) => {
      const g = golden.items[i];
      assert.equal(r.n_tokens, g.ids.length);
      worstCos = Math.min(worstCos, cosine(r.embedding, g.embedding));
      worstAbs = Math.max(worstAbs, maxAbs(r.embedding, g.embedding));
    });
    console.log(`# ${dtype}: worst cosine ${worstCos.toFixed(7)}, max |diff| ${worstAbs.toExponential(2)} vs transformers.js`);
    assert.ok(worstCos >= minCos, `${dtype}: cosine ${worstCos} < ${minCos}`);
    if (maxDiff !== null) assert.ok(worstAbs <= maxDiff, `${dtype}: max |diff| ${worstAbs} > ${maxDiff}`);
  });
}

test('embed: stdin streamed in batches == texts as arguments; order kept for any --batch', () => {
  const some = texts.slice(0, 7);
  const args = embedAll('simd', ['--dtype', 'f32', '--batch', '2', '--', ...some], { input: '' });
  for (const batch of ['1', '3', '16']) {
    const streamed = embedAll('simd', ['--dtype', 'f32', '--batch', batch], { input: some.join('\n') + '\n' });
    assert.equal(streamed.length, some.length);
    streamed.forEach((r, i) => assert.ok(maxAbs(r.embedding, args[i].embedding) <= 1e-6, `batch ${batch} line ${i}`));
  }
  // A last line without a newline and a CRLF line are records too; an empty line is a record.
  const crlf = embedAll('native', ['--dtype', 'f32'], { input: `${some[0]}\r\n\n${some[1]}` });
  assert.equal(crlf.length, 3);
  assert.ok(maxAbs(crlf[0].embedding, args[0].embedding) <= 1e-6);
  assert.ok(maxAbs(crlf[2].embedding, args[1].embedding) <= 1e-6);
  assert.equal(crlf[1].n_tokens, 2);
});

test('embed: stdin from a pipe whose producer is slow (node:wasi must not see it non-blocking)', () => {
  // The lines arrive after the command has started and in two parts, as from `cat | bertwasm`.
  const some = texts.slice(0, 3);
  const sh = `(sleep 0.4; printf '%s\\n%s\\n' "$1" "$2"; sleep 0.3; printf '%s\\n' "$3") | "$0" "${RUN_MJS}" embed --model ${TINY} --dtype f32`;
  const r = spawnSync('bash', ['-c', sh, process.execPath, ...some], {
    cwd: REPO, env: { ...process.env, BERTWASM_WASM: SIMD_WASM }, encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const got = jsonl(r.stdout);
  const args = embedAll('simd', ['--dtype', 'f32', '--', ...some], { input: '' });
  assert.equal(got.length, some.length);
  got.forEach((rec, i) => assert.ok(maxAbs(rec.embedding, args[i].embedding) <= 1e-6, `line ${i}`));
});

test('embed --format f32 and npy carry the JSONL values; --output is written atomically', () => {
  const dir = mkTemp();
  try {
    for (const v of VARIANT_NAMES) {
      const ref = embedAll(v, ['--dtype', 'f32']);
      const raw = run(v, ['embed', '--model', TINY, '--dtype', 'f32', '--format', 'f32'], { input: SENTENCES });
      assert.equal(raw.code, 0, raw.stderr);
      const dim = golden.hidden_size;
      assert.equal(raw.stdout.length, texts.length * dim * 4);
      const f = new Float32Array(raw.stdout.buffer.slice(raw.stdout.byteOffset, raw.stdout.byteOffset + raw.stdout.length));
      ref.forEach((r, i) => assert.deepEqual(Array.from(f.subarray(i * dim, (i + 1) * dim)), r.embedding.map(Math.fround)));

      const out = path.join(dir, `emb-${v}.npy`);
      runOk(v, ['embed', '--model', TINY, '--dtype', 'f32', '--format', 'npy', '--output', out], { input: SENTENCES });
      const npy = parseNpy(fs.readFileSync(out));
      assert.deepEqual(npy.shape, [texts.length, dim]);
      assert.equal(npy.headerLen % 64, 0);
      assert.deepEqual(Array.from(npy.data), Array.from(f));
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), VARIANT_NAMES.map((v) => `emb-${v}.npy`).sort(), 'no temp files left');
    // npy needs a seekable output: refusing a pipe is a usage error
    const pipe = run('native', ['embed', '--model', TINY, '--format', 'npy', 'hello']);
    assert.equal(pipe.code, 2);
    assert.match(pipe.stderr, /npy/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('embed --pooling none: one vector per token; cls and max pooling differ from mean', () => {
  for (const v of VARIANT_NAMES) {
    const r = embedAll(v, ['--dtype', 'f32', '--pooling', 'none', '--', texts[0], texts[1]], { input: '' });
    assert.equal(r.length, 2);
    r.forEach((x, i) => {
      assert.equal(x.embedding.length, golden.items[i].ids.length);
      x.embedding.forEach((row) => assert.equal(row.length, golden.hidden_size));
    });
  }
  const mean = embedAll('simd', ['--dtype', 'f32', '--', texts[1]], { input: '' })[0].embedding;
  const cls = embedAll('simd', ['--dtype', 'f32', '--pooling', 'cls', '--', texts[1]], { input: '' })[0].embedding;
  const raw = embedAll('simd', ['--dtype', 'f32', '--no-normalize', '--', texts[1]], { input: '' })[0].embedding;
  assert.ok(maxAbs(mean, cls) > 1e-3);
  const norm = Math.sqrt(raw.reduce((s, x) => s + x * x, 0));
  assert.ok(Math.abs(norm - 1) > 1e-3, 'unnormalized vector has a norm other than 1');
  assert.ok(maxAbs(raw.map((x) => x / norm), mean) < 1e-5, 'normalizing the raw vector gives the default');
});

test('rerank: sigmoid(logit) per document, builds agree, logits match the goldens', () => {
  const byQuery = new Map();
  crossGolden.items.forEach((g, i) => {
    if (!byQuery.has(g.query)) byQuery.set(g.query, []);
    byQuery.get(g.query).push({ ...g, i });
  });
  let worst = 0;
  for (const [query, docs] of byQuery) {
    const input = docs.map((d) => d.document).join('\n') + '\n';
    const res = {};
    for (const v of VARIANT_NAMES) {
      res[v] = jsonl(runOk(v, ['rerank', '--model', CROSS, '--dtype', 'f32', '--query', query], { input }));
      assert.equal(res[v].length, docs.length);
    }
    docs.forEach((d, k) => {
      for (const v of VARIANT_NAMES) {
        const r = res[v][k];
        assert.equal(r.index, k);
        assert.ok(Math.abs(r.score - 1 / (1 + Math.exp(-r.logit))) < 1e-6);
        assert.ok(Math.abs(r.logit - res.simd[k].logit) <= 1e-5, `${v} vs simd`);
      }
      worst = Math.max(worst, Math.abs(res.simd[k].logit - d.logits[0]));
    });
  }
  console.log(`# rerank f32: max |logit diff| ${worst.toExponential(2)} vs transformers.js`);
  assert.ok(worst <= 1e-4, `logits differ from the goldens by ${worst}`);
  // an embedding model has no classifier head
  const r = run('native', ['rerank', '--model', TINY, '--query', 'q', 'doc']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cross-encoder/);
});

test('info: architecture, dtypes, tokenizer settings', () => {
  for (const v of VARIANT_NAMES) {
    const info = JSON.parse(runOk(v, ['info', '--model', TINY]));
    assert.equal(info.config.hidden_size, 32);
    assert.equal(info.config.model_type, 'bert');
    assert.deepEqual(info.weights.dtypes, {
      F16: { tensors: 39, parameters: info.weights.parameters - 512 },
      I64: { tensors: 1, parameters: 512 }, // embeddings.position_ids
    });
    assert.equal(info.weights.file_size, fs.statSync(path.join(FIXTURES, 'tiny', 'model.safetensors')).size);
    assert.equal(info.tokenizer.vocab_size, 30522);
    assert.equal(info.tokenizer.do_lower_case, true);
    assert.equal(info.tokenizer.effective_max_tokens, golden.max_seq_length);
    assert.equal(info.sentence_transformers.pooling, 'mean');
    assert.equal(info.sentence_transformers.normalize, true);
  }
});
