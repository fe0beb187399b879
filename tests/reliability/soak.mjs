#!/usr/bin/env node
// Soak test of the npm package in Node: many embed() calls on random texts (empty, short, long,
// ~1 MB, lone surrogates; Uint8Array inputs, which embed() refuses with INVALID_ARGUMENT) and many
// load/dispose cycles, on the single-threaded and the pthreads build. Checks: no error, every
// vector finite and unit-norm, wasm memory flat after warm-up, no JS heap growth trend. Prints one
// JSON line of figures per backend; exits 1 on any failure.
//   node --expose-gc tests/reliability/soak.mjs [--embeds 100000] [--cycles 200] [--backend single,threads] [--seed 1]
import fs from 'node:fs';
import path from 'node:path';
import { TINY, modelParts, requireDist } from './common.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf('--' + k); return i >= 0 ? args[i + 1] : d; };
const N_EMBEDS = Number(opt('embeds', 100000));
const N_CYCLES = Number(opt('cycles', 200));
const BACKENDS = String(opt('backend', 'single,threads')).split(',');
let seed = Number(opt('seed', 1)) >>> 0 || 1;
const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296; };
const gc = globalThis.gc || (() => {});
if (!globalThis.gc) console.error('soak: run with --expose-gc for meaningful heap figures');

requireDist();
const { load, BertError, shutdown } = await import('../../web/index.js');
const WORDS = fs.readFileSync(path.join(TINY, '../sentences.txt'), 'utf8').split(/\s+/).filter(Boolean);
const MB_TEXT = Array.from({ length: 200000 }, (_, i) => WORDS[i % WORDS.length]).join(' ').slice(0, 1 << 20);

