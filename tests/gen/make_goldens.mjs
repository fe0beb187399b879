// Reference outputs ("goldens") for the bertwasm test fixtures.
//
// For each job below: (re)generate the model folder with tests/gen/gen_model.py --onnx,
// tokenize with transformers.js (@huggingface/transformers, offline), run the ONNX export
// through transformers.js (onnxruntime-node), pool/normalize, then run the independent numpy
// reference (tests/gen/ref_numpy.py) on the same token ids and require max |diff| < 1e-4 for
// every embedding and logit written (last_hidden_state: 1e-4 relative to its largest value). A goldens file is written only when both agree.
//
// usage: node tests/gen/make_goldens.mjs [--only NAME[,NAME...]] [--keep-variants]
//        node tests/gen/make_goldens.mjs --check MODEL_DIR [--limit N]   (compare only)
//   (tests/gen/make_goldens.sh is the wrapper to call)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  env, AutoTokenizer, AutoModel, AutoModelForSequenceClassification, Tensor, pipeline,
} from '@huggingface/transformers';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const FIXTURES = path.join(REPO, 'tests', 'fixtures');
const PYTHON = process.env.PYTHON || '/usr/bin/python3';
const TOL = 1e-4;
const HIDDEN_SENTENCES = 4;   // last_hidden_state is stored for the first few inputs only
const BATCH = 8;              // transformers.js runs padded batches (exercises the mask path)

env.allowRemoteModels = false;
const pkgVersion = (name) =>
  JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')).version;
const versions = {
  transformers: pkgVersion('@huggingface/transformers'),
  onnxruntime_node: pkgVersion('onnxruntime-node'),
};

// name: goldens file; dir: model folder (committed fixture, or a temporary variant)
const TINY = ['--shape', 'tiny', '--dtype', 'F16', '--no-prefix', '--seed', '1'];
const JOBS = [
  { name: 'tiny', kind: 'embed', fixture: 'tiny', out: 'tiny/goldens.json', gen: TINY },
  { name: 'tiny-f32', kind: 'embed', out: 'tiny/goldens-f32.json', gen: set(TINY, '--dtype', 'F32') },
  { name: 'tiny-bf16', kind: 'embed', out: 'tiny/goldens-bf16.json', gen: set(TINY, '--dtype', 'BF16') },
  { name: 'tiny-outliers', kind: 'embed', out: 'tiny/goldens-outliers.json', gen: [...TINY, '--outliers'] },
  { name: 'tiny-cross', kind: 'cross', fixture: 'tiny-cross', out: 'tiny-cross/goldens.json',
    gen: ['--shape', 'tiny', '--dtype', 'F16', '--cross-encoder', '--seed', '2'] },
];

function set(args, key, val) {
  const a = [...args];
  a[a.indexOf(key) + 1] = val;
  return a;
}

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : null;
const keepVariants = argv.includes('--keep-variants');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

// float32 values printed with 9 significant digits (round-trips a float32)
const f32 = (x) => Number(Math.fround(x).toPrecision(9));

const i64 = (rows) => {
  const S = Math.max(...rows.map((r) => r.length));
  const data = new BigInt64Array(rows.length * S);
  rows.forEach((r, i) => r.forEach((v, j) => { data[i * S + j] = BigInt(v); }));
  return new Tensor('int64', data, [rows.length, S]);
};

const toIds = (t) => Array.from(t.data, Number);

// untruncated ids, then cut the content to max_len keeping [CLS] ... [SEP]
// (transformers.js' own truncation drops the final [SEP]; sentence-transformers keeps it)
function truncate(ids, maxLen, sepId) {
  if (ids.length <= maxLen) return ids.slice();
  return [...ids.slice(0, maxLen - 1), sepId];
}

function maxAbsDiff(a, b) {
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) throw new Error(`shape mismatch ${a.length} vs ${b?.length}`);
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, maxAbsDiff(a[i], b[i]));
    return m;
  }
  return Math.abs(a - b);
}

