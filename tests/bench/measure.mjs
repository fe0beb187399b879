// Shared by the benchmark workers (ref_worker.mjs, bertwasm_worker.mjs): argument parsing, the
// process's own memory from /proc/self/status, and the timed embedding loop. A worker prints one
// line `BENCH_RESULT {json}` on stdout; run.mjs reads it.
import fs from 'node:fs';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';

export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[key] = argv[++i];
    else out[key] = true;
  }
  return out;
}

// VmRSS / VmHWM (peak resident set) of this process, in bytes. VmHWM covers everything the
// process ever touched: wasm linear memory, ArrayBuffers, the JS heap, native allocations.
export function memStatus() {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => {
    const m = s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : null;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

// sets: "name:batch:count[,name:batch:count...]"  e.g. "short:1:64,short:32:256,t128:32:32"
export function parseSets(spec) {
  return String(spec).split(',').filter(Boolean).map((s) => {
    const [name, batch, count] = s.split(':');
    return { name, batch: Number(batch), count: Number(count) };
  });
}

export const median = (a) => {
  const b = [...a].sort((x, y) => x - y);
  return b.length ? (b.length % 2 ? b[(b.length - 1) / 2] : (b[b.length / 2 - 1] + b[b.length / 2]) / 2) : null;
};

// embed(texts) -> Promise; it must return only when the vectors exist. One untimed warm-up batch
// (of warmupBatch texts if given: the big models cannot afford a full extra batch),
// then batches over `count` sentences (cycling through the set), stopping early once maxSeconds
// have passed (at least one timed batch). checkFn(vectors, texts) may validate the output.
export async function runSets(embed, textSets, sets, { maxSeconds = 60, warmupBatch = 0, log = () => {} } = {}) {
  const results = [];
  for (const s of sets) {
    const texts = textSets[s.name];
    if (!texts || !texts.length) throw new Error(`no texts for set ${s.name}`);
    const pick = (i, n) => Array.from({ length: n }, (_, j) => texts[(i + j) % texts.length]);
    const wb = warmupBatch > 0 ? Math.min(warmupBatch, s.batch) : s.batch;
    await embed(pick(texts.length - wb, wb)); // warm-up (not timed)
    const lat = [];
    let done = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (done < s.count) {
      const n = Math.min(s.batch, s.count - done);
      const t = performance.now();
      await embed(pick(done, n));
      lat.push(performance.now() - t);
      done += n;
      if ((performance.now() - t0) / 1000 > maxSeconds) break;
    }
    const sec = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    const r = {
      set: s.name, batch: s.batch, sentences: done, seconds: +sec.toFixed(4),
      sentences_per_s: +(done / sec).toFixed(3),
      // CPU time of the whole process (all its threads): on a shared machine, sentences per
      // CPU-second of a 1-thread row is its speed had it had the core to itself; cpu_share < 1
      // means it waited for a core
      cpu_seconds: +cpu.toFixed(4),
      sentences_per_cpu_s: +(done / cpu).toFixed(3),
      cpu_share: +(cpu / sec).toFixed(3),
      batch_ms_median: +median(lat).toFixed(3),
      truncated: done < s.count,
    };
    log(`${s.name} b${s.batch}: ${r.sentences_per_s} sentences/s (${done} in ${sec.toFixed(2)} s; ${r.sentences_per_cpu_s} per CPU-s, CPU share ${r.cpu_share})`);
    results.push(r);
  }
  return results;
}

// --serve: the paired mode of run.mjs. After loading, the worker warms up on one batch of each set,
// prints `READY`, then runs one window per command line on stdin, {"set", "batch", "count",
// "offset"}, answering `WINDOW {json}` (sentences, seconds, per-batch latencies, and the process's
// CPU time before and after, so that run.mjs can also see CPU used while the worker sat idle).
// run.mjs alternates short windows of several loaded workers: drift on a shared machine hits all
// of them alike instead of whichever rows ran in a slow minute. Returns on {"exit": true} or EOF.
export async function serve(embed, textSets, sets, { warmupBatch = 0 } = {}) {
  const cpuNow = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };
  const pick = (texts, i, n) => Array.from({ length: n }, (_, j) => texts[(i + j) % texts.length]);
  for (const s of sets) {
    const texts = textSets[s.name];
    if (!texts || !texts.length) throw new Error(`no texts for set ${s.name}`);
    const wb = warmupBatch > 0 ? Math.min(warmupBatch, s.batch) : s.batch;
    await embed(pick(texts, texts.length - wb, wb));
  }
  process.stdout.write('READY\n');
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line);
    if (cmd.exit) break;
    const texts = textSets[cmd.set];
    if (!texts || !texts.length) throw new Error(`no texts for set ${cmd.set}`);
    const lat = [];
    let done = 0;
    const cpu0 = cpuNow();
    const t0 = performance.now();
    while (done < cmd.count) {
      const n = Math.min(cmd.batch, cmd.count - done);
      const t = performance.now();
      await embed(pick(texts, (cmd.offset || 0) + done, n));
      lat.push(+(performance.now() - t).toFixed(3));
      done += n;
    }
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(`WINDOW ${JSON.stringify({ sentences: done, seconds: +seconds.toFixed(5), cpu_before: +cpu0.toFixed(4),
      cpu_after: +cpuNow().toFixed(4), batch_ms: lat })}\n`);
  }
  rl.close();
}

export function emit(obj) {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(obj)}\n`);
}

export function loadTexts(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8')).sets;
}

export function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}
