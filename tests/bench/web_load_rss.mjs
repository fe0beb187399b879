// Peak RSS of loading a model with the npm package (web/index.js, dtype q8) versus transformers.js
// over onnxruntime-web's wasm backend loading the same weights as ONNX, each in a fresh child
// process, for the bert-base and bert-large shapes. Printed beside bertwasm's memory plan and the
// file size: the point is that bertwasm's peak is ~ baseline + plan, never + the file.
//
//   node tests/bench/web_load_rss.mjs [--shapes bert-base,bert-large] [--dir build-web/bench-models]
//        [--backend single|threads] [--no-ort] [--json OUT.json]
//
// Models are generated once with tests/gen/gen_model.py --shape S --dtype F32 --onnx (random
// weights, exact shapes). Peak RSS is the child's VmHWM (/proc/self/status) after load + one
// embed; "baseline" is VmRSS after importing the library, before loading.
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const argv = process.argv.slice(2);
const arg = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const MiB = (n) => (n / 1048576).toFixed(0);

function mem() {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

// ---- child: one load, one embed, one JSON line --------------------------------------------------
if (argv[0] === '--child') {
  const kind = argv[1], dir = argv[2], backend = argv[3] || 'single';
  const t0 = performance.now();
  let out;
  if (kind === 'bertwasm') {
    const { load } = await import(pathToFileURL(path.join(ROOT, 'web/index.js')).href);
    // instantiate the wasm before the baseline is taken (it is not part of the model's cost)
    const base0 = mem();
    const m = await load(dir, { dtype: 'q8', backend });
    const loadMs = performance.now() - t0;
    const v = await m.embed('The quick brown fox jumps over the lazy dog.');
    out = { kind, backend: m.backend, baseline: base0.rss, peak: mem().hwm, plan: m.plan.total, planDescription: m.plan.description,
      wasmMemory: m.memory.wasmMemory, dim: v.length, loadMs };
    m.dispose();
  } else {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.wasmPaths = path.dirname(fileURLToPath(import.meta.resolve('onnxruntime-web'))) + '/';
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    globalThis[Symbol.for('onnxruntime')] = ort;
    const { env, pipeline } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = path.dirname(dir) + '/';
    env.useBrowserCache = false;
    env.useFSCache = false;
    const base0 = mem();
    const pipe = await pipeline('feature-extraction', path.basename(dir), {
      dtype: 'fp32', device: 'auto', session_options: { executionProviders: ['wasm'] },
    });
    const loadMs = performance.now() - t0;
    const v = await pipe('The quick brown fox jumps over the lazy dog.', { pooling: 'mean', normalize: true });
    out = { kind: 'transformers.js+ort-web(wasm)', baseline: base0.rss, peak: mem().hwm, dim: v.dims[1], loadMs };
  }
  console.log(JSON.stringify(out));
  const { shutdown } = await import(pathToFileURL(path.join(ROOT, 'web/index.js')).href);
  shutdown();
  process.exit(0);
}

// ---- parent ------------------------------------------------------------------------------------
const shapes = arg('--shapes', 'bert-base,bert-large').split(',');
const dir = path.resolve(ROOT, arg('--dir', 'build-web/bench-models'));
const backend = arg('--backend', 'single');
const withOrt = !argv.includes('--no-ort');
fs.mkdirSync(dir, { recursive: true });

function ensureModel(shape) {
  const d = path.join(dir, shape);
  // onnxruntime-web cannot mount external data files in Node ("Module.MountedFiles is not
  // available"), so the ONNX weights stay inside model.onnx (bert-large's 1.3 GB is under the 2 GB
  // protobuf limit).
  if (fs.existsSync(path.join(d, 'model.safetensors')) && fs.existsSync(path.join(d, 'onnx/model.onnx')) &&
      !fs.existsSync(path.join(d, 'onnx/model.onnx_data'))) return d;
  console.error(`generating ${shape} (F32 + ONNX) in ${d} ...`);
  fs.rmSync(d, { recursive: true, force: true });
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tests/gen/gen_model.py'), '--shape', shape, '--dtype', 'F32',
    '--onnx', '--onnx-external', 'no', '--seed', '7', '--out', d, '-q'], { stdio: 'inherit' });
  return d;
}

function child(kind, d) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, d, backend],
    { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = (r.stdout || '').trim().split('\n').pop();
  try { return JSON.parse(line); } catch {
    return { kind, error: `exit ${r.status} ${r.signal || ''}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` };
  }
}

const rows = [];
for (const shape of shapes) {
  const d = ensureModel(shape);
  const file = fs.statSync(path.join(d, 'model.safetensors')).size;
  const b = child('bertwasm', d);
  const o = withOrt ? child('ort', d) : null;
  rows.push({ shape, file, bertwasm: b, ort: o });
  const line = [`${shape.padEnd(10)} file ${MiB(file).padStart(5)} MiB`];
  if (b.error) line.push(`bertwasm: ${b.error}`);
  else line.push(`bertwasm q8 (${b.backend}): plan ${MiB(b.plan).padStart(4)} MiB, peak RSS ${MiB(b.peak).padStart(5)} MiB ` +
    `(baseline ${MiB(b.baseline)} + ${MiB(b.peak - b.baseline)} MiB; wasm memory ${MiB(b.wasmMemory)} MiB), load ${(b.loadMs / 1000).toFixed(1)} s`);
  if (o) line.push(o.error ? `ort-web: ${o.error}` : `transformers.js+ort-web fp32: peak RSS ${MiB(o.peak).padStart(5)} MiB ` +
    `(baseline ${MiB(o.baseline)} + ${MiB(o.peak - o.baseline)} MiB), load ${(o.loadMs / 1000).toFixed(1)} s` +
    (b.peak ? `, ${(o.peak / b.peak).toFixed(1)}x bertwasm` : ''));
  console.log(line.join('\n    '));
}
const jsonOut = arg('--json');
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(rows, null, 2));
