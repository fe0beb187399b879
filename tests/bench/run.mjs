#!/usr/bin/env node
// Side-by-side benchmark: bertwasm (web build in Node, WASI builds under node:wasi, native CLI)
// against transformers.js over onnxruntime-web (wasm) and onnxruntime-node (native ceiling), on
// synthetic models with the exact shapes of all-MiniLM-L6-v2, bert-base and bert-large.
//
//   npm run bench            full run (MiniLM, MiniLM with outliers, bert-base, bert-large, paired stage; ~27 min on 2 cores)
//   npm run bench:quick      tiny + MiniLM shapes, a few seconds per row (CI: prints, never asserts)
//
// Options: --quick  --reps N  --models minilm,minilm-outliers,bert-base,bert-large  --only REGEX (row ids)
//          --out DIR (cache, default build-bench)  --max-seconds S (per measured set)
//          --no-docs (full run: do not rewrite docs/bench.svg and the figures in docs/bench.md)
//          --gen-only (generate the models and stop)
//          --merge (fold this run into OUT/results.json: its models, or with --only its rows)
//          --report FILE (no measuring: tables, targets, chart and docs from an earlier results.json)
//          --no-native (skip building build-bench/native)  --no-kernels  --big-reps N (bert-base/large, default 1)
//          --rounds N (paired stage, default 10; 2 with --quick)  --no-paired
//          --no-browser (full run: skip the batch-1 stage in headless Chromium, browser_b1.mjs)
//
// Every configuration runs in its own child process (ref_worker.mjs / bertwasm_worker.mjs) so
// its peak RSS is its own. Rows of one model run back to back, and with --reps N the order is
// reversed on every other repetition, so slow drift (thermal, other users of the machine) hits
// both sides alike; each figure is the best repetition (highest throughput, shortest load) and the
// highest peak RSS. Writes OUT/results.json (OUT/results-quick.json with --quick).
//
// The throughput and latency targets are judged on a paired stage instead: the MiniLM rows they
// compare are loaded side by side, each in its own process, and measured in alternating short
// windows (the order rotates every round), so that every ratio compares figures taken in the same
// seconds. On a VM whose speed moves 20-40% from one minute to the next, ratios of rows measured
// minutes apart swung by as much (session 6: bertwasm 2 threads / 1 thread came out 1.38 and 1.67
// in two full runs, 1.82 paired).
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { makeSets } from './sentences.mjs';
import { parseArgs, median } from './measure.mjs';
import { renderChart } from './chart.mjs';
import { runBrowserB1 } from './browser_b1.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const PY = process.env.PYTHON || '/usr/bin/python3';
const args = parseArgs(process.argv.slice(2));
const QUICK = !!args.quick;
const OUT = path.resolve(REPO, args.out || 'build-bench');
const MODELS_DIR = path.join(OUT, 'models');
const REPS = Number(args.reps || (QUICK ? 1 : 2));
const MAX_SECONDS = Number(args['max-seconds'] || (QUICK ? 2 : 15));
const ONLY = args.only ? new RegExp(args.only) : null;
const T0 = Date.now();
const say = (m) => process.stdout.write(`[bench ${((Date.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);

// ---- models --------------------------------------------------------------------------------------

// gen_model.py shape, whether tensor names carry "bert." (sentence-transformers checkpoints don't)
const MODEL_DEFS = {
  tiny: { shape: 'tiny', prefix: false, label: 'tiny (2x32)' },
  minilm: { shape: 'minilm', prefix: false, label: 'all-MiniLM-L6-v2 shape' },
  // real checkpoints have a few hidden dims with 10-50x LayerNorm gains; bertwasm keeps their
  // weight columns exact on a side path (docs/loader.md), which costs a little speed
  'minilm-outliers': { shape: 'minilm', prefix: false, outliers: true,
    label: 'all-MiniLM-L6-v2 shape with outlier LayerNorm gains (as real checkpoints have)' },
  'bert-base': { shape: 'bert-base', prefix: true, label: 'bert-base shape' },
  'bert-large': { shape: 'bert-large', prefix: true, label: 'bert-large shape' },
};
const MODELS = args.models ? String(args.models).split(',')
  : QUICK ? ['tiny', 'minilm'] : ['minilm', 'minilm-outliers', 'bert-base', 'bert-large'];
for (const m of MODELS) if (!MODEL_DEFS[m]) throw new Error(`unknown model ${m}`);

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${(r.stderr || '').slice(-3000)}${(r.stdout || '').slice(-1000)}`);
  return r;
}

const fileHash = (...files) => {
  const h = crypto.createHash('sha1');
  for (const f of files) h.update(fs.readFileSync(f));
  return h.digest('hex').slice(0, 12);
};

// Generates (once; regenerated when the generator or quantizer changes) safetensors + f32 ONNX +
// the dynamically quantized ONNX of one shape.
function ensureModel(name) {
  const def = MODEL_DEFS[name];
  const dir = path.join(MODELS_DIR, name);
  const stamp = path.join(dir, '.bench-stamp');
  const want = JSON.stringify({ def, gen: fileHash(path.join(REPO, 'tests/gen/gen_model.py')),
    q: fileHash(path.join(HERE, 'quantize_onnx.py')) });
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return dir;
  say(`generating ${name} into ${path.relative(REPO, dir)}`);
  fs.rmSync(dir, { recursive: true, force: true });
  // ONNX weights inline (bert-large's 1.34 GB fits protobuf's 2 GB): onnxruntime-web in Node cannot
  // mount an external-data file, and the published bert-large exports are single files too
  run(PY, ['tests/gen/gen_model.py', '--shape', def.shape, '--dtype', 'F32', '--onnx', '--onnx-external', 'no', '--seed', '7',
    ...(def.prefix ? [] : ['--no-prefix']), ...(def.outliers ? ['--outliers'] : []), '--out', dir, '-q']);
  const q = run(PY, [path.join(HERE, 'quantize_onnx.py'), path.join(dir, 'onnx', 'model.onnx'),
    path.join(dir, 'onnx', 'model_quantized.onnx')]);
  say(q.stdout.trim());
  fs.writeFileSync(stamp, want);
  return dir;
}

// ---- builds --------------------------------------------------------------------------------------

