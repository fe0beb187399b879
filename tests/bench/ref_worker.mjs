// Reference side of the benchmark, one configuration per process: transformers.js feature
// extraction (mean pooling + normalize, as sentence-transformers models run) over
//   --runtime web   onnxruntime-web's wasm build (SIMD, N threads), injected the way a browser
//                   bundle gets it, or
//   --runtime node  onnxruntime-node (native CPU code: the ceiling, not a browser option).
// --dtype fp32 loads onnx/model.onnx, q8 loads onnx/model_quantized.onnx (tests/bench/quantize_onnx.py).
//
// usage: node tests/bench/ref_worker.mjs --model DIR --runtime web|node --threads N --dtype fp32|q8
//          --texts FILE.json --sets short:1:64,short:32:256 [--max-seconds S] [--warmup-batch N] [--dump FILE] [--external-data]
//          [--serve]   (after loading, run the windows run.mjs asks for on stdin; see measure.mjs)
// Prints `BENCH_RESULT {json}` (load time, peak RSS during load and overall, sentences/s per set).
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs, memStatus, parseSets, runSets, serve, emit, loadTexts } from './measure.mjs';

const args = parseArgs(process.argv.slice(2));
const model = path.resolve(args.model);
const runtime = args.runtime || 'web';
const threads = Number(args.threads || 1);
const dtype = args.dtype || 'fp32';
const log = (m) => process.stderr.write(`[ref ${runtime} ${dtype} t${threads}] ${m}\n`);
const require = createRequire(import.meta.url);
const mem0 = memStatus();
// the package folder from its resolved entry point (some packages do not export package.json)
function pkgVersion(name) {
  let d = path.dirname(fileURLToPath(import.meta.resolve(name)));
  while (!fs.existsSync(path.join(d, 'package.json')) || JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')).name !== name) {
    if (d === path.dirname(d)) return null;
    d = path.dirname(d);
  }
  return JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')).version;
}

if (runtime === 'web') {
  // What a web page gets: onnxruntime-web's wasm backend. transformers.js picks up an injected
  // runtime from this symbol instead of onnxruntime-node.
  const ort = await import('onnxruntime-web');
  const dist = path.dirname(fileURLToPath(import.meta.resolve('onnxruntime-web'))) + '/';
  ort.env.wasm.wasmPaths = dist;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  globalThis[Symbol.for('onnxruntime')] = ort;
} else if (runtime !== 'node') {
  throw new Error(`--runtime must be web or node, not ${runtime}`);
}
const { env, pipeline } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(model) + '/';
env.useBrowserCache = false;
env.useFSCache = false;

const sessionOptions = runtime === 'web'
  ? { executionProviders: ['wasm'] }
  : { intraOpNumThreads: threads, interOpNumThreads: 1 };
const memBeforeLoad = memStatus();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const extractor = await pipeline('feature-extraction', path.basename(model), {
  dtype,
  device: runtime === 'web' ? 'auto' : 'cpu',
  session_options: sessionOptions,
  // bert-large's f32 export keeps its weights in onnx/model.onnx_data (over protobuf's 2 GB cap)
  ...(args['external-data'] && dtype === 'fp32' ? { use_external_data_format: { 'model.onnx': 1 } } : {}),
});
const loadSeconds = (performance.now() - t0) / 1000;
const loadCpu = process.cpuUsage(cpu0);
const memAfterLoad = memStatus();
log(`loaded in ${loadSeconds.toFixed(3)} s, peak RSS ${(memAfterLoad.hwm / 2 ** 20).toFixed(0)} MiB`);

const embed = async (texts) => {
  const out = await extractor(texts, { pooling: 'mean', normalize: true });
  return out;
};

const textSets = loadTexts(args.texts);
let dims = null;
{
  const v = await embed([textSets.short[0]]);
  dims = v.dims;
  if (args.dump) {
    // the first 8 short sentences, for the cross-implementation sanity check in run.mjs
    const r = await embed(textSets.short.slice(0, 8));
    fs.writeFileSync(args.dump, JSON.stringify({ dims: r.dims, data: Array.from(r.data) }));
  }
}
if (args.serve) { // paired windows for run.mjs (measure.mjs serve)
  await serve(embed, textSets, parseSets(args.sets || 'short:32:64'), { warmupBatch: Number(args['warmup-batch'] || 0) });
  await extractor.dispose?.();
  process.exit(0);
}
const sets = runSets(embed, textSets, parseSets(args.sets || 'short:32:64'),
  { maxSeconds: Number(args['max-seconds'] || 60), warmupBatch: Number(args['warmup-batch'] || 0), log });
const results = await sets;
const memEnd = memStatus();
emit({
  impl: runtime === 'web' ? 'ort-web' : 'ort-node',
  runtime, dtype, threads, model: path.basename(model),
  load_seconds: +loadSeconds.toFixed(4),
  load_cpu_seconds: +((loadCpu.user + loadCpu.system) / 1e6).toFixed(4),
  rss_baseline: mem0.rss,
  rss_before_load: memBeforeLoad.rss,
  peak_rss_load: memAfterLoad.hwm,
  rss_after_load: memAfterLoad.rss,
  peak_rss: memEnd.hwm,
  embedding_dims: dims,
  sets: results,
  versions: {
    transformers: pkgVersion('@huggingface/transformers'),
    onnxruntime: pkgVersion(runtime === 'web' ? 'onnxruntime-web' : 'onnxruntime-node'),
    node: process.version,
  },
});
await extractor.dispose?.();
process.exit(0);
