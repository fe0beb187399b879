// bertwasm side of the benchmark, one configuration per process.
//
//   --impl web     the npm package's JS API (web/index.js over the Emscripten build; 1 thread or
//                  the pthreads build), measured inside this process: load time, VmHWM after load
//                  (peak RSS during load), sentences/s per set.
//   --impl wasi    the WASI command (dist/bertwasm-wasi.wasm) under node:wasi (wasi/run.mjs),
//   --impl wasi-relaxed   dist/bertwasm-wasi-relaxed.wasm (Node flag --experimental-wasm-relaxed-simd),
//   --impl native  the native CLI (build*/bertwasm): each measured from outside with
//                  /usr/bin/time -v (maximum resident set size) and the CLI's own -v figures
//                  ("loaded ... in X ms", "embedded N texts in T ms"). A run with no input gives
//                  load time and load peak; one run per set gives throughput and overall peak.
//
// usage: node tests/bench/bertwasm_worker.mjs --impl web|wasi|wasi-relaxed|native --model DIR
//          --dtype q8|q4|f16|f32 --threads N --texts FILE.json --sets short:32:256,...
//          [--max-tokens N] [--max-batch N] [--max-seconds S] [--warmup-batch N] [--dump FILE] [--cli PATH]
//          [--serve]   (web only: after loading, run the windows run.mjs asks for on stdin; see measure.mjs)
// Prints `BENCH_RESULT {json}`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, memStatus, parseSets, runSets, serve, emit, loadTexts } from './measure.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const args = parseArgs(process.argv.slice(2));
const impl = args.impl || 'web';
const model = path.resolve(args.model);
const dtype = args.dtype || 'q8';
const threads = Number(args.threads || 1);
const maxTokens = args['max-tokens'] ? Number(args['max-tokens']) : undefined;
const maxBatch = Number(args['max-batch'] || 32);
const maxSeconds = Number(args['max-seconds'] || 60);
const log = (m) => process.stderr.write(`[bertwasm ${impl} ${dtype} t${threads}] ${m}\n`);
const textSets = loadTexts(args.texts);
const sets = parseSets(args.sets || 'short:32:64');

// Flattens whatever embed() returns (array of Float32Array, or {data, dims}) into rows.
function rowsOf(out, n) {
  if (Array.isArray(out)) return out.map((r) => Array.from(r));
  const data = out.data ?? out;
  const dim = data.length / n;
  return Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * dim, (i + 1) * dim)));
}

async function runWeb() {
  const mem0 = memStatus();
  const { load } = await import(pathToFileURL(path.join(REPO, 'web', 'index.js')).href);
  const memBeforeLoad = memStatus();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const m = await load(model, {
    dtype, threads, maxBatch, ...(maxTokens ? { maxTokens } : {}),
  });
  const loadSeconds = (performance.now() - t0) / 1000;
  const loadCpu = process.cpuUsage(cpu0);
  const memAfterLoad = memStatus();
  log(`loaded in ${loadSeconds.toFixed(3)} s, peak RSS ${(memAfterLoad.hwm / 2 ** 20).toFixed(0)} MiB` +
      (m.backend ? `, backend ${typeof m.backend === 'string' ? m.backend : JSON.stringify(m.backend)}` : ''));
  const embed = (texts) => m.embed(texts);
  const first = await embed([textSets.short[0]]);
  const dims = rowsOf(first, 1)[0].length;
  if (args.dump) {
    const rows = rowsOf(await embed(textSets.short.slice(0, 8)), 8);
    fs.writeFileSync(args.dump, JSON.stringify({ dims: [8, dims], data: rows.flat() }));
  }
  if (args.serve) { // paired windows for run.mjs (measure.mjs serve)
    await serve(embed, textSets, sets, { warmupBatch: Number(args['warmup-batch'] || 0) });
    m.dispose();
    process.exit(0);
  }
  const results = await runSets(embed, textSets, sets, { maxSeconds, warmupBatch: Number(args['warmup-batch'] || 0), log });
  const memEnd = memStatus();
  let plan = null;
  try { plan = JSON.parse(JSON.stringify(m.plan, (k, v) => (typeof v === 'bigint' ? Number(v) : v))); } catch { plan = null; }
  const backend = m.backend ?? null;
  m.dispose();
  return {
    load_seconds: +loadSeconds.toFixed(4),
    load_cpu_seconds: +((loadCpu.user + loadCpu.system) / 1e6).toFixed(4),
    rss_baseline: mem0.rss, rss_before_load: memBeforeLoad.rss,
    peak_rss_load: memAfterLoad.hwm, rss_after_load: memAfterLoad.rss, peak_rss: memEnd.hwm,
    embedding_dims: [1, dims], sets: results, plan, backend,
  };
}

// ---- CLI builds, measured from outside ----------------------------------------------------------