function buildKernels() {
  const dir = path.join(OUT, 'kernels');
  fs.mkdirSync(dir, { recursive: true });
  const srcs = ['tests/bench/kernels_bench.c', 'src/kernels.c', 'src/quant.c', 'src/common.c'];
  const common = ['-std=c11', '-O3', '-DNDEBUG', '-D_POSIX_C_SOURCE=200809L', '-Isrc', ...srcs, '-lm'];
  const builds = {};
  const tryBuild = (key, cc, flags, out) => {
    try {
      run(cc, [...flags, ...common, '-o', out]);
      builds[key] = out;
    } catch (e) {
      say(`kernels_bench ${key}: build failed: ${e.message.split('\n').slice(0, 3).join(' ')}`);
    }
  };
  // native: SIMDe, the same ISA flags as the native library (CMakeLists.txt); clang-22 because
  // gcc spills the peak loop's 12 accumulators
  tryBuild('native', 'clang-22', ['-msse4.1', '-mssse3', '-DSIMDE_ENABLE_NATIVE_ALIASES'], path.join(dir, 'kernels_bench'));
  tryBuild('wasm32-wasi', 'clang-22', ['--target=wasm32-wasi', '-Wno-deprecated', '-msimd128', '-mllvm', '-disable-lsr', '-Wl,--strip-all'],
    path.join(dir, 'kernels_bench.wasm'));
  tryBuild('wasm32-wasi-relaxed', 'clang-22', ['--target=wasm32-wasi', '-Wno-deprecated', '-msimd128', '-mrelaxed-simd', '-mllvm', '-disable-lsr',
    '-Wno-unused-command-line-argument', '--no-wasm-opt', '-Wl,--strip-all'], path.join(dir, 'kernels_bench-relaxed.wasm'));
  return builds;
}

function runKernels(builds) {
  const secs = String(QUICK ? 0.15 : 0.6);
  const out = {};
  for (const [key, file] of Object.entries(builds)) {
    let r;
    if (key === 'native') {
      r = spawnSync(file, [secs], { encoding: 'utf8' });
    } else {
      const runner = `import { WASI } from 'node:wasi'; import fs from 'node:fs';
        const wasi = new WASI({ version: 'preview1', args: ['kernels_bench', ${JSON.stringify(secs)}], env: {}, returnOnExit: true });
        const inst = await WebAssembly.instantiate(await WebAssembly.compile(fs.readFileSync(${JSON.stringify(file)})), wasi.getImportObject());
        process.exitCode = wasi.start(inst);`;
      r = spawnSync(process.execPath, ['--no-warnings', '--no-liftoff', ...(key.endsWith('relaxed') ? ['--experimental-wasm-relaxed-simd'] : []),
        '--input-type=module', '-e', runner], { encoding: 'utf8' });
    }
    try {
      if (r.status !== 0) throw new Error(r.stderr || `exit ${r.status}`);
      out[key] = JSON.parse(r.stdout.trim().split('\n').pop());
      const g = out[key].gemm.map((s) => `${s.shape} f32 ${s.f32_gflops} GFLOP/s (${s.f32_pct_peak}%), q8 ${s.q8_gops} GOP/s (${s.q8_pct_peak}%)`);
      say(`kernels ${key} (median of ${out[key].pairs} paired windows): peak f32 ${out[key].peak_f32_gflops} GFLOP/s, i16 dot ${out[key].peak_dot_i16_gops} GOP/s; ${g.join('; ')}`);
    } catch (e) {
      out[key] = { error: String(e.message || e).slice(0, 500) };
      say(`kernels ${key}: failed: ${out[key].error}`);
    }
  }
  return out;
}

function buildNative() {
  const dir = path.join(OUT, 'native');
  try {
    run('cmake', ['-S', '.', '-B', dir, '-DCMAKE_BUILD_TYPE=Release', '-DBERT_TESTS=OFF']);
    run('cmake', ['--build', dir, '-j2', '--target', 'bertwasm']);
    return path.join(dir, 'bertwasm');
  } catch (e) {
    say(`native CLI: build failed (${e.message.split('\n')[0]})`);
    return null;
  }
}

// ---- rows ----------------------------------------------------------------------------------------

// Sets per model: name:batch:count. Counts are bounded for the big models (and MAX_SECONDS caps
// every in-process set), so a full run stays within an hour and bert-large within memory.
const SETS = QUICK ? {
  tiny: 'short:32:64,short:1:16,t128:8:8',
  minilm: 'short:32:64,short:1:16,t128:8:8',
} : {
  minilm: 'short:32:256,short:1:256,t128:16:32,t512:4:8',
  'minilm-outliers': 'short:32:256,short:1:256',
  'bert-base': 'short:32:64,short:1:16,t128:8:16,t512:2:4',
  'bert-large': 'short:8:8,short:1:2',
};
// The CLI cannot stop early: smaller fixed counts for it.
const CLI_SETS = QUICK ? {
  tiny: 'short:32:32,short:1:8,t128:8:8',
  minilm: 'short:32:32,short:1:8,t128:8:8',
} : {
  minilm: 'short:32:128,short:1:32,t128:16:16,t512:4:4',
  'bert-base': 'short:32:32,short:1:8,t128:8:8,t512:2:2',
  'bert-large': 'short:8:8,short:1:2',
};