function numpyRef(dir, sequences) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-ref-'));
  try {
    const inp = path.join(tmp, 'in.json');
    const out = path.join(tmp, 'out.json');
    fs.writeFileSync(inp, JSON.stringify({ sequences }));
    run(PYTHON, [path.join(HERE, 'ref_numpy.py'), dir, '--in', inp, '--out', out]);
    return JSON.parse(fs.readFileSync(out, 'utf8')).results;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// run the ONNX model through transformers.js on padded batches; returns per input
// {hidden: [n][H] (unpadded rows), logits}
async function runModel(model, seqs) {
  const res = [];
  for (let b = 0; b < seqs.length; b += BATCH) {
    const chunk = seqs.slice(b, b + BATCH);
    const S = Math.max(...chunk.map((s) => s.ids.length));
    const pad = (a, v) => [...a, ...Array(S - a.length).fill(v)];
    const out = await model({
      input_ids: i64(chunk.map((s) => pad(s.ids, 0))),
      attention_mask: i64(chunk.map((s) => pad(s.ids.map(() => 1), 0))),
      token_type_ids: i64(chunk.map((s) => pad(s.type_ids ?? s.ids.map(() => 0), 0))),
    });
    const h = out.last_hidden_state;
    chunk.forEach((s, i) => {
      const r = {};
      if (h) {
        const [, S2, H] = h.dims;
        r.hidden = [];
        for (let t = 0; t < s.ids.length; t++) r.hidden.push(Array.from(h.data.subarray((i * S2 + t) * H, (i * S2 + t + 1) * H)));
      }
      if (out.logits) {
        const L = out.logits.dims[1];
        r.logits = Array.from(out.logits.data.subarray(i * L, (i + 1) * L));
      }
      res.push(r);
    });
  }
  return res;
}

function meanPoolNormalize(rows) {
  const H = rows[0].length;
  const e = new Float64Array(H);
  for (const r of rows) for (let j = 0; j < H; j++) e[j] += r[j];
  let n = 0;
  for (let j = 0; j < H; j++) { e[j] /= rows.length; n += e[j] * e[j]; }
  n = Math.max(Math.sqrt(n), 1e-12);
  return Array.from(e, (x) => x / n);
}

function readLines(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((l, i) => { if (l === '') throw new Error(`${file}:${i + 1}: empty line`); });
  return lines;
}

function relGen(args, out) {
  return ['tests/gen/gen_model.py', ...args, '--out', out].join(' ');
}

async function makeJob(job, workDir) {
  let base, modelName;
  if (job.dir) {
    // --check DIR: an existing model folder with onnx/model.onnx; nothing is written
    base = path.dirname(path.resolve(job.dir));
    modelName = path.basename(path.resolve(job.dir));
  } else {
    base = job.fixture ? FIXTURES : workDir;
    modelName = job.fixture ?? job.name;
  }
  const isFixture = !!job.fixture;
  const dir = path.join(base, modelName);
  if (job.gen) run(PYTHON, [path.join(HERE, 'gen_model.py'), ...job.gen, '--onnx', '-q', '--out', dir]);
  env.localModelPath = base + path.sep;

  const tok = await AutoTokenizer.from_pretrained(modelName);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const sepId = tok.sep_token_id ?? 102;
  const golden = {
    model: job.name,
    generator: job.gen ? relGen(job.gen, isFixture ? `tests/fixtures/${job.fixture}` : 'DIR') : null,
    reference: `transformers.js ${versions.transformers} (onnxruntime-node ${versions.onnxruntime_node}) on onnx/model.onnx (fp32), padded batches of ${BATCH}; checked against tests/gen/ref_numpy.py (float64)`,
    hidden_size: cfg.hidden_size,
  };
  let seqs;
  if (job.kind === 'embed') {
    const sb = JSON.parse(fs.readFileSync(path.join(dir, 'sentence_bert_config.json'), 'utf8'));
    const maxLen = sb.max_seq_length;
    const texts = readLines(path.join(FIXTURES, 'sentences.txt')).slice(0, job.limit);
    seqs = texts.map((text) => {
      const full = toIds(tok(text).input_ids);
      return { text, ids_untruncated: full, ids: truncate(full, maxLen, sepId) };
    });
    Object.assign(golden, { max_seq_length: maxLen, pooling: 'mean', normalize: true, input: 'tests/fixtures/sentences.txt' });
  } else {
    const pairs = readLines(path.join(FIXTURES, 'pairs.tsv')).slice(0, job.limit).map((l) => l.split('\t'));
    seqs = pairs.map(([query, document]) => {
      const e = tok(query, { text_pair: document });
      return { query, document, ids: toIds(e.input_ids), type_ids: toIds(e.token_type_ids) };
    });
    Object.assign(golden, { num_labels: cfg.num_labels ?? 1, input: 'tests/fixtures/pairs.tsv' });
  }

  // AutoModel returns every graph output (last_hidden_state, and logits for the cross-encoder);
  // the cross-encoder's logits are taken from AutoModelForSequenceClassification, the class
  // a user would load, and must match
  const opts = { dtype: 'fp32', device: 'cpu' };
  const model = await AutoModel.from_pretrained(modelName, opts);
  const tj = await runModel(model, seqs);
  await model.dispose?.();
  if (job.kind === 'cross') {
    const clf = await AutoModelForSequenceClassification.from_pretrained(modelName, opts);
    const tc = await runModel(clf, seqs);
    await clf.dispose?.();
    tj.forEach((r, i) => {
      if (maxAbsDiff(r.logits, tc[i].logits) > 1e-6) throw new Error('AutoModel vs AutoModelForSequenceClassification logits differ');
      r.logits = tc[i].logits;
    });
  }
  const np = numpyRef(dir, seqs.map((s) => ({ ids: s.ids, type_ids: s.type_ids })));

  const diff = { last_hidden_state: 0 };
  const items = seqs.map((s, i) => {
    const item = { ...s };
    diff.last_hidden_state = Math.max(diff.last_hidden_state, maxAbsDiff(tj[i].hidden, np[i].last_hidden_state));
    if (job.kind === 'embed') {
      item.embedding = meanPoolNormalize(tj[i].hidden);
      diff.embedding = Math.max(diff.embedding ?? 0, maxAbsDiff(item.embedding, np[i].embedding));
      item.embedding = item.embedding.map(f32);
    } else {
      item.logits = tj[i].logits;
      diff.logits = Math.max(diff.logits ?? 0, maxAbsDiff(item.logits, np[i].logits));
      item.logits = item.logits.map(f32);
    }
    if (i < HIDDEN_SENTENCES) item.last_hidden_state = tj[i].hidden.map((r) => r.map(f32));
    return item;
  });

  // the feature-extraction pipeline must give the same embeddings where no truncation happens
  if (job.kind === 'embed') {
    const ext = await pipeline('feature-extraction', modelName, { dtype: 'fp32', device: 'cpu' });
    let d = 0;
    let n = 0;
    for (const it of items) {
      if (it.ids.length !== it.ids_untruncated.length) continue;
      const o = await ext(it.text, { pooling: 'mean', normalize: true });
      d = Math.max(d, maxAbsDiff(Array.from(o.data), it.embedding));
      n++;
    }
    await ext.dispose?.();
    diff.pipeline_embedding = d;
    golden.pipeline_checked = n;
  }

  let scale = 0;
  for (const r of np) for (const row of r.last_hidden_state) for (const v of row) scale = Math.max(scale, Math.abs(v));
  const fmt = Object.entries(diff).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ');
  console.log(`${job.name}: ${seqs.length} inputs, max|diff| numpy vs transformers.js: ${fmt} (max |hidden| ${scale.toFixed(2)})`);
  // embeddings/logits: absolute; last_hidden_state: relative to its largest magnitude (outlier
  // channels reach a few hundred, where float32 rounding alone is ~1e-5 absolute)
  const limit = (k) => (k === 'last_hidden_state' ? TOL * Math.max(1, scale) : TOL);
  const bad = Object.entries(diff).filter(([k, v]) => !(v < limit(k)));
  if (bad.length) throw new Error(`${job.name}: disagreement above ${TOL}: ${JSON.stringify(bad)}; goldens not written`);

  if (!job.out) return;
  golden.agreement = {
    tolerance: TOL,
    tolerance_last_hidden_state: limit('last_hidden_state'),
    max_abs_hidden: scale,
    max_abs_diff_numpy_vs_transformersjs: diff,
  };
  golden.items = items;
  const outFile = path.join(FIXTURES, job.out);
  fs.writeFileSync(outFile, JSON.stringify(golden, null, 1) + '\n');
  console.log(`  wrote ${path.relative(REPO, outFile)} (${fs.statSync(outFile).size} bytes)`);
}

if (argv.includes('--check')) {
  // node tests/gen/make_goldens.mjs --check MODEL_DIR [--limit N]: compare transformers.js
  // and ref_numpy.py on any generated model folder (made with gen_model.py --onnx)
  const dir = argv[argv.indexOf('--check') + 1];
  const limit = argv.includes('--limit') ? Number(argv[argv.indexOf('--limit') + 1]) : undefined;
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const cross = (cfg.architectures ?? []).includes('BertForSequenceClassification');
  if (!cross && !fs.existsSync(path.join(dir, 'sentence_bert_config.json'))) {
    throw new Error('--check needs an embedding model with sentence_bert_config.json, or a cross-encoder');
  }
  await makeJob({ name: path.basename(dir), kind: cross ? 'cross' : 'embed', dir, limit }, null);
  process.exit(0);
}

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-variants-'));
try {
  for (const job of JOBS) {
    if (only && !only.includes(job.name)) continue;
    await makeJob(job, workDir);
  }
} finally {
  if (keepVariants) console.log(`variants kept in ${workDir}`);
  else fs.rmSync(workDir, { recursive: true, force: true });
}