function cliCommand() {
  const common = ['embed', '--model', model, '--dtype', dtype, '--format', 'f32', '-v',
    ...(maxTokens ? ['--max-tokens', String(maxTokens)] : [])];
  if (impl === 'native') {
    const exe = args.cli || ['build-bench/native/bertwasm', 'build/bertwasm'].map((p) => path.join(REPO, p))
      .find((p) => fs.existsSync(p));
    if (!exe) throw new Error('native CLI not built (build-bench/native/bertwasm or build/bertwasm)');
    return { cmd: exe, args: common, env: {} };
  }
  const wasm = path.join(REPO, 'dist', impl === 'wasi-relaxed' ? 'bertwasm-wasi-relaxed.wasm' : 'bertwasm-wasi.wasm');
  if (!fs.existsSync(wasm)) throw new Error(`${path.relative(REPO, wasm)} not built`);
  const flags = impl === 'wasi-relaxed' ? ['--experimental-wasm-relaxed-simd'] : [];
  return {
    cmd: process.execPath,
    args: [...flags, path.join(REPO, 'wasi', 'run.mjs'), ...common],
    env: { BERTWASM_WASM: wasm, BERTWASM_DIRS: path.dirname(model) },
  };
}

function runCli(c, batch, input) {
  const r = spawnSync('/usr/bin/time', ['-v', c.cmd, ...c.args, '--batch', String(batch)], {
    input, env: { ...process.env, ...c.env }, cwd: path.dirname(model),
    encoding: 'latin1', maxBuffer: 1 << 30,
  });
  const err = r.stderr || '';
  if (r.status !== 0) throw new Error(`${c.cmd} ${c.args.join(' ')} exited ${r.status}:\n${err.slice(-2000)}`);
  const num = (re) => { const m = err.match(re); return m ? Number(m[1]) : null; };
  return {
    load_ms: num(/loaded .* in ([\d.]+) ms/),
    embed_ms: num(/embedded \d+ texts in ([\d.]+) ms/),
    texts: num(/embedded (\d+) texts/),
    max_rss: num(/Maximum resident set size \(kbytes\): (\d+)/) * 1024,
    wall: num(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:\d+:)?([\d.]+)/),
    cpu: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/),
    out_bytes: r.stdout.length,
  };
}

function runCliAll() {
  const c = cliCommand();
  const l = runCli(c, maxBatch, '');
  log(`loaded in ${l.load_ms} ms, peak RSS ${(l.max_rss / 2 ** 20).toFixed(0)} MiB (no input)`);
  const results = [];
  let peak = l.max_rss;
  for (const s of sets) {
    const texts = textSets[s.name];
    // the CLI reads one text per line; our texts have no newlines. Bounded by count only: the
    // caller picks counts that fit the time budget (the CLI cannot stop early).
    const lines = Array.from({ length: s.count }, (_, i) => texts[i % texts.length]).join('\n') + '\n';
    const r = runCli(c, s.batch, lines);
    if (r.texts !== s.count) throw new Error(`CLI embedded ${r.texts} texts, expected ${s.count}`);
    const dim = r.out_bytes / 4 / s.count;
    if (!Number.isInteger(dim)) throw new Error(`CLI f32 output of ${r.out_bytes} bytes for ${s.count} texts`);
    peak = Math.max(peak, r.max_rss);
    const sec = r.embed_ms / 1000;
    // CPU time of the embedding: the whole process's minus that of the run without input (load,
    // startup); single-threaded, so it is the compute time whatever else runs on the machine
    // (/usr/bin/time counts in 10 ms steps: below 50 ms the difference means nothing)
    const cpu = r.cpu - l.cpu >= 0.05 ? r.cpu - l.cpu : null;
    const res = {
      set: s.name, batch: s.batch, sentences: s.count, seconds: +sec.toFixed(4),
      sentences_per_s: +(s.count / sec).toFixed(3), batch_ms_median: null, truncated: false,
      cpu_seconds: cpu == null ? null : +cpu.toFixed(3),
      sentences_per_cpu_s: cpu == null ? null : +(s.count / cpu).toFixed(3),
      cpu_share: cpu == null ? null : +Math.min(1, cpu / sec).toFixed(3),
      process_peak_rss: r.max_rss, dims: dim,
    };
    log(`${s.name} b${s.batch}: ${res.sentences_per_s} sentences/s (${s.count} in ${sec.toFixed(2)} s)`);
    results.push(res);
  }
  return {
    load_seconds: l.load_ms / 1000, load_process_seconds: l.wall, load_process_cpu_seconds: l.cpu,
    peak_rss_load: l.max_rss, peak_rss: peak, sets: results,
  };
}

const body = impl === 'web' ? await runWeb() : runCliAll();
emit({
  impl: impl === 'web' ? (threads > 1 ? 'bertwasm-web-mt' : 'bertwasm-web') : `bertwasm-${impl}`,
  runtime: impl, dtype, threads, model: path.basename(model), max_batch: maxBatch, max_tokens: maxTokens ?? null,
  ...body,
  versions: { node: process.version, cpus: os.cpus().length },
});
process.exit(0);