function rowsFor(model) {
  const big = model === 'bert-large';
  const base = model === 'bert-base';
  const rows = [];
  const ref = (runtime, dtype, threads) => rows.push({
    id: `${runtime === 'web' ? 'ort-web' : 'ort-node'}:${dtype}:t${threads}`, side: 'ref',
    worker: 'ref_worker.mjs', args: ['--runtime', runtime, '--dtype', dtype, '--threads', String(threads)],
  });
  const bw = (impl, dtype, threads) => rows.push({
    id: `bertwasm-${impl}:${dtype}:t${threads}`, side: 'bertwasm', impl,
    worker: 'bertwasm_worker.mjs', args: ['--impl', impl, '--dtype', dtype, '--threads', String(threads)],
  });
  // interleaved so that neighbours in time are from both sides
  if (model === 'minilm-outliers') {
    // the outlier-column path only: onnxruntime's speed does not depend on the weight values
    bw('web', 'q8', 1); ref('web', 'q8', 1);
    bw('web', 'q8', 2); ref('web', 'q8', 2);
  } else if (model === 'tiny') {
    // smoke test of every runtime on a model that loads in a blink
    bw('web', 'q8', 1); ref('web', 'fp32', 1);
    bw('web', 'q8', 2); ref('web', 'q8', 1);
    bw('wasi', 'q8', 1); ref('node', 'fp32', 1);
    bw('wasi-relaxed', 'q8', 1);
    bw('native', 'q8', 1);
  } else if (!big) {
    bw('web', 'q8', 1); ref('web', 'fp32', 1);
    bw('web', 'f32', 1); ref('web', 'q8', 1);
    bw('web', 'q4', 1); ref('node', 'fp32', 1);
    bw('web', 'q8', 2); ref('web', 'fp32', 2);
    if (!base) bw('web', 'f32', 2);
    ref('web', 'q8', 2);
    if (!base) bw('web', 'q4', 2);
    ref('node', 'q8', 1);
    bw('wasi', 'q8', 1);
    if (!base) ref('node', 'fp32', 2);
    if (!base) bw('wasi', 'f32', 1);
    bw('wasi-relaxed', 'q8', 1);
    bw('native', 'q8', 1);
    if (!base) bw('native', 'f32', 1);
  } else {
    // bert-large: memory is the point; the fp32 reference peaks around 6 GB
    bw('web', 'q8', 2); ref('web', 'fp32', 2);
    bw('web', 'q8', 1); ref('web', 'q8', 2);
    bw('wasi', 'q8', 1); ref('node', 'fp32', 2);
    bw('native', 'q8', 1);
  }
  return ONLY ? rows.filter((r) => ONLY.test(r.id)) : rows;
}

function memAvailable() {
  const m = fs.readFileSync('/proc/meminfo', 'utf8').match(/^MemAvailable:\s+(\d+) kB/m);
  return m ? Number(m[1]) * 1024 : Infinity;
}

function runRow(row, model, dir, textsFile, nativeExe) {
  const sets = row.impl && row.impl !== 'web' ? CLI_SETS[model] : SETS[model];
  const argv = [path.join(HERE, row.worker), '--model', dir, '--texts', textsFile, '--sets', sets,
    '--max-seconds', String(MAX_SECONDS), ...row.args];
  // bertwasm plans its memory up front: 512 tokens (the models' maximum; MiniLM's own default is
  // 256) and the largest batch the sets use (onnxruntime sizes its buffers per call instead)
  const maxBatch = Math.max(...sets.split(',').map((x) => Number(x.split(':')[1])));
  if (row.side === 'bertwasm') argv.push('--max-tokens', '512', '--max-batch', String(maxBatch));
  if (row.impl === 'native' && nativeExe) argv.push('--cli', nativeExe);
  if (model === 'bert-large') argv.push('--warmup-batch', '1');
  if (row.side === 'ref' && fs.existsSync(path.join(dir, 'onnx', 'model.onnx_data'))) argv.push('--external-data');
  const need = model === 'bert-large' && row.id.includes('fp32') ? 8e9 : 2e9;
  if (memAvailable() < need) return { error: `skipped: only ${(memAvailable() / 1e9).toFixed(1)} GB available` };
  const r = spawnSync(process.execPath, argv, {
    cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30 * 60 * 1000,
  });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  const errTail = (r.stderr || '').split('\n').filter((l) => l && !l.startsWith('[')).slice(-4).join(' | ');
  for (const l of (r.stderr || '').split('\n')) if (l.startsWith('[')) say(`  ${l}`);
  if (r.status !== 0 || !line) {
    return { error: `exit ${r.status}${r.signal ? ' ' + r.signal : ''}: ${errTail.slice(0, 400)}`, missing: /not built|Cannot find module|ERR_MODULE_NOT_FOUND/.test(r.stderr || '') };
  }
  return JSON.parse(line.slice('BENCH_RESULT '.length));
}

// ---- paired stage --------------------------------------------------------------------------------

// The rows the throughput and latency targets compare, and the windows each round gives them
// (b1 windows only for the rows a b1 target uses).
const PAIRED = {
  minilm: {
    members: ['bertwasm-web:q8:t1', 'bertwasm-web:f32:t1', 'bertwasm-web:q8:t2', 'ort-web:fp32:t1', 'ort-web:q8:t1', 'ort-web:q8:t2'],
    windows: [
      { set: 'short', batch: 32, count: QUICK ? 32 : 64 },
      { set: 'short', batch: 1, count: QUICK ? 8 : 32, members: /:q8:/ },
    ],
  },
};
const ROUNDS = Number(args.rounds || (QUICK ? 2 : 10));

// One worker in --serve mode: load, warm up, then windows on request (measure.mjs serve).
class Server {
  constructor(id, dir, textsFile, setsSpec) {
    const [impl, dtype, t] = id.split(':');
    const threads = t.slice(1);
    const argv = impl === 'ort-web'
      ? [path.join(HERE, 'ref_worker.mjs'), '--runtime', 'web', '--dtype', dtype, '--threads', threads]
      : [path.join(HERE, 'bertwasm_worker.mjs'), '--impl', 'web', '--dtype', dtype, '--threads', threads, '--max-tokens', '512',
        '--max-batch', String(Math.max(...setsSpec.split(',').map((x) => Number(x.split(':')[1]))))];
    argv.push('--model', dir, '--texts', textsFile, '--sets', setsSpec, '--serve');
    this.id = id;
    this.stderr = '';
    this.queue = [];
    this.waiter = null;
    this.exited = null;
    // --no-liftoff: every function compiled optimized at instantiation, for both sides alike. With
    // V8's default tiering, onnxruntime-web's 12 MB of wasm kept recompiling on background threads
    // for minutes, taking CPU from whichever row was being measured (the "idle CPU" column showed
    // 1-2 s per onnxruntime process). Load times come from the rows, not from this stage.
    this.child = spawn(process.execPath, ['--no-liftoff', ...argv], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-20000); });
    readline.createInterface({ input: this.child.stdout }).on('line', (l) => {
      if (!/^(READY|WINDOW )/.test(l)) return; // libraries may print to stdout
      if (this.waiter) { const w = this.waiter; this.waiter = null; w.resolve(l); } else this.queue.push(l);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `${this.id} exited (${code ?? signal}): ${this.stderr.split('\n').filter((x) => x && !x.startsWith('[')).slice(-4).join(' | ').slice(0, 400)}`;
      if (this.waiter) { const w = this.waiter; this.waiter = null; w.reject(new Error(this.exited)); }
    });
  }
  next(timeoutMs = 10 * 60 * 1000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = null; reject(new Error(`${this.id}: no answer in ${timeoutMs / 1000} s`)); }, timeoutMs);
      this.waiter = { resolve: (l) => { clearTimeout(timer); resolve(l); }, reject: (e) => { clearTimeout(timer); reject(e); } };
    });
  }
  async window(w, offset) {
    this.child.stdin.write(JSON.stringify({ set: w.set, batch: w.batch, count: w.count, offset }) + '\n');
    const l = await this.next();
    return JSON.parse(l.slice('WINDOW '.length));
  }
  stop() {
    if (!this.exited) { this.child.stdin.end(JSON.stringify({ exit: true }) + '\n'); setTimeout(() => this.child.kill('SIGKILL'), 30000).unref(); }
  }
}