function randomText() {
  const r = rnd();
  if (r < 0.05) return '';
  if (r < 0.0502) return MB_TEXT; // ~1 in 5000: 1 MiB
  if (r < 0.10) { // lone surrogates and other odd code units mixed with words
    let s = '';
    const n = 1 + Math.floor(rnd() * 40);
    for (let i = 0; i < n; i++) {
      const k = rnd();
      s += k < 0.3 ? String.fromCharCode(0xd800 + Math.floor(rnd() * 0x800)) : k < 0.4 ? '\u0000' : k < 0.5 ? '\ufffe' : WORDS[Math.floor(rnd() * WORDS.length)] + ' ';
    }
    return s;
  }
  if (r < 0.15) return Array.from({ length: 100 + Math.floor(rnd() * 900) }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
  const n = Math.floor(rnd() * 30);
  return Array.from({ length: n }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(rnd() < 0.5 ? ' ' : '  ');
}

function checkVec(v, dim, where) {
  if (!(v instanceof Float32Array) || v.length !== dim) throw new Error(`${where}: bad vector`);
  let n = 0;
  for (const x of v) { if (!Number.isFinite(x)) throw new Error(`${where}: non-finite value`); n += x * x; }
  if (Math.abs(Math.sqrt(n) - 1) > 1e-3) throw new Error(`${where}: norm ${Math.sqrt(n)}`);
}

const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };

async function soak(backend) {
  const opts = { backend, threads: backend === 'threads' ? 2 : 1 };
  const parts = () => modelParts(TINY, path.join(TINY, 'model.safetensors'));
  const t0 = Date.now();
  let m = await load(parts(), opts);
  const dim = m.dim;
  const warm = Math.min(2000, Math.ceil(N_EMBEDS * 0.05));
  let done = 0, refusedBytes = 0, mbTexts = 0, lone = 0, wasmAfterWarm = 0, heapAfterWarm = 0;
  const heapSamples = [];
  const wasmSamples = [];
  const sampleEvery = Math.max(1, Math.floor(N_EMBEDS / 10));
  let nextSample = warm;
  while (done < N_EMBEDS) {
    const batch = Array.from({ length: Math.min(1 + Math.floor(rnd() * 16), N_EMBEDS - done) }, randomText);
    for (const t of batch) { if (t.length >= 1 << 19) mbTexts++; if (/[\ud800-\udfff]/.test(t)) lone++; }
    const vecs = batch.length === 1 ? [await m.embed(batch[0])] : await m.embed(batch);
    vecs.forEach((v, i) => checkVec(v, dim, `${backend} embed #${done + i}`));
    done += batch.length;
    if (rnd() < 0.01) { // bytes are not text: refused, and the model stays usable
      try { await m.embed(new Uint8Array([0xff, 0xfe, 0x80])); throw new Error('Uint8Array accepted'); } catch (e) {
        if (!(e instanceof BertError) || e.code !== 'INVALID_ARGUMENT') throw e;
        refusedBytes++;
      }
    }
    if (done >= nextSample) {
      if (!wasmAfterWarm) { wasmAfterWarm = m.memory.wasmMemory; heapAfterWarm = heap(); }
      heapSamples.push(heap());
      wasmSamples.push(m.memory.wasmMemory);
      nextSample += sampleEvery;
    }
  }
  const embedSeconds = (Date.now() - t0) / 1000;
  const wasmAfterEmbeds = m.memory.wasmMemory;
  const heapAfterEmbeds = heap();
  m.dispose();

  // Load/dispose cycles.
  const t1 = Date.now();
  let wasmAfterFirstCycle = 0, heapAfterFirstCycles = 0;
  const cycleWasm = [];
  for (let c = 0; c < N_CYCLES; c++) {
    m = await load(parts(), opts);
    checkVec(await m.embed('cycle ' + c), dim, `${backend} cycle ${c}`);
    const w = m.memory.wasmMemory;
    m.dispose();
    if (c === 0) wasmAfterFirstCycle = w;
    if (c === Math.min(9, N_CYCLES - 1)) heapAfterFirstCycles = heap();
    cycleWasm.push(w);
  }
  const cycleSeconds = (Date.now() - t1) / 1000;
  const heapAfterCycles = heap();
  const r = {
    backend, embeds: done, warmup: warm, mbTexts, loneSurrogateTexts: lone, bytesRefused: refusedBytes,
    embedSeconds, embedsPerSecond: Math.round(done / embedSeconds),
    wasmAfterWarm, wasmAfterEmbeds, wasmMaxDuringEmbeds: Math.max(...wasmSamples),
    heapAfterWarmMiB: +(heapAfterWarm / 2 ** 20).toFixed(2), heapAfterEmbedsMiB: +(heapAfterEmbeds / 2 ** 20).toFixed(2),
    heapSamplesMiB: heapSamples.map((h) => +(h / 2 ** 20).toFixed(2)),
    cycles: N_CYCLES, cycleSeconds, wasmAfterFirstCycle, wasmMaxOverCycles: Math.max(...cycleWasm),
    heapAfter10CyclesMiB: +(heapAfterFirstCycles / 2 ** 20).toFixed(2), heapAfterCyclesMiB: +(heapAfterCycles / 2 ** 20).toFixed(2),
  };
  const problems = [];
  if (r.wasmAfterEmbeds !== r.wasmAfterWarm || r.wasmMaxDuringEmbeds !== r.wasmAfterWarm) problems.push('wasm memory grew after warm-up');
  if (r.wasmMaxOverCycles !== r.wasmAfterFirstCycle) problems.push('wasm memory grew over load/dispose cycles');
  // Heap trend: the second half of the samples may not sit higher than the first half by > 2 MiB.
  const half = Math.floor(heapSamples.length / 2);
  const avg = (a) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  r.heapTrendMiB = +((avg(heapSamples.slice(half)) - avg(heapSamples.slice(0, half))) / 2 ** 20).toFixed(3);
  if (globalThis.gc) {
    if (r.heapTrendMiB > 2) problems.push(`JS heap trend +${r.heapTrendMiB} MiB over the embeds`);
    if (heapAfterEmbeds - heapAfterWarm > 4 * 2 ** 20) problems.push('JS heap grew > 4 MiB over the embeds');
    if (heapAfterCycles - heapAfterFirstCycles > 4 * 2 ** 20) problems.push('JS heap grew > 4 MiB over the cycles');
  }
  r.ok = problems.length === 0;
  r.problems = problems;
  return r;
}

let failed = false;
for (const b of BACKENDS) {
  try {
    const r = await soak(b);
    console.log(JSON.stringify(r));
    if (!r.ok) failed = true;
  } catch (e) {
    console.log(JSON.stringify({ backend: b, ok: false, problems: [`error: ${e && e.stack ? e.stack : e}`] }));
    failed = true;
  }
}
shutdown();
process.exitCode = failed ? 1 : 0;
