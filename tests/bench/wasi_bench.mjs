// Benchmark (not a test): `bertwasm embed` throughput on the MiniLM-L6 shape, SIMD128 wasm vs
// relaxed-SIMD wasm (both under Node's node:wasi) vs the native build of the same main.
//
//   node tests/bench/wasi_bench.mjs [--dtype q8,f32] [--batch 32] [--runs 2] [--model DIR]
//
// Texts: 256 deterministic sentences of 18..28 tokens (tests/bench/sentences.mjs), batch 32.
// Throughput is the CLI's own measure (-v): time inside tokenize+encode, load excluded; the load
// time and the whole process wall time are printed too. The model is generated with
// tests/gen/gen_model.py --shape minilm into a temp dir unless --model is given.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSets } from './sentences.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const opt = (k, d) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const dtypes = opt('--dtype', 'q8,f32').split(',');
const batch = opt('--batch', '32');
const runs = Number(opt('--runs', '2'));
const native = path.join(path.resolve(REPO, process.env.BERT_BUILD_DIR || 'build'), 'bertwasm');
const TMP = fs.realpathSync(os.tmpdir());

let model = opt('--model', null);
let tmpDir = null;
if (!model) {
  tmpDir = fs.mkdtempSync(path.join(TMP, 'bertwasm-bench-'));
  model = path.join(tmpDir, 'minilm');
  const t0 = Date.now();
  const g = spawnSync('/usr/bin/python3', [path.join(REPO, 'tests/gen/gen_model.py'), '--shape', 'minilm', '--dtype', 'F32', '-q', '--out', model], { encoding: 'utf8' });
  if (g.status !== 0) throw new Error(g.stderr);
  console.log(`generated MiniLM-L6 (F32) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${model}`);
}
model = path.resolve(model);

const { short } = makeSets(path.join(model, 'vocab.txt'));
const input = short.join('\n') + '\n';

const variants = [
  ['wasm SIMD128', process.execPath, [path.join(REPO, 'wasi/run.mjs')], { BERTWASM_WASM: path.join(REPO, 'dist/bertwasm-wasi.wasm') }],
  ['wasm relaxed', process.execPath, ['--experimental-wasm-relaxed-simd', path.join(REPO, 'wasi/run.mjs')],
    { BERTWASM_WASM: path.join(REPO, 'dist/bertwasm-wasi-relaxed.wasm') }],
  ['native', native, [], {}],
];

console.log(`embed: ${short.length} sentences (18..28 tokens), batch ${batch}, best of ${runs} runs`);
console.log('build           dtype  sentences/s   load ms   wall s');
try {
  for (const dtype of dtypes) {
    for (const [name, cmd, pre, env] of variants) {
      let best = null;
      for (let r = 0; r < runs; r++) {
        const t0 = process.hrtime.bigint();
        const p = spawnSync(cmd, [...pre, 'embed', '--model', model, '--dtype', dtype, '--batch', batch, '--format', 'f32', '-v'], {
          input, env: { ...process.env, BERTWASM_DIRS: TMP, ...env }, maxBuffer: 1 << 30,
        });
        const wall = Number(process.hrtime.bigint() - t0) / 1e9;
        const err = p.stderr.toString();
        if (p.status !== 0) throw new Error(`${name}: exit ${p.status}\n${err}`);
        const rate = Number(/\(([\d.]+) texts\/s\)/.exec(err)[1]);
        const load = Number(/loaded .* in ([\d.]+) ms/.exec(err)[1]);
        if (!best || rate > best.rate) best = { rate, load, wall };
      }
      console.log(`${name.padEnd(15)} ${dtype.padEnd(5)} ${best.rate.toFixed(1).padStart(12)} ${best.load.toFixed(0).padStart(9)} ${best.wall.toFixed(2).padStart(8)}`);
    }
  }
} finally {
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
}