// Loads the members one after another (so that no load competes with another), then runs ROUNDS
// rounds; in round r the members take their windows in an order rotated by r (reversed on odd
// rounds), every member on the same sentences. Per member and window kind: the totals, the
// median batch latency, each round's rate, and the CPU the process used while others ran.
async function runPaired(model, dir, textsFile) {
  const def = PAIRED[model];
  const members = def.members.filter((id) => !ONLY || ONLY.test(id));
  if (members.length < 2) return null;
  const setsSpec = def.windows.map((w) => `${w.set}:${w.batch}:${w.count}`).join(',');
  const servers = [];
  const out = { rounds: ROUNDS, windows: def.windows.map(({ set, batch, count }) => ({ set, batch, count })), members: {} };
  try {
    for (const id of members) {
      say(`${model} paired: loading ${id}`);
      const srv = new Server(id, dir, textsFile, setsSpec);
      servers.push(srv);
      await srv.next();
    }
    const acc = Object.fromEntries(members.map((id) => [id, {}]));
    const lastCpu = {};
    for (let r = 0; r < ROUNDS; r++) {
      const rot = servers.map((_, i) => servers[(i + r) % servers.length]);
      const order = r % 2 ? rot.reverse() : rot;
      for (const w of def.windows) {
        const key = `${w.set}:b${w.batch}`;
        const line = [];
        for (const srv of order) {
          if (w.members && !w.members.test(srv.id)) continue;
          const res = await srv.window(w, r * w.count);
          const a = acc[srv.id][key] ??= { sentences: 0, seconds: 0, cpu_seconds: 0, idle_cpu_seconds: 0, batch_ms: [], round_sentences_per_s: [], round_batch_ms_median: [] };
          a.sentences += res.sentences;
          a.seconds += res.seconds;
          a.cpu_seconds += res.cpu_after - res.cpu_before;
          if (lastCpu[srv.id] != null) a.idle_cpu_seconds += res.cpu_before - lastCpu[srv.id];
          lastCpu[srv.id] = res.cpu_after;
          a.batch_ms.push(...res.batch_ms);
          a.round_sentences_per_s.push(+(res.sentences / res.seconds).toFixed(2));
          a.round_batch_ms_median.push(+median(res.batch_ms).toFixed(3));
          line.push(`${srv.id} ${(res.sentences / res.seconds).toFixed(1)}`);
        }
        say(`${model} paired round ${r + 1}/${ROUNDS} ${key} (sent/s): ${line.join(', ')}`);
      }
    }
    for (const [id, kinds] of Object.entries(acc)) {
      out.members[id] = Object.fromEntries(Object.entries(kinds).map(([key, a]) => [key, {
        sentences: a.sentences, seconds: +a.seconds.toFixed(4),
        sentences_per_s: +(a.sentences / a.seconds).toFixed(3),
        batch_ms_median: +median(a.batch_ms).toFixed(3),
        cpu_seconds: +a.cpu_seconds.toFixed(3), cpu_share: +(a.cpu_seconds / a.seconds).toFixed(3),
        idle_cpu_seconds: +a.idle_cpu_seconds.toFixed(3),
        round_sentences_per_s: a.round_sentences_per_s, round_batch_ms_median: a.round_batch_ms_median,
      }]));
    }
  } catch (e) {
    out.error = String(e.message || e).slice(0, 600);
    say(`${model} paired: failed: ${out.error}`);
  } finally {
    for (const srv of servers) srv.stop();
  }
  return out;
}

// best repetition per figure
function aggregate(runs) {
  const ok = runs.filter((r) => !r.error);
  if (!ok.length) return { error: runs.map((r) => r.error).join('; '), missing: runs.some((r) => r.missing) };
  const best = JSON.parse(JSON.stringify(ok[0]));
  best.reps = ok.length;
  best.load_seconds = Math.min(...ok.map((r) => r.load_seconds));
  best.peak_rss_load = Math.max(...ok.map((r) => r.peak_rss_load));
  best.peak_rss = Math.max(...ok.map((r) => r.peak_rss));
  best.sets = best.sets.map((s, i) => {
    const all = ok.map((r) => r.sets[i]).filter(Boolean);
    const top = all.reduce((a, b) => (b.sentences_per_s > a.sentences_per_s ? b : a));
    return { ...top, all_sentences_per_s: all.map((x) => x.sentences_per_s) };
  });
  return best;
}

const setOf = (row, name, batch) => row && !row.error && row.sets ? row.sets.find((s) => s.set === name && s.batch === batch) : null;
const sps = (row, name, batch) => setOf(row, name, batch)?.sentences_per_s ?? null;

// ---- main ----------------------------------------------------------------------------------------

// Reads every file of a model folder once, so that the first row to load it does not pay for the
// disk while the others read from the page cache: load times then compare the loaders, not the disk.
function warmFiles(dir) {
  const buf = Buffer.allocUnsafe(1 << 24);
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { walk(p); continue; }
      const fd = fs.openSync(p, 'r');
      try { while (fs.readSync(fd, buf, 0, buf.length, null) > 0); } finally { fs.closeSync(fd); }
    }
  };
  walk(dir);
}

async function measureAll() {
  fs.mkdirSync(MODELS_DIR, { recursive: true });
  const gitRev = (() => { try { return run('git', ['rev-parse', '--short', 'HEAD']).stdout.trim(); } catch { return null; } })();
  say(`${QUICK ? 'quick' : 'full'} run: models ${MODELS.join(', ')}, ${REPS} repetition(s), max ${MAX_SECONDS} s per set; cache ${path.relative(REPO, OUT)}/`);

  const dirs = {};
  for (const m of MODELS) dirs[m] = ensureModel(m);
  if (args['gen-only']) process.exit(0);
  const vocab = path.join(dirs[MODELS[0]], 'vocab.txt');
  const textsFile = path.join(OUT, 'texts.json');
  fs.writeFileSync(textsFile, JSON.stringify({ note: 'tests/bench/sentences.mjs', sets: makeSets(vocab) }));

  const nativeExe = args['no-native'] ? null : buildNative();
  const dist = {};
  for (const f of ['bertwasm.wasm', 'bertwasm-mt.wasm', 'bertwasm-wasi.wasm', 'bertwasm-wasi-relaxed.wasm']) {
    const p = path.join(REPO, 'dist', f);
    dist[f] = fs.existsSync(p) ? { bytes: fs.statSync(p).size, mtime: fs.statSync(p).mtime.toISOString() } : null;
  }
  say(`dist: ${Object.entries(dist).map(([k, v]) => `${k} ${v ? (v.bytes / 1024).toFixed(0) + ' KiB' : 'missing'}`).join(', ')}`);

  let kernels = null;
  if (!args['no-kernels']) kernels = runKernels(buildKernels());

  const results = {
    date: new Date().toISOString(), quick: QUICK, git: gitRev, reps: REPS, max_seconds_per_set: MAX_SECONDS,
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, mem_gb: +(os.totalmem() / 1e9).toFixed(1), node: process.version },
    dist, kernels, models: {},
  };

  for (const m of MODELS) {
    const dir = dirs[m];
    const rows = rowsFor(m);
    const runs = Object.fromEntries(rows.map((r) => [r.id, []]));
    // the targets are on MiniLM: it gets the repetitions; one pass of the big ones bounds the run
    const reps = m === 'minilm' || m === 'tiny' ? REPS : Math.min(REPS, Number(args['big-reps'] || 1));
    warmFiles(dir);
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 ? [...rows].reverse() : rows;
      for (const row of order) {
        say(`${m} rep ${rep + 1}/${reps}: ${row.id}`);
        const r = runRow(row, m, dir, textsFile, nativeExe);
        if (r.error) say(`  ${row.id}: ${r.error}`);
        runs[row.id].push(r);
      }
    }
    const sizes = {
      safetensors: fs.statSync(path.join(dir, 'model.safetensors')).size,
      onnx_fp32: fs.statSync(path.join(dir, 'onnx', 'model.onnx')).size +
        (fs.existsSync(path.join(dir, 'onnx', 'model.onnx_data')) ? fs.statSync(path.join(dir, 'onnx', 'model.onnx_data')).size : 0),
      onnx_q8: fs.statSync(path.join(dir, 'onnx', 'model_quantized.onnx')).size,
    };
    const agg = Object.fromEntries(Object.entries(runs).map(([id, rs]) => [id, aggregate(rs)]));
    for (const row of Object.values(agg)) row.run_date = results.date;
    addRatios(agg);
    const paired = PAIRED[m] && !args['no-paired'] ? await runPaired(m, dir, textsFile) : null;
    // batch 1 where a search box runs it: in the browser (full runs; informational, not a target)
    const browser = m === 'minilm' && !QUICK && !args['no-browser'] && !ONLY
      ? await runBrowserB1({ modelDir: dir, textsFile, rounds: ROUNDS, log: (x) => say(`${m} ${x}`) }) : null;
    results.models[m] = { label: MODEL_DEFS[m].label, sets: SETS[m], cli_sets: CLI_SETS[m], sizes, rows: agg, runs, ...(paired ? { paired } : {}), ...(browser ? { browser } : {}) };
    // written after every model, so an interrupted run keeps what it measured
    fs.writeFileSync(path.join(OUT, QUICK ? 'results-quick.partial.json' : 'results.partial.json'), JSON.stringify(results, null, 1));
  }
  return results;
}

// ratios against onnxruntime-web with the same thread count (CLI rows are single-threaded)
function addRatios(agg) {
  for (const [id, row] of Object.entries(agg)) {
    if (!id.startsWith('bertwasm') || row.error) continue;
    const t = id.split(':t')[1];
    row.ratio = {};
    for (const refDtype of ['fp32', 'q8']) {
      const ref = agg[`ort-web:${refDtype}:t${t}`];
      if (!ref || ref.error) continue;
      const r = {};
      for (const s of row.sets) {
        const b = sps(ref, s.set, s.batch);
        if (b) r[`${s.set}:b${s.batch}`] = +(s.sentences_per_s / b).toFixed(3);
        const bc = ref.sets.find((x) => x.set === s.set && x.batch === s.batch)?.sentences_per_cpu_s;
        if (bc && s.sentences_per_cpu_s) r[`${s.set}:b${s.batch}:cpu`] = +(s.sentences_per_cpu_s / bc).toFixed(3);
      }
      r.load_time = +(row.load_seconds / ref.load_seconds).toFixed(3);
      r.peak_rss = +(row.peak_rss / ref.peak_rss).toFixed(3);
      row.ratio[`vs_ort-web_${refDtype}_t${t}`] = r;
    }
  }
}

// --merge: fold this run into OUT/results.json (models measured now replace the old ones; with
// --only, row by row), e.g. to re-measure some rows after a change without redoing bert-large
function mergeInto(fresh) {
  const file = path.join(OUT, QUICK ? 'results-quick.json' : 'results.json');
  if (!fs.existsSync(file)) return fresh;
  const old = JSON.parse(fs.readFileSync(file, 'utf8'));
  const out = { ...fresh, merged_from: [...(old.merged_from || []), old.date], models: { ...old.models } };
  if (!fresh.kernels) out.kernels = old.kernels;
  for (const [m, mr] of Object.entries(old.models)) {
    for (const row of Object.values(mr.rows)) row.run_date ??= old.date;
  }
  for (const [m, mr] of Object.entries(fresh.models)) {
    if (ONLY && old.models[m]) {
      const rows = { ...old.models[m].rows, ...mr.rows };
      const runs = { ...old.models[m].runs, ...mr.runs };
      addRatios(rows);
      out.models[m] = { ...old.models[m], rows, runs, ...(mr.paired ? { paired: mr.paired } : {}) };
    } else {
      out.models[m] = mr;
    }
  }
  return out;
}

// --report FILE: re-render the tables, targets, chart (and docs) from an earlier results.json
const results = args.report ? JSON.parse(fs.readFileSync(path.resolve(String(args.report)), 'utf8'))
  : args.merge ? mergeInto(await measureAll()) : await measureAll();

// ---- targets -------------------------------------------------------------------------------------

const R = (m, id) => results.models[m]?.rows?.[id];
const ratio = (a, b) => (a != null && b != null && b !== 0 ? a / b : null);
const bwLarge = R('bert-large', 'bertwasm-web:q8:t1')?.error ? R('bert-large', 'bertwasm-web:q8:t2') : R('bert-large', 'bertwasm-web:q8:t1');
const kernels = results.kernels;
const wasmK = kernels?.['wasm32-wasi']?.gemm?.[0];
const cps = (row, name, batch) => setOf(row, name, batch)?.sentences_per_cpu_s ?? null;
const mini = (id) => R('minilm', id);
// The paired stage's figures (MiniLM): a over b for one window kind, overall (totals over all
// rounds; for latency, medians over all batches) and the range of the per-round ratios.
const P = results.models.minilm?.paired;
const pm = (id, key) => (P && !P.error ? P.members?.[id]?.[key] ?? null : null);
function pairedRatio(a, b, key, field) {
  const x = pm(a, key), y = pm(b, key);
  if (!x || !y) return null;
  const rf = field === 'batch_ms_median' ? 'round_batch_ms_median' : 'round_sentences_per_s';
  const per = x[rf].map((v, i) => v / y[rf][i]);
  return { value: x[field] / y[field], min: Math.min(...per), max: Math.max(...per) };
}
const b32 = (a, b) => pairedRatio(a, b, 'short:b32', 'sentences_per_s');
const b1lat = (a, b) => pairedRatio(a, b, 'short:b1', 'batch_ms_median');
// got: the judged figure, wall clock: paired where the paired stage measured it, else from the
// rows; rows: the same ratio from the separate rows (measured minutes apart); cpu: from the rows'
// per-CPU-second figures (1-thread rows)
const targets = [
  { name: 'MiniLM b32 1 thread: bertwasm q8 / ort-web fp32', op: '>=', want: 2.5,
    paired: b32('bertwasm-web:q8:t1', 'ort-web:fp32:t1'),
    rows: ratio(sps(mini('bertwasm-web:q8:t1'), 'short', 32), sps(mini('ort-web:fp32:t1'), 'short', 32)),
    cpu: ratio(cps(mini('bertwasm-web:q8:t1'), 'short', 32), cps(mini('ort-web:fp32:t1'), 'short', 32)) },
  { name: 'MiniLM b32 1 thread: bertwasm q8 / ort-web q8', op: '>=', want: 1.5,
    paired: b32('bertwasm-web:q8:t1', 'ort-web:q8:t1'),
    rows: ratio(sps(mini('bertwasm-web:q8:t1'), 'short', 32), sps(mini('ort-web:q8:t1'), 'short', 32)),
    cpu: ratio(cps(mini('bertwasm-web:q8:t1'), 'short', 32), cps(mini('ort-web:q8:t1'), 'short', 32)) },
  { name: 'MiniLM b32 1 thread: bertwasm f32 / ort-web fp32', op: '>=', want: 1.2,
    paired: b32('bertwasm-web:f32:t1', 'ort-web:fp32:t1'),
    rows: ratio(sps(mini('bertwasm-web:f32:t1'), 'short', 32), sps(mini('ort-web:fp32:t1'), 'short', 32)),
    cpu: ratio(cps(mini('bertwasm-web:f32:t1'), 'short', 32), cps(mini('ort-web:fp32:t1'), 'short', 32)) },
  { name: 'MiniLM b32 q8: bertwasm 2 threads / 1 thread', op: '>=', want: 1.7,
    paired: b32('bertwasm-web:q8:t2', 'bertwasm-web:q8:t1'),
    rows: ratio(sps(mini('bertwasm-web:q8:t2'), 'short', 32), sps(mini('bertwasm-web:q8:t1'), 'short', 32)), cpu: null },
  { name: 'MiniLM b1 latency: bertwasm q8 / ort-web q8 (1 thread)', op: '<=', want: 0.5,
    paired: b1lat('bertwasm-web:q8:t1', 'ort-web:q8:t1'),
    rows: ratio(setOf(mini('bertwasm-web:q8:t1'), 'short', 1)?.batch_ms_median, setOf(mini('ort-web:q8:t1'), 'short', 1)?.batch_ms_median),
    cpu: ratio(cps(mini('ort-web:q8:t1'), 'short', 1), cps(mini('bertwasm-web:q8:t1'), 'short', 1)) },
  { name: 'MiniLM b1 latency: bertwasm q8 / ort-web q8 (2 threads)', op: '<=', want: 0.5,
    paired: b1lat('bertwasm-web:q8:t2', 'ort-web:q8:t2'),
    rows: ratio(setOf(mini('bertwasm-web:q8:t2'), 'short', 1)?.batch_ms_median, setOf(mini('ort-web:q8:t2'), 'short', 1)?.batch_ms_median),
    cpu: null },
  { name: 'bert-base load time: bertwasm q8 / ort-web fp32', op: '<=', want: 0.2,
    rows: ratio(R('bert-base', 'bertwasm-web:q8:t1')?.load_seconds, R('bert-base', 'ort-web:fp32:t1')?.load_seconds),
    cpu: ratio(R('bert-base', 'bertwasm-web:q8:t1')?.load_cpu_seconds, R('bert-base', 'ort-web:fp32:t1')?.load_cpu_seconds) },
  { name: 'bert-large peak RSS: bertwasm q8 / ort-web fp32', op: '<=', want: 0.1,
    rows: ratio(bwLarge?.peak_rss, R('bert-large', 'ort-web:fp32:t2')?.peak_rss), cpu: null },
  { name: `f32 GEMM (wasm32-wasi, MiniLM FFN) % of SIMD128 mul+add peak (${kernels?.['wasm32-wasi']?.clock || 'wall'} clock)`,
    op: '>=', want: 60, rows: null, cpu: null,
    // the kernel against its peak loop in adjacent windows: the median ratio and the pairs' range
    paired: wasmK?.f32_pct_range ? { value: wasmK.f32_pct_peak, min: wasmK.f32_pct_range[0], max: wasmK.f32_pct_range[1] } : null },
];
const passes = (t, v) => (v == null ? null : t.op === '>=' ? v >= t.want : v <= t.want);
const r3 = (x) => (x == null ? null : +x.toFixed(3));
for (const t of targets) {
  t.got = t.paired ? t.paired.value : t.rows;
  t.source = t.paired ? (t.rows == null && t.cpu == null && t.name.startsWith('f32 GEMM') ? 'paired windows' : 'paired') : 'rows';
  t.pass = passes(t, t.got);
  t.pass_cpu = passes(t, t.cpu);
  t.got = r3(t.got);
  t.rows = r3(t.rows);
  t.cpu = r3(t.cpu);
  if (t.paired) t.paired = { value: r3(t.paired.value), min: r3(t.paired.min), max: r3(t.paired.max) };
}
results.targets = targets;

// ---- report --------------------------------------------------------------------------------------

const gb = (b) => (b == null ? '-' : (b / 2 ** 30).toFixed(2));
const fmt = (x, d = 1) => (x == null ? '-' : Number(x).toFixed(d));
function table() {
  const lines = [];
  for (const [m, mr] of Object.entries(results.models)) {
    const setNames = mr.sets.split(',').map((s) => s.split(':').slice(0, 2));
    lines.push(`\n### ${mr.label} (${m}): safetensors ${(mr.sizes.safetensors / 1e6).toFixed(0)} MB, ONNX fp32 ${(mr.sizes.onnx_fp32 / 1e6).toFixed(0)} MB, ONNX q8 ${(mr.sizes.onnx_q8 / 1e6).toFixed(0)} MB\n`);
    const s0 = `${setNames[0][0]} b${setNames[0][1]}`;
    lines.push(`| row | load s | peak RSS load GiB | peak RSS GiB | ${setNames.map(([n, b]) => `${n} b${b} sent/s`).join(' | ')} | x ort-web fp32 (${s0}) | x ort-web q8 | ${s0} sent/CPU-s | CPU share |`);
    lines.push(`|---|---|---|---|${setNames.map(() => '---').join('|')}|---|---|---|---|`);
    const latest = Object.values(mr.rows).map((r) => r.run_date || '').sort().pop();
    const older = Object.values(mr.rows).filter((r) => r.run_date && r.run_date !== latest);
    for (const [id0, r] of Object.entries(mr.rows)) {
      const id = r.run_date && r.run_date !== latest ? `${id0} ‡` : id0;
      if (r.error) {
        lines.push(`| ${id} | ${r.missing ? 'missing (not built)' : 'failed: ' + r.error.replace(/\|/g, '/').slice(0, 120)} |${setNames.map(() => ' |').join('')} | | | | | |`);
        continue;
      }
      const t = id0.split(':t')[1];
      const k = `${setNames[0][0]}:b${setNames[0][1]}`;
      const xf = r.ratio?.[`vs_ort-web_fp32_t${t}`]?.[k];
      const xq = r.ratio?.[`vs_ort-web_q8_t${t}`]?.[k];
      lines.push(`| ${id} | ${fmt(r.load_seconds, 2)} | ${gb(r.peak_rss_load)} | ${gb(r.peak_rss)} | ${setNames.map(([n, b]) => fmt(sps(r, n, Number(b)), 1)).join(' | ')} | ${xf != null ? xf.toFixed(2) + 'x' : ''} | ${xq != null ? xq.toFixed(2) + 'x' : ''} | ${fmt(cps(r, setNames[0][0], Number(setNames[0][1])), 1)} | ${fmt(setOf(r, setNames[0][0], Number(setNames[0][1]))?.cpu_share, 2)} |`);
    }
    const reps = Math.max(...Object.values(mr.runs || {}).map((x) => x.length), 0);
    lines.push(`\n${reps} repetition(s); measured ${latest.slice(0, 16).replace('T', ' ')} UTC` +
      (older.length ? `; ‡ rows from the earlier run of ${[...new Set(older.map((r) => r.run_date.slice(0, 16).replace('T', ' ')))].join(', ')} UTC` +
        ' (their ratios compare figures from two runs)' : '') + '.');
  }
  if (kernels) {
    lines.push('\n### Kernels (1 thread): GEMM vs a register-only SIMD128 mul+add / i32x4.dot_i16x8 loop on the same engine\n');
    const pairs = Object.values(kernels).find((v) => v.pairs)?.pairs;
    lines.push(`Timed in ${Object.values(kernels)[0]?.clock || 'wall'} time; wasm compiled with TurboFan up front (node --no-liftoff), so no window runs baseline code or pays for a background compile. ` +
      `Each kernel runs against its peak loop in ${pairs || 'several'} pairs of adjacent windows (order alternating); "% peak" is the median of the per-pair ratios, with their range, and the rates are medians of the windows.\n`);
    lines.push('| engine | shape | f32 GFLOP/s | peak | % peak | range | q8 GOP/s | peak | % peak | range |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    const rng = (r) => (r ? `${fmt(r[0], 0)}-${fmt(r[1], 0)}%` : '');
    for (const [k, v] of Object.entries(kernels)) {
      if (v.error) { lines.push(`| ${k} | failed | | | | | | | | |`); continue; }
      for (const s of v.gemm) {
        lines.push(`| ${k} | ${s.shape} (${s.T}x${s.K}x${s.N}) | ${fmt(s.f32_gflops, 2)} | ${fmt(s.f32_peak_gflops ?? v.peak_f32_gflops)} | ${fmt(s.f32_pct_peak, 0)}% | ${rng(s.f32_pct_range)} | ` +
          `${fmt(s.q8_gops, 2)} | ${fmt(s.q8_peak_gops ?? v.peak_dot_i16_gops)} | ${fmt(s.q8_pct_peak, 0)}% | ${rng(s.q8_pct_range)} |`);
      }
    }
  }
  if (P && !P.error) {
    lines.push(`\n### Paired stage (MiniLM): ${P.members ? Object.keys(P.members).length : 0} rows loaded side by side, ${P.rounds} rounds of alternating windows\n`);
    lines.push(`Each round every row embeds the same ${P.windows.map((w) => `${w.count} sentences at batch ${w.batch}`).join(', then ')} (batch 1: the q8 rows only), one row at a time, in an order that rotates every round; figures are totals over all rounds (latency: the median batch). "idle CPU" is CPU time the process used while the other rows ran (spinning threads would show there).\n`);
    const keys = P.windows.map((w) => `${w.set}:b${w.batch}`);
    lines.push(`| row | ${keys.map((k) => `${k} sent/s | ${k} per round`).join(' | ')} | short:b1 median ms | CPU share | idle CPU s |`);
    lines.push(`|---|${keys.map(() => '---|---').join('|')}|---|---|---|`);
    for (const [id, m] of Object.entries(P.members)) {
      const f = m[keys[0]];
      const idle = Object.values(m).reduce((a, x) => a + (x.idle_cpu_seconds || 0), 0);
      lines.push(`| ${id} | ${keys.map((k) => m[k] ? `${fmt(m[k].sentences_per_s)} | ${fmt(Math.min(...m[k].round_sentences_per_s))}-${fmt(Math.max(...m[k].round_sentences_per_s))}` : ' | ').join(' | ')} | ${fmt(m['short:b1']?.batch_ms_median, 2)} | ${fmt(f?.cpu_share, 2)} | ${fmt(idle, 2)} |`);
    }
  } else if (P?.error) {
    lines.push(`\n### Paired stage (MiniLM): failed: ${P.error.replace(/\|/g, '/')}\n`);
  }
  const B = results.models.minilm?.browser;
  if (B) {
    lines.push('\n### Browser stage (MiniLM q8, batch 1): headless Chromium, one page per thread count\n');
    if (B.error) lines.push(`failed: ${B.error.replace(/\|/g, '/')}`);
    else {
      lines.push(`bertwasm's web build and transformers.js + onnxruntime-web embed the same sentences one at a time, in alternating windows of ${B.runs[0]?.count ?? ''} (${B.runs[0]?.rounds ?? ''} rounds, the order reversed every other round), on the same thread count; medians per query. Informational: the targets are judged in Node (the paired stage). "cosine": the two implementations' embeddings of the same sentence.\n`);
      lines.push('| browser | threads | bertwasm backend | bertwasm ms | ort-web q8 ms | ratio | per-round range | cosine |');
      lines.push('|---|---|---|---|---|---|---|---|');
      for (const r of B.runs) {
        lines.push(r.error ? `| | ${r.threads} | failed: ${r.error.replace(/\|/g, '/').slice(0, 200)} | | | | | |`
          : `| ${r.browser} | ${r.threads} | ${r.backend} | ${fmt(r.bertwasm_ms, 2)} | ${fmt(r.ort_ms, 2)} | ${fmt(r.ratio, 3)} | ${r.ratio_range.join('-')} | ${r.cosine} |`);
      }
    }
  }
  lines.push('\n### Targets\n');
  lines.push('Judged on the paired figure where the paired stage measures it (wall clock, alternating windows), else on the rows above; the f32 GEMM figure is the kernel benchmark\'s own pairing (kernel and peak loop in adjacent windows, the range over the pairs). "separate rows" is the same ratio from the rows, which ran minutes apart; "per CPU-second" from the rows\' CPU time.\n');
  const pf = (p) => (p == null ? '' : p ? 'PASS' : 'FAIL');
  lines.push('| target | want | figure | | source | per-round range | separate rows | per CPU-second | |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const t of targets) {
    lines.push(`| ${t.name} | ${t.op} ${t.want} | ${t.got ?? 'n/a'} | ${pf(t.pass)} | ${t.source} | ${t.paired ? `${t.paired.min}-${t.paired.max}` : ''} | ${t.paired ? t.rows ?? '' : ''} | ${t.cpu ?? ''} | ${pf(t.pass_cpu)} |`);
  }
  return lines.join('\n');
}

const md = table();
const gitRev = results.git;
process.stdout.write(md + '\n');
const resultsFile = path.join(OUT, results.quick ? 'results-quick.json' : 'results.json');
if (!args.report) {
  fs.writeFileSync(resultsFile, JSON.stringify(results, null, 1));
  say(`wrote ${path.relative(REPO, resultsFile)}`);
}
const svg = renderChart(results);
fs.writeFileSync(path.join(OUT, results.quick ? 'bench-quick.svg' : 'bench.svg'), svg);
if (!results.quick && !args['no-docs']) {
  fs.mkdirSync(path.join(REPO, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(REPO, 'docs', 'bench.svg'), svg);
  const doc = path.join(REPO, 'docs', 'bench.md');
  const start = '<!-- bench:figures:start -->', end = '<!-- bench:figures:end -->';
  if (fs.existsSync(doc)) {
    const text = fs.readFileSync(doc, 'utf8');
    const i = text.indexOf(start), j = text.indexOf(end);
    if (i >= 0 && j > i) {
      const runs = [...(results.merged_from || []), results.date].map((d) => d.slice(0, 16).replace('T', ' '));
      const head = `${start}\nRun${runs.length > 1 ? 's' : ''} of ${runs.join(', ')} UTC (latest at ${gitRev}), ${results.machine.cpus} cores (${results.machine.cpu}), Node ${results.machine.node}; rows alternate between bertwasm and onnxruntime; best of the repetitions; a set stops after the batch that crosses ${results.max_seconds_per_set} s.\n`;
      fs.writeFileSync(doc, text.slice(0, i) + head + md + '\n' + text.slice(j));
      say('updated docs/bench.md figures and docs/bench.svg');
    }
  }
}
