// bertwasm - BERT-family sentence embeddings and reranking in WebAssembly.
//
//   import { load } from 'bertwasm';
//   const model = await load('https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main/',
//                            { memoryBudget: 128 << 20, onProgress: e => console.log(e) });
//   const v = await model.embed('hello world');          // Float32Array(384), normalized
//   model.dispose();
//
// How memory is used (the rules the tests hold us to):
// - One wasm instance per variant (single-threaded / pthreads) is shared by all models loaded
//   without a memoryBudget. A load with memoryBudget > 0 runs in an instance whose
//   WebAssembly.Memory maximum is derived from the budget (see memoryCap below), shared only with
//   loads that give the same maximum. A budgeted instance without models is dropped (its memory
//   and pthread workers with it) after a failed load, or, once its last model was disposed, when
//   a load needs a budgeted instance of another maximum (see keepAsSpare). Its heap
//   holds each model's single arena (the C core's plan: weights + vocab + activations + staging,
//   allocated in one piece once the safetensors header has arrived, before any weight byte is
//   consumed). The heap grows in exact steps, never geometrically.
// - The JS allocates two things in wasm memory: per instance, once, a 256 KiB text window (UTF-8
//   written with TextEncoder.encodeInto; weight chunks are copied through it too, or, from a Node
//   file path, read straight into it with readSync); per model, its
//   token/output buffers for maxTokens x maxBatch, allocated right after the core's arena (once the
//   plan exists, before any weight byte) and freed with the model. Every load/dispose cycle makes
//   the same allocations in the same order, so cycles and calls leave the memory size alone.
//   (tokenizer.json is staged in a transient block, freed as soon as the core has read it.)
// - A text longer than the window is tokenized in pieces cut at whitespace or ASCII punctuation,
//   where BERT's pre-tokenizer splits anyway, so the ids equal those of the whole text (a single
//   run of more than ~87,000 characters with neither is cut mid-word). Embedding stops reading
//   pieces once maxTokens is reached; countTokens/tokenize read them all.
// - Weights stream from fetch()/a file/a Blob in chunks; nothing holds the whole file in JS.
//
// Concurrency: every Model method is queued per model, so overlapping calls are safe. All calls on
// one instance are synchronous wasm calls between awaits, so models never see each other's scratch.

import { isParts, hideInternals, modelSummary, inspectModel, INSPECT } from './parts.js';

const TEXT_CAP = 256 * 1024;          // text window and weight-copy window (bytes)
const MISC = 256;                     // out-params (encoding info, plan doubles, status)
const PIECE_CHARS = Math.floor((TEXT_CAP - 8) / 3); // UTF-16 units that surely fit as UTF-8

const STATUS_CODES = ['OK', 'INVALID_ARGUMENT', 'BAD_MODEL', 'UNSUPPORTED', 'BUDGET_EXCEEDED',
  'OUT_OF_MEMORY', 'BAD_STATE'];
const DTYPES = { f32: 0, f16: 1, q4: 2, q8: 8 }; // exactly index.d.ts's DType
const DTYPE_NAMES = { 0: 'f32', 1: 'f16', 2: 'q4', 8: 'q8' };
const POOLINGS = { none: 0, mean: 1, cls: 2, max: 3 };
const POOLING_NAMES = ['none', 'mean', 'cls', 'max'];

const utf8 = new TextEncoder();
const isNode = typeof process === 'object' && !!(process.versions && process.versions.node) &&
  typeof window === 'undefined';

/** Errors thrown by bertwasm: `code` is stable, `message` carries the C core's detail. */
export class BertError extends Error {
  constructor(code, message, extra) {
    const { cause, ...rest } = extra || {};
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'BertError';
    this.code = code;
    Object.assign(this, rest);
  }
}

const disposedError = (why = '') => new BertError('DISPOSED', 'the model has been disposed' + why);
const shutdownError = () => new BertError('BAD_STATE', 'shutdown() was called while the model was loading');
const abortError = (signal) => new BertError('ABORTED',
  'load aborted' + (signal && signal.reason && signal.reason.message ? ': ' + signal.reason.message : ''));

function invalid(msg) { return new BertError('INVALID_ARGUMENT', msg); }
const quote = (v) => (typeof v === 'string' ? JSON.stringify(v) : String(v)); // a bad value, for a message

// The engine's limits on the token shape (src/loader.c, src/forward.c): both are int32 in
// bert_load_params, maxTokens is 0 (the model's maximum) or >= 2, and one forward pass takes at
// most 2^31 tokens (maxTokens x maxBatch), so maxBatch can never exceed 2^30. A maxTokens above the
// model's maximum means the model's maximum (model.config.maxTokens says which was used).
const MAX_TOKENS_LIMIT = 2 ** 31 - 1;
const MAX_BATCH_LIMIT = 2 ** 30;
const DEFAULT_BATCH = 8;
const MAX_THREADS = 256;

// Integer options are checked here, not truncated: `| 0` on its way to the int32 parameter would
// silently turn 1e12 into 8 or 2**32 + 1 into 1. 0 (or no value) keeps the default.
function checkInt(opts, name, min, max, zero) {
  const v = opts[name];
  if (v == null || v === 0) return;
  if (!(Number.isInteger(v) && v >= min && v <= max))
    throw invalid(`options.${name} must be an integer from ${min} to ${max} (or ${zero}), not ${quote(v)}`);
}
const msgOf = (e) => (e && e.message ? e.message : String(e));

// ---------------------------------------------------------------------------------------------
// Runtime: one Emscripten instance + its scratch block.

class Runtime {
  constructor(M, variant, poolSize, era) {
    this.M = M;
    this.variant = variant;
    this.poolSize = poolSize;
    this.scratchSize = 0;
    this.scratch = 0;
    this.live = new Set(); // its models not yet disposed
    this.halts = new Set(); // of its loads in flight: shutdown() ends them
    this.pending = 0;      // loads in flight
    this.maxBytes = 0;     // memory maximum of a budgeted instance (0: the build's 4 GiB)
    this.baseline = 0;     // memory size once created (before any model)
    this.key = null;       // its entry in `runtimes` (and the promise stored there)
    this.promise = null;
    this.released = false; // a dropped instance (releaseIfIdle)
    this.epoch = era;      // the epoch its creation began in; an older one than now: closed
    this.ensureScratch(TEXT_CAP + MISC);
  }
  get models() { return this.live.size; }
  get closed() { return this.epoch !== epoch; }
  get buffer() { return this.M.wasmMemory ? this.M.wasmMemory.buffer : this.M.HEAPU8.buffer; }
  get u8() { return new Uint8Array(this.buffer); }
  get i32() { return new Int32Array(this.buffer); }
  get f32() { return new Float32Array(this.buffer); }
  get f64() { return new Float64Array(this.buffer); }
  memorySize() { return this.buffer.byteLength; }
  get text() { return this.scratch; }
  get misc() { return this.scratch + TEXT_CAP; }

  // Allocated once per instance (the text window + out-params).
  ensureScratch(bytes) {
    if (bytes <= this.scratchSize) return;
    if (this.scratch) this.M._free(this.scratch);
    const p = this.M._malloc(bytes) >>> 0;
    if (!p) {
      this.scratch = 0; this.scratchSize = 0;
      throw new BertError('OUT_OF_MEMORY', `cannot allocate ${bytes} bytes of scratch in wasm memory`);
    }
    this.scratch = p;
    this.scratchSize = bytes;
  }

  cstr(ptr) {
    ptr >>>= 0;
    if (!ptr) return '';
    const u8 = this.u8;
    let end = ptr;
    while (u8[end]) end++;
    return new TextDecoder().decode(u8.slice(ptr, end)); // slice: TextDecoder rejects shared views
  }

  statusName(s) { return STATUS_CODES[s] || this.cstr(this.M._bert_status_name(s)) || `STATUS_${s}`; }

  readDoubles(ptr, n) { return Array.from(new Float64Array(this.buffer, ptr >>> 0, n)); }

  // Writes s as UTF-8 at ptr (at most cap bytes); returns bytes written, or -1 if it did not fit.
  // Browsers refuse encodeInto on a shared (pthreads) heap: go through a fixed JS window then.
  writeText(s, ptr, cap) {
    const buf = this.buffer;
    if (typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer) {
      if (!this.stage) this.stage = new Uint8Array(TEXT_CAP);
      const r = utf8.encodeInto(s, this.stage.subarray(0, Math.min(cap, TEXT_CAP)));
      if (r.read !== s.length) return -1;
      new Uint8Array(buf, ptr >>> 0, r.written).set(this.stage.subarray(0, r.written));
      return r.written;
    }
    const r = utf8.encodeInto(s, new Uint8Array(buf, ptr >>> 0, cap));
    return r.read === s.length ? r.written : -1;
  }
}

const runtimes = new Map(); // key -> Promise<Runtime>
const instances = new Set(); // every created Runtime not yet released (shutdown() reaches them synchronously)
let epoch = 0;               // bumped by shutdown(): instances of an older epoch are closed

// ---------------------------------------------------------------------------------------------
// Budgeted instances: the maximum of the wasm memory follows from the budget.
//
//   cap = budget                          the core's plan (single arena) is at most this
//       + baseline                        the module's initial memory (static data, 1 MiB stack,
//                                         the first heap; 4 MiB with web/CMakeLists.txt)
//       + TEXT_CAP + MISC                 the fixed JS scratch (text window + out-params)
//       + token buffers                   per model, maxTokens x maxBatch ids/outputs (upper bound
//                                         from config.json and the options)
//       + TOKENIZER_FACTOR x tokenizer    the transient parse of tokenizer.json / vocab.txt: the
//                                         staged copy plus the core's parse state, freed before
//                                         the arena is taken but the memory never shrinks
//       + pthread stacks                  threads - 1 workers x (stack + TLS), threaded variant
//       + ALLOC_SLACK                     loader/model structs, allocator headers and alignment
//   rounded up to 64 KiB pages. A load that would need more fails with OUT_OF_MEMORY (malloc
//   returns NULL when memory.grow is refused), never a crash.
const WASM_PAGE = 65536;
const TOKENIZER_FACTOR = 3;
const ALLOC_SLACK = 1 << 20;
const PTHREAD_BYTES = 256 * 1024 + 64 * 1024; // -sDEFAULT_PTHREAD_STACK_SIZE=256KB + TLS/struct
const MAX_PAGES = 65536;

function memoryCap(budget, initialBytes, files, opts, threads) {
  let cfg = {};
  const cf = files.find(([n]) => n === 'config.json');
  try { cfg = JSON.parse(new TextDecoder().decode(cf[1])); } catch { /* the core will say */ }
  const num = (v, d) => (Number.isFinite(v) && v > 0 ? Math.floor(v) : d);
  const maxPos = num(cfg.max_position_embeddings, 512);
  const T = Math.min(num(opts.maxTokens, maxPos), maxPos); // the core caps maxTokens there too
  const B = num(opts.maxBatch, DEFAULT_BATCH);
  const dim = num(cfg.hidden_size, 1024);
  const labels = num(cfg.num_labels, cfg.id2label ? Object.keys(cfg.id2label).length : 1);
  const work = scratchLayout(T, B, dim, labels, true).end;
  let tok = 0;
  for (const [n, b] of files) if (n === 'tokenizer.json' || n === 'vocab.txt') tok = Math.max(tok, b.length);
  const bytes = budget + initialBytes + TEXT_CAP + MISC + work + TOKENIZER_FACTOR * tok +
    Math.max(0, threads - 1) * PTHREAD_BYTES + ALLOC_SLACK;
  return Math.ceil(bytes / WASM_PAGE);
}

// LEB128 (unsigned) read/write for the wasm binary.
function lebRead(b, p) {
  let v = 0, mul = 1, x;
  do { x = b[p++]; v += (x & 0x7f) * mul; mul *= 128; } while (x & 0x80);
  return [v, p];
}
function lebWrite(v) {
  const out = [];
  do { let x = v % 128; v = Math.floor(v / 128); if (v) x |= 0x80; out.push(x); } while (v);
  return out;
}

// The module's memory limits, defined (section 5) or imported (section 2):
// { initial, maximum, flags, sec, body, lim, limEnd, secEnd } (byte positions), or null.
function memoryLimits(b) {
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) return null;
  const limits = (q, extra) => {
    const flags = b[q];
    let [initial, p] = lebRead(b, q + 1), maximum = null;
    if (flags & 1) [maximum, p] = lebRead(b, p);
    return { ...extra, flags, initial, maximum, lim: q, limEnd: p };
  };
  for (let p = 8; p < b.length;) {
    const sec = p, id = b[p++];
    let size;
    [size, p] = lebRead(b, p);
    const body = p, secEnd = p + size;
    if (id === 5) return limits(lebRead(b, body)[1], { sec, body, secEnd, imported: false });
    if (id === 2) {
      let [n, q] = lebRead(b, body);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < 2; k++) { let len; [len, q] = lebRead(b, q); q += len; }
        const kind = b[q++];
        if (kind === 2) return limits(q, { sec, body, secEnd, imported: true });
        if (kind === 0 || kind === 4) { if (kind === 4) q++; q = lebRead(b, q)[1]; }
        else if (kind === 1) { q++; const f = b[q]; q = lebRead(b, q + 1)[1]; if (f & 1) q = lebRead(b, q)[1]; }
        else if (kind === 3) q += 2;
        else return null;
      }
    }
    p = secEnd;
  }
  return null;
}

// A copy of a module (that defines its memory) whose memory maximum is `pages`.
function withMemoryMaximum(b, lim, pages) {
  const newLim = [lim.flags | 1, ...lebWrite(lim.initial), ...lebWrite(pages)];
  const bodyLen = (lim.lim - lim.body) + newLim.length + (lim.secEnd - lim.limEnd);
  const head = [5, ...lebWrite(bodyLen)];
  const out = new Uint8Array(lim.sec + head.length + bodyLen + (b.length - lim.secEnd));
  let o = 0;
  const put = (x) => { out.set(x, o); o += x.length; };
  put(b.subarray(0, lim.sec)); put(head); put(b.subarray(lim.body, lim.lim)); put(newLim);
  put(b.subarray(lim.limEnd, lim.secEnd)); put(b.subarray(lim.secEnd));
  return out;
}

const customIds = new WeakMap(); // custom WebAssembly.Module / bytes -> id for the runtime key
let nextCustomId = 0;
const defaultBytes = new Map(); // variant -> Promise<Uint8Array>

async function moduleBytes(variant, fetchFn) {
  let p = defaultBytes.get(variant);
  if (!p) {
    const file = variant === 'threads' ? 'bertwasm-mt' : 'bertwasm';
    p = wasmBytes(new URL(`../dist/${file}.wasm`, import.meta.url).href, fetchFn, bundledWasm(variant));
    defaultBytes.set(variant, p);
    p.catch(() => defaultBytes.delete(variant));
  }
  return p;
}

function defaultThreads() {
  let n = 1;
  if (typeof navigator === 'object' && navigator && navigator.hardwareConcurrency) n = navigator.hardwareConcurrency;
  else if (isNode && nodeOs) n = nodeOs.availableParallelism ? nodeOs.availableParallelism() : nodeOs.cpus().length;
  return Math.max(1, Math.min(4, n | 0));
}

let nodeFs = null, nodeOs = null, nodeUrl = null, nodePath = null;
if (isNode) {
  nodeFs = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs');
  nodeOs = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:os');
  nodeUrl = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:url');
  nodePath = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:path');
}

function threadsAvailable() {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  if (isNode) return true;
  return globalThis.crossOriginIsolated === true;
}

// Where a wasm module comes from, named in its errors: the caller's options.wasm, or one of ours
// (bundledWasm). Bytes that do not compile are the caller's fault (INVALID_ARGUMENT) for the first;
// for ours, NETWORK when the server sent something else (an HTML page in its place), else INTERNAL.
const CUSTOM_WASM = 'options.wasm';
const bundledWasm = (variant) => `bundled dist/${variant === 'threads' ? 'bertwasm-mt' : 'bertwasm'}.wasm`;
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d]; // "\0asm"

// options.wasm (or the bundled module's URL) -> WebAssembly.Module. Errors are BertErrors: a
// location that cannot be read is NETWORK (INVALID_ARGUMENT for a local path given as
// options.wasm), bytes that do not compile: see compileBytes.
async function compileWasm(src, fetchFn, label = CUSTOM_WASM) {
  if (src instanceof WebAssembly.Module) return src;
  if (typeof src === 'string' || src instanceof URL) {
    const url = String(src);
    if (isLocalWasm(url)) return compileBytes(await readWasmFile(url, label), label);
    src = await fetchWasm(url, fetchFn, label);
  }
  if (typeof Response !== 'undefined' && src instanceof Response) {
    checkResponse(src, label);
    if (WebAssembly.compileStreaming && /application\/wasm/.test(src.headers.get('content-type') || ''))
      return compileBytes(src, label, WebAssembly.compileStreaming);
    return compileBytes(await responseBytes(src, label), label);
  }
  if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) return compileBytes(src, label);
  throw invalid('options.wasm must be a WebAssembly.Module, a URL, a Response or the wasm bytes');
}

// The bytes of a wasm module at a URL or (Node) path, with compileWasm's errors.
async function wasmBytes(url, fetchFn, label) {
  if (isLocalWasm(url)) return readWasmFile(url, label);
  const r = await fetchWasm(url, fetchFn, label);
  checkResponse(r, label);
  return responseBytes(r, label);
}

const isLocalWasm = (url) => isNode && !/^(https?|data|blob):/i.test(url);

// A missing bundled file is a broken install (INTERNAL); a bad path in options.wasm is the caller's.
async function readWasmFile(url, label) {
  const path = url.startsWith('file:') ? nodeUrl.fileURLToPath(url) : url;
  try {
    return new Uint8Array(await nodeFs.promises.readFile(path));
  } catch (e) {
    throw new BertError(label === CUSTOM_WASM ? 'INVALID_ARGUMENT' : 'INTERNAL', `${label}: cannot read ${path}: ${msgOf(e)}`, { cause: e });
  }
}

async function fetchWasm(url, fetchFn, label) {
  try {
    return await fetchFn(url);
  } catch (e) {
    throw new BertError('NETWORK', `${label}: fetch ${url}: ${msgOf(e)}`, { cause: e });
  }
}

function checkResponse(r, label) {
  if (r.ok) return;
  cancelBody(r);
  throw new BertError('NETWORK', `${label}: HTTP ${r.status}${r.url ? ` for ${r.url}` : ''}`);
}

async function responseBytes(r, label) {
  try {
    return new Uint8Array(await r.arrayBuffer());
  } catch (e) {
    throw new BertError('NETWORK', `${label}: reading ${r.url || 'the response'}: ${msgOf(e)}`, { cause: e });
  }
}

// Every compile goes through here, so a bad module is a BertError naming where it came from.
async function compileBytes(src, label, compile = WebAssembly.compile) {
  try {
    return await compile(src);
  } catch (e) {
    // Not a CompileError: compileStreaming's body failed mid-stream.
    if (!(e instanceof WebAssembly.CompileError))
      throw new BertError('NETWORK', `${label}: reading ${src.url || 'the response'}: ${msgOf(e)}`, { cause: e });
    if (label === CUSTOM_WASM)
      throw new BertError('INVALID_ARGUMENT', `${label} is not a valid WebAssembly module: ${msgOf(e)}`, { cause: e });
    // (In Node the bundled module is a local file: not wasm there is a broken install.)
    if (!isNode && !isWasm(src))
      throw new BertError('NETWORK', `${label}: the server sent something that is not wasm (an HTML page in its place?)`, { cause: e });
    throw new BertError('INTERNAL', `${label} does not compile: ${msgOf(e)}`, { cause: e });
  }
}

// Bytes that start as a wasm binary (a Response from compileStreaming was sent as application/wasm).
function isWasm(src) {
  if (!(src instanceof ArrayBuffer || ArrayBuffer.isView(src))) return true;
  const b = src instanceof ArrayBuffer ? new Uint8Array(src) : new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  return WASM_MAGIC.every((x, i) => b[i] === x);
}

// A module built with pthreads imports its (shared) memory; the single-threaded one exports it.
const isThreadedModule = (mod) => WebAssembly.Module.imports(mod).some((i) => i.kind === 'memory');

async function getRuntime(opts, sizing = null) {
  const fetchFn = opts.fetch || globalThis.fetch;
  // The core's pool takes at most MAX_THREADS (src/threads.c); each thread is a Worker and a stack.
  if (opts.threads != null && !(Number.isInteger(opts.threads) && opts.threads >= 1 && opts.threads <= MAX_THREADS))
    throw invalid(`options.threads must be an integer from 1 to ${MAX_THREADS}, not ${quote(opts.threads)}`);
  let threads = opts.threads == null ? defaultThreads() : opts.threads;
  let variant;
  let custom = null;
  if (opts.wasm != null) {
    custom = await compileWasm(opts.wasm, fetchFn);
    variant = isThreadedModule(custom) ? 'threads' : 'single';
    if (variant === 'threads' && !threadsAvailable())
      throw new BertError('UNSUPPORTED', 'a pthreads wasm module needs SharedArrayBuffer (crossOriginIsolated)');
  } else {
    const want = opts.backend || 'auto';
    if (want === 'threads') {
      if (!threadsAvailable())
        throw new BertError('UNSUPPORTED', 'backend "threads" needs SharedArrayBuffer (crossOriginIsolated in browsers)');
      variant = 'threads';
    } else if (want === 'single') variant = 'single';
    else if (want === 'auto') variant = threads > 1 && threadsAvailable() ? 'threads' : 'single';
    else throw invalid(`options.backend must be "auto", "single" or "threads", not ${JSON.stringify(want)}`);
  }
  if (variant === 'single') threads = 1;
  // Memory: the default module's limits (read from its bytes); a custom module is taken as built
  // with web/CMakeLists.txt (4 MiB initial, 4 GiB maximum).
  let bytes = null, lim = null, capPages = 0;
  if (sizing) {
    if (!custom) { bytes = await moduleBytes(variant, fetchFn); lim = memoryLimits(bytes); }
    else if (variant === 'single')
      throw new BertError('UNSUPPORTED', 'memoryBudget with a custom single-threaded options.wasm module: its memory maximum is fixed at build time');
    const initial = lim ? lim.initial : (4 << 20) / WASM_PAGE;
    const modMax = lim && lim.maximum != null ? lim.maximum : MAX_PAGES;
    capPages = Math.max(initial, memoryCap(sizing.budget, initial * WASM_PAGE, sizing.files, opts,
      variant === 'threads' ? threads : 1));
    if (capPages >= modMax) capPages = 0; // no tighter than the build's own maximum
  }
  // One instance per variant (and per custom module) and memory maximum; the pool is sized by the
  // first load.
  let key = variant;
  if (custom) {
    if (!customIds.has(custom)) customIds.set(custom, ++nextCustomId);
    key = `custom#${customIds.get(custom)}`;
  }
  if (capPages) key += `:max=${capPages}`;
  let rt;
  for (;;) {
    let p = runtimes.get(key);
    if (!p) {
      if (capPages) dropSpare(); // a new budgeted instance replaces the idle one
      p = createRuntime(variant, custom, threads, fetchFn, capPages ? { pages: capPages, bytes, lim } : null);
      runtimes.set(key, p);
      p.catch(() => { if (runtimes.get(key) === p) runtimes.delete(key); });
    }
    rt = await p;
    if (rt.closed) throw shutdownError(); // shutdown() while the instance was being created
    if (!rt.released) { rt.promise = p; break; } // else dropped meanwhile (releaseIfIdle): a new one
  }
  rt.key = key;
  rt.pending++; // the caller's load; loadModel decrements it
  try {
    if (variant === 'threads') await ensureWorkers(rt, threads);
    if (rt.closed) throw shutdownError();
  } catch (e) {
    rt.pending--;
    releaseIfIdle(rt);
    throw e;
  }
  return { rt, threads: variant === 'threads' ? threads : 1 };
}

// A budgeted instance, or one closed by shutdown(), that holds no model and has no load in flight
// is dropped (its memory and pthread workers with it), e.g. after a failed load. (Unbudgeted
// instances are shared by every later load and stay.)
function releaseIfIdle(rt) {
  if (!(rt.maxBytes || rt.closed) || rt.models > 0 || rt.pending > 0 || rt.released) return;
  rt.released = true;
  instances.delete(rt);
  if (runtimes.get(rt.key) === rt.promise) runtimes.delete(rt.key);
  if (rt.M.PThread) rt.M.PThread.terminateAllThreads();
}

// When the last model of a budgeted instance is disposed, the instance is kept as the spare, for a
// load with the same budget (a model reloaded with its settings: no new memory, no new workers).
// There is one spare at most: a budgeted load that needs another instance drops it first, so
// loads with ever different budgets never pile up instances.
let spare = null;
function keepAsSpare(rt) {
  if (!rt.maxBytes || rt.closed) { releaseIfIdle(rt); return; }
  if (rt.models > 0 || rt.pending > 0 || rt.released || spare === rt) return;
  dropSpare();
  spare = rt;
}
function dropSpare() {
  const rt = spare;
  spare = null;
  if (rt) releaseIfIdle(rt); // (unless a load has taken it up again meanwhile)
}

// The core's pool starts threads - 1 pthreads per model and the forward pass then blocks waiting
// for them. A pthread can only start on a worker that has already loaded the wasm module, and
// loading needs this thread's event loop: so make sure enough loaded, idle workers exist before a
// model is created, or a blocked caller would wait forever.
async function ensureWorkers(rt, n) {
  const P = rt.M.PThread;
  if (!P) return;
  while (P.unusedWorkers.length < n) {
    try {
      P.allocateUnusedWorker();
    } catch (e) { // e.g. a SecurityError: a Content-Security-Policy without worker-src blob:
      throw new BertError('INTERNAL', `cannot start a pthread worker from ${PTHREAD_SCRIPT}: ${msgOf(e)}`, { cause: e });
    }
    const w = P.unusedWorkers[P.unusedWorkers.length - 1];
    await new Promise((resolve, reject) => {
      P.loadWasmModuleToWorker(w, resolve);
      guardWorkerStart(w, (e) => {
        P.unusedWorkers.splice(P.unusedWorkers.indexOf(w), 1);
        w.terminate();
        reject(e);
      });
    });
    if (isNode && w.unref) w.unref();
  }
}

// Emscripten answers a pthread worker's error event by rethrowing the event (an uncaught
// "[object Event]" and nothing else to go on). Until the worker has loaded, fail with a BertError
// that names its script instead; later errors go to Emscripten's handler as before.
function guardWorkerStart(w, fail) {
  const emscripten = w.onerror;
  w.onerror = (e) => {
    if (w.loaded) return emscripten(e);
    if (e && typeof e.preventDefault === 'function') e.preventDefault();
    const why = e && e.message ? e.message : 'the script did not load or run (is it served as JavaScript?)';
    fail(new BertError('INTERNAL', `a pthread worker could not start from ${PTHREAD_SCRIPT}: ${why}`, { cause: e }));
  };
}
const PTHREAD_SCRIPT = new URL('../dist/bertwasm-mt.worker.cjs', import.meta.url).href;

// Browsers: where the pthread workers start from. Emscripten starts them with
// new Worker(url-of-bertwasm-mt.worker.cjs), which fails when the server does not send .cjs as
// JavaScript (python -m http.server, many nginx/CDN defaults) or when the library is on another
// origin. So the script is fetched once: served as JavaScript from this origin, it is used as it
// is (a CSP with worker-src 'self' allows that); otherwise the workers start from a blob: URL of
// its text. Either way they import the glue from its real URL (mainScriptUrlOrBlob).
let pthreadScriptsP = null;
function pthreadScripts() {
  if (!pthreadScriptsP) {
    pthreadScriptsP = resolvePthreadScripts();
    pthreadScriptsP.catch(() => { pthreadScriptsP = null; });
  }
  return pthreadScriptsP;
}
async function resolvePthreadScripts() {
  const dist = new URL('../dist/', import.meta.url);
  const fail = (why, cause) => new BertError('NETWORK', `pthread worker script ${PTHREAD_SCRIPT}: ${why}`, cause ? { cause } : undefined);
  let r, text;
  try {
    r = await globalThis.fetch(PTHREAD_SCRIPT);
    if (!r.ok) { cancelBody(r); throw fail(`HTTP ${r.status}`); }
    text = await r.text(); // (a few KiB; read to the end, so no request shows as cancelled)
  } catch (e) {
    throw e instanceof BertError ? e : fail(msgOf(e), e);
  }
  const sameOrigin = typeof location === 'object' && location && new URL(PTHREAD_SCRIPT).origin === location.origin;
  const start = sameOrigin && /(java|ecma)script/i.test(r.headers.get('content-type') || '')
    ? PTHREAD_SCRIPT : URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
  return {
    locateFile: (file) => (file.endsWith('.worker.cjs') ? start : new URL(file, dist).href),
    mainScriptUrlOrBlob: new URL('bertwasm-mt.js', dist).href,
  };
}

async function createRuntime(variant, custom, threads, fetchFn, cap) {
  const era = epoch; // a shutdown() while this is being created closes it
  const base = variant === 'threads' ? 'bertwasm-mt' : 'bertwasm';
  const glue = variant === 'threads'
    ? await import('../dist/bertwasm-mt.js')
    : await import('../dist/bertwasm.js');
  let mod = custom;
  const settings = {};
  if (cap && variant === 'threads') {
    // The pthreads glue takes Module.wasmMemory instead of creating its own 4 GiB one (and hands
    // it to the workers); an imported memory may declare a smaller maximum than the module's.
    settings.wasmMemory = new WebAssembly.Memory({ initial: cap.lim ? cap.lim.initial : (4 << 20) / WASM_PAGE, maximum: cap.pages, shared: true });
  } else if (cap && cap.lim && !cap.lim.imported) {
    // The single-threaded module defines (and exports) its memory: compile a copy whose memory
    // section declares the derived maximum.
    mod = await compileBytes(withMemoryMaximum(cap.bytes, cap.lim, cap.pages), bundledWasm(variant));
  }
  // The bytes already read for the memory limits: compiled as they are, not downloaded again.
  if (!mod && cap && cap.bytes) mod = await compileBytes(cap.bytes, bundledWasm(variant));
  if (!mod) mod = await compileWasm(new URL(`../dist/${base}.wasm`, import.meta.url).href, fetchFn, bundledWasm(variant));
  const poolSize = variant === 'threads' ? threads : 0;
  if (variant === 'threads' && !isNode) Object.assign(settings, await pthreadScripts());
  // A module that does not fit the glue (a foreign options.wasm) fails in receive(), and a pthread
  // worker that cannot start never loads: the glue's own promise would never settle, so these
  // failures reject this one.
  let refuse;
  const refused = new Promise((_, reject) => { refuse = reject; });
  const moduleArg = { // becomes the Module object (M)
    ...settings,
    bertPoolSize: poolSize,
    instantiateWasm(imports, receive) {
      WebAssembly.instantiate(mod, imports).then((inst) => {
        receive(inst, mod); // starts loading the pool's workers (the glue has set Module.PThread)
        const P = moduleArg.PThread;
        if (P) for (const w of P.unusedWorkers) guardWorkerStart(w, (e) => { P.terminateAllThreads(); refuse(e); });
      }).catch((e) => refuse(
        new BertError(custom ? 'INVALID_ARGUMENT' : 'INTERNAL',
          `${custom ? 'options.wasm is not a bertwasm module' : 'cannot instantiate the wasm module'}: ${msgOf(e)}`, { cause: e })));
      return {};
    },
    // The library prints nothing (the glue's warnings, such as the one about blocking the main
    // thread, are about a choice the caller made knowingly).
    print: () => {},
    printErr: () => {},
  };
  const started = glue.default(moduleArg).catch((e) => { // (the pool's workers start in there)
    throw new BertError('INTERNAL', `cannot start the wasm runtime (${base}.js): ${msgOf(e)}`, { cause: e });
  });
  const M = await Promise.race([refused, started]);
  if (isNode && M.PThread) unrefWorkers(M);
  const rt = new Runtime(M, variant, poolSize, era);
  if (cap) rt.maxBytes = cap.pages * WASM_PAGE;
  rt.baseline = rt.memorySize();
  instances.add(rt);
  return rt;
}

// Node: pthread workers must not keep the process alive after the caller is done.
function unrefWorkers(M) {
  const P = M.PThread;
  for (const w of [...(P.unusedWorkers || []), ...(P.runningWorkers || [])]) if (w && w.unref) w.unref();
}

/**
 * Disposes every live model, stops the pthread workers and drops the wasm instances. Calls on a
 * disposed model reject with DISPOSED; loads in flight reject with BAD_STATE. A later load() starts
 * afresh.
 */
export function shutdown() {
  epoch++;
  spare = null;
  for (const rt of [...instances]) closeRuntime(rt);
  // Instances still being created: closed as soon as they exist (their loads reject).
  for (const p of runtimes.values()) p.then(closeRuntime, () => {});
  runtimes.clear();
}

// Models are freed while the pool's threads still run (freeing a model joins its threads: with the
// workers terminated first, that join would block this thread forever). A load in flight may hold
// threads too: the workers stop once it has cleaned up (loadModel -> releaseIfIdle).
function closeRuntime(rt) {
  for (const m of [...rt.live]) m._free(' (shutdown() was called)');
  for (const halt of rt.halts) halt(shutdownError());
  releaseIfIdle(rt);
}

// ---------------------------------------------------------------------------------------------
// Sources: a folder/URL base, "hf:org/name[@rev]", or explicit parts.

const SMALL_FILES = ['config.json', 'tokenizer.json', 'vocab.txt', 'tokenizer_config.json',
  'special_tokens_map.json', 'modules.json', '1_Pooling/config.json', 'sentence_bert_config.json'];

const isUrlLike = (s) => /^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-z]:[\\/]/i.test(s);

function resolveBase(source) {
  const s = source instanceof URL ? source.href : String(source); // a file: URL object is a path too
  const hf = /^hf:([\w.-]+\/[\w.-]+)(?:@([\w.\/-]+))?$/.exec(s);
  if (hf) return { kind: 'url', base: `https://huggingface.co/${hf[1]}/resolve/${hf[2] || 'main'}/` };
  if (isNode && (!isUrlLike(s) || s.startsWith('file:')))
    return { kind: 'path', base: s.startsWith('file:') ? nodeUrl.fileURLToPath(s) : s };
  const abs = typeof location === 'object' && location ? new URL(s, location.href).href : s;
  return { kind: 'url', base: ensureSlash(abs) };
}
const ensureSlash = (s) => (s.endsWith('/') ? s : s + '/');

function fetchOpts(opts) {
  const o = { signal: opts.signal };
  if (opts.headers) o.headers = opts.headers;
  return o;
}

async function doFetch(url, opts) {
  const f = opts.fetch || globalThis.fetch;
  if (!f) throw new BertError('UNSUPPORTED', 'no fetch() in this environment; pass options.fetch');
  try {
    return await f(url, fetchOpts(opts));
  } catch (e) {
    if (opts.signal && opts.signal.aborted) throw abortError(opts.signal);
    throw new BertError('NETWORK', `fetch ${url}: ${msgOf(e)}`, { cause: e });
  }
}

async function readSmallFromUrl(url, opts, required, name = fileName(url)) {
  const r = await doFetch(url, opts);
  if (!r.ok) {
    if (!required && r.status === 404) { cancelBody(r); return null; }
    cancelBody(r);
    if (required && r.status === 404) throw new BertError('BAD_MODEL', `${url}: not found (HTTP 404)`);
    throw new BertError('NETWORK', `${url}: HTTP ${r.status}`);
  }
  let bytes;
  try {
    bytes = new Uint8Array(await r.arrayBuffer());
  } catch (e) {
    if (opts.signal && opts.signal.aborted) throw abortError(opts.signal);
    throw new BertError('NETWORK', `${url}: ${msgOf(e)}`, { cause: e });
  }
  if (looksLikeHtml(bytes, r.headers.get('content-type'), name)) {
    if (!required) return null; // the site's page where an optional file is missing: as a 404
    throw htmlError(url, name);
  }
  return bytes;
}

// Servers with a single-page-app fallback answer every unknown path with 200 and their HTML page.
// JSON never starts with '<'; other files must also be declared text/html or open like a page.
const PAGE_START = /^<(!doctype html|html|head|body|!--)/i;
function looksLikeHtml(bytes, contentType, name) {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart(); // (the BOM is dropped)
  if (!head.startsWith('<')) return false;
  return name.endsWith('.json') || /text\/html/i.test(contentType || '') || PAGE_START.test(head);
}
const htmlError = (url, name) =>
  new BertError('BAD_MODEL', `${url}: got an HTML page instead of ${name} (is the model path right?)`);
const fileName = (url) => String(url).split(/[?#]/)[0].split('/').pop() || String(url);
function cancelBody(r) { try { if (r.body) r.body.cancel().catch(() => {}); } catch { /* ignore */ } }

async function readSmallFromPath(path, required) {
  try {
    return new Uint8Array(await nodeFs.promises.readFile(path));
  } catch (e) {
    if (e && e.code === 'ENOENT' && !required) return null;
    throw fileError(path, e);
  }
}

// A local file that cannot be read: a missing file is a BAD_MODEL (as an HTTP 404), a path through a
// file an INVALID_ARGUMENT; not NETWORK, which is for fetches.
function fileError(path, e) {
  const code = e && e.code;
  if (code === 'ENOENT') return new BertError('BAD_MODEL', `${path}: not found`, { cause: e });
  if (code === 'ENOTDIR') return new BertError('INVALID_ARGUMENT', `${path}: a part of the path is a file, not a folder`, { cause: e });
  return new BertError('BAD_MODEL', `${path}: cannot read: ${msgOf(e)}`, { cause: e });
}

const enc = new TextEncoder();
async function partToBytes(v, name, opts) {
  if (v == null) return null;
  if (typeof v === 'string') return enc.encode(v);
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof URL) {
    if (isNode && v.protocol === 'file:') return readSmallFromPath(nodeUrl.fileURLToPath(v), true);
    return readSmallFromUrl(v.href, opts, true, name);
  }
  if (typeof Response !== 'undefined' && v instanceof Response) return new Uint8Array(await v.arrayBuffer());
  if (typeof Blob !== 'undefined' && v instanceof Blob) return new Uint8Array(await v.arrayBuffer());
  if (typeof v === 'object') return enc.encode(JSON.stringify(v));
  throw invalid(`${name}: unsupported type ${typeof v}`);
}

// -> { files: [[name, bytes, where it came from (URL, path) or null]], weights: weight source,
//      where: description }
async function gatherSource(source, opts, progress) {
  if (isParts(source)) {
    const files = [];
    const add = async (name, v) => {
      const b = await partToBytes(v, name, opts);
      if (b) files.push([name, b, v instanceof URL ? v.href : null]);
    };
    if (source.config == null) throw invalid('source.config is required');
    if (source.weights == null) throw invalid('source.weights is required');
    await add('config.json', source.config);
    await add('tokenizer.json', source.tokenizer);
    await add('vocab.txt', source.vocab);
    for (const [name, v] of Object.entries(source.files || {})) {
      if (name === 'config.json') continue;
      await add(name, v);
    }
    progress({ phase: 'files', loaded: files.length, total: files.length });
    return { files, weights: source.weights, where: 'explicit parts' };
  }
  if (typeof source !== 'string' && !(source instanceof URL)) throw invalid('load(source): source must be a URL/path string, a URL, or {config, tokenizer, weights}');
  const { kind, base } = resolveBase(source);
  if (kind === 'path') {
    const st = await nodeFs.promises.stat(base).catch(() => null); // missing: config.json says so
    if (st && !st.isDirectory()) throw invalid(`${base} is a file, not a model folder (give its folder, or the parts)`);
  }
  const from = (name) => (kind === 'path' ? nodePath.join(base, name) : base + name);
  const get = kind === 'path'
    ? (name, req) => readSmallFromPath(from(name), req)
    : (name, req) => readSmallFromUrl(from(name), opts, req, name);
  const total = SMALL_FILES.length;
  let done = 0;
  const tick = () => progress({ phase: 'files', loaded: ++done, total });
  // All optional files in parallel; vocab.txt only when tokenizer.json is absent.
  const results = await Promise.all(SMALL_FILES.map(async (name) => {
    if (name === 'vocab.txt') return null;
    const b = await get(name, name === 'config.json');
    tick();
    return b;
  }));
  if (!results[SMALL_FILES.indexOf('tokenizer.json')]) {
    results[SMALL_FILES.indexOf('vocab.txt')] = await get('vocab.txt', false);
  }
  tick();
  if (!results[1] && !results[2])
    throw new BertError('BAD_MODEL', `${base}: no tokenizer: neither tokenizer.json nor vocab.txt found`);
  const files = [];
  SMALL_FILES.forEach((name, i) => { if (results[i]) files.push([name, results[i], from(name)]); });
  const weights = kind === 'path' ? { [LOCAL_FILE]: nodePath.join(base, 'model.safetensors') } : base + 'model.safetensors';
  return { files, weights, where: base };
}

// A weight source as a pull reader: { read(): Promise<Uint8Array|null>, cancel(), size }; a local
// file also has readInto(dst) and path.
const NODE_READ = 1 << 20;
// Marks the weights of a folder read from disk. Not `.path`: an fs.ReadStream has one too, and
// must be read as the stream it is (from its position).
const LOCAL_FILE = Symbol('local file');
async function openWeights(w, opts) {
  if (w && w[LOCAL_FILE]) return openFile(w[LOCAL_FILE]);
  if (typeof w === 'string' || w instanceof URL) {
    const s = String(w);
    if (isNode && (!isUrlLike(s) || s.startsWith('file:'))) return openFile(s.startsWith('file:') ? nodeUrl.fileURLToPath(s) : s);
    const r = await doFetch(s, opts);
    if (!r.ok) {
      cancelBody(r);
      throw new BertError(r.status === 404 ? 'BAD_MODEL' : 'NETWORK', `${s}: HTTP ${r.status}`);
    }
    return fromResponse(r, s);
  }
  if (typeof Response !== 'undefined' && w instanceof Response) {
    if (!w.ok) throw new BertError('NETWORK', `weights: HTTP ${w.status}`);
    return fromResponse(w, w.url || null);
  }
  if (typeof ReadableStream !== 'undefined' && w instanceof ReadableStream) return fromStream(w, null);
  if (typeof Blob !== 'undefined' && w instanceof Blob) return fromStream(w.stream(), w.size);
  if (w instanceof ArrayBuffer || ArrayBuffer.isView(w)) {
    const u8 = w instanceof ArrayBuffer ? new Uint8Array(w) : new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
    let off = 0;
    return { size: u8.length, async read() { if (off >= u8.length) return null; const c = u8.subarray(off, off + NODE_READ); off += c.length; return c; }, cancel() { off = u8.length; } };
  }
  if (w && typeof w[Symbol.asyncIterator] === 'function') { // also a Node Readable (fs.createReadStream)
    const it = w[Symbol.asyncIterator]();
    return {
      size: null,
      async read() { const r = await it.next(); return r.done ? null : toU8(r.value); },
      // Never awaited, never throws: a generator's return() waits for its pending next().
      cancel() { if (it.return) Promise.resolve().then(() => it.return()).catch(() => {}); },
    };
  }
  throw invalid('weights must be a URL, path (Node), Response, ReadableStream, Blob, ArrayBuffer, Uint8Array or an async iterable of chunks');
}
const toU8 = (v) => (v instanceof Uint8Array ? v : ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v));

// A fetched weight file (url: null if unknown): an HTML page in its place (an SPA fallback) fails
// at its first chunk.
function fromResponse(r, url) {
  const len = Number(r.headers.get('content-length'));
  const enc = r.headers.get('content-encoding');
  if (!r.body) throw new BertError('NETWORK', 'weights response has no body');
  const reader = fromStream(r.body, Number.isFinite(len) && len > 0 && !enc ? len : null);
  const type = r.headers.get('content-type');
  const name = url ? fileName(url) : 'the weights';
  const read = reader.read;
  let first = true;
  reader.read = async () => {
    const chunk = await read();
    if (first && chunk) {
      first = false;
      if (looksLikeHtml(chunk, type, name)) { reader.cancel(); throw htmlError(url || 'weights', name); }
    }
    return chunk;
  };
  reader.source = url || undefined;
  return reader;
}

// An error about a file, prefixed with where the file came from (when known). A message that
// already starts with the file's name ("vocab.txt: empty") gets its location in place of the name.
function located(e, from, name) {
  if (!from || !(e instanceof BertError) || e.message.startsWith(from) || e.message.startsWith('options')) return e;
  const named = name && e.message.startsWith(name + ':');
  e.message = named ? from + e.message.slice(name.length) : `${from}: ${e.message}`;
  return e;
}

function fromStream(stream, size) {
  const reader = stream.getReader();
  return {
    size,
    async read() { const r = await reader.read(); return r.done ? null : toU8(r.value); },
    cancel(reason) { return reader.cancel(reason).catch(() => {}); },
  };
}

async function openFile(path) {
  let fh;
  try {
    fh = await nodeFs.promises.open(path, 'r');
  } catch (e) {
    throw fileError(path, e);
  }
  const st = await fh.stat();
  if (st.isDirectory()) {
    await fh.close().catch(() => {});
    throw invalid(`${path} is a folder, not the weights file`);
  }
  const size = st.size;
  let buf = null; // read(): one reused window, made on first use: never the whole file
  let closed = false;
  const close = async () => { if (!closed) { closed = true; await fh.close().catch(() => {}); } };
  return {
    size,
    path,
    // Fast path for loadInto: a synchronous read straight into a view on wasm memory (like the
    // WASI CLI). An async read would cost a thread-pool round trip and a JS copy per chunk, and
    // its target view could be detached by a memory.grow while it is pending.
    readInto(dst) {
      if (closed) return 0;
      return nodeFs.readSync(fh.fd, dst, 0, dst.length, null);
    },
    async read() {
      if (closed) return null;
      if (!buf) buf = new Uint8Array(NODE_READ);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) { await close(); return null; }
      return buf.subarray(0, bytesRead);
    },
    cancel: close,
  };
}

// ---------------------------------------------------------------------------------------------
// load()

/**
 * Loads a model. See index.d.ts for the options.
 * @returns {Promise<Model>}
 */
export async function load(source, options = {}) {
  // One signal for everything this load starts (the small files are fetched in parallel, so one
  // failing leaves the others in flight): the caller's signal aborts it, and so does the end of
  // the load, whichever way it ends. From then on onProgress is never called again.
  const userSignal = options ? options.signal : undefined;
  const ended = new AbortController();
  const follow = () => ended.abort(userSignal.reason);
  const isSignal = userSignal != null && typeof userSignal.addEventListener === 'function';
  try {
    // inside the try: a caller's weights stream is cancelled on this error too
    if (userSignal != null && !isSignal) throw invalid('options.signal must be an AbortSignal');
    if (isSignal) {
      if (userSignal.aborted) follow();
      else userSignal.addEventListener('abort', follow, { once: true });
    }
    return await loadModel(source, { ...options, signal: ended.signal });
  } catch (e) {
    // A stream the caller handed us that was never read must not be left dangling.
    const w = source && typeof source === 'object' ? source.weights : null;
    try {
      if (typeof ReadableStream !== 'undefined' && w instanceof ReadableStream && !w.locked) w.cancel(e).catch(() => {});
      else if (typeof Response !== 'undefined' && w instanceof Response && w.body && !w.body.locked) w.body.cancel(e).catch(() => {});
    } catch { /* best effort */ }
    throw e;
  } finally {
    if (isSignal) userSignal.removeEventListener('abort', follow);
    ended.abort(new BertError('ABORTED', 'load() has settled')); // fetches still in flight
  }
}

async function loadModel(source, options) {
  const opts = { ...options };
  const signal = opts.signal;
  if (signal && signal.aborted) throw abortError(signal);
  const dtype = opts.dtype == null ? 'q8' : opts.dtype;
  if (!Object.hasOwn(DTYPES, dtype)) throw invalid(`options.dtype must be one of q8, q4, f16, f32 (got ${opts.dtype})`);
  const edtype = opts.embeddingDtype == null ? null : opts.embeddingDtype;
  if (edtype != null && !Object.hasOwn(DTYPES, edtype)) throw invalid(`options.embeddingDtype must be one of q8, q4, f16, f32 (got ${edtype})`);
  let pooling = -1;
  if (opts.pooling != null) {
    // Own keys only: `in` would take 'toString' or '__proto__' for a pooling mode.
    if (!Object.hasOwn(POOLINGS, opts.pooling))
      throw invalid(`options.pooling must be one of ${Object.keys(POOLINGS).join(', ')} (got ${quote(opts.pooling)})`);
    pooling = POOLINGS[opts.pooling];
  }
  const normalize = opts.normalize == null ? -1 : opts.normalize ? 1 : 0;
  checkInt(opts, 'maxTokens', 2, MAX_TOKENS_LIMIT, "0 for the model's maximum");
  checkInt(opts, 'maxBatch', 1, MAX_BATCH_LIMIT, `0 for the default, ${DEFAULT_BATCH}`);
  if (opts.memoryBudget != null && !(Number.isFinite(opts.memoryBudget) && opts.memoryBudget >= 0))
    throw invalid(`options.memoryBudget must be a non-negative number of bytes (got ${quote(opts.memoryBudget)})`);
  const onProgress = typeof opts.onProgress === 'function' ? opts.onProgress : null;
  // Silent once the signal fired: after an abort, and after load() settled (see load).
  const progress = (e) => {
    if (!onProgress || signal.aborted) return;
    try { onProgress(e); } catch { /* the caller's bug, not ours */ }
  };

  // With a budget the instance's memory maximum depends on the small files (config.json,
  // tokenizer size): read them first.
  const budgeted = opts.memoryBudget > 0;
  const era = epoch; // a shutdown() from here on ends this load (BAD_STATE)
  const current = () => stopIfEnded(signal, era);
  let rt, threads, files, weights, where;
  if (budgeted) {
    ({ files, weights, where } = await gatherSource(source, opts, progress));
    current();
    ({ rt, threads } = await getRuntime(opts, { budget: opts.memoryBudget, files }));
  } else {
    ({ rt, threads } = await getRuntime(opts));
  }
  try {
    current(); // then rt belongs to this epoch: loadInto watches rt.closed
    if (!budgeted) ({ files, weights, where } = await gatherSource(source, opts, progress));
    return await loadInto(rt, threads, files, weights, where, opts, dtype, edtype, pooling, normalize, progress);
  } finally {
    rt.pending--;
    releaseIfIdle(rt);
  }
}

// Ends a load whose signal fired (ABORTED) or that shutdown() overtook (BAD_STATE): `era` is the
// epoch it (or its instance) began in.
function stopIfEnded(signal, era) {
  if (signal && signal.aborted) throw abortError(signal);
  if (epoch !== era) throw shutdownError();
}

async function loadInto(rt, threads, files, weights, where, opts, dtype, edtype, pooling, normalize, progress) {
  const signal = opts.signal;

  const M = rt.M;
  let loader = M._bertw_loader_new(DTYPES[dtype], edtype == null ? -1 : DTYPES[edtype],
    opts.memoryBudget || 0, opts.maxTokens | 0, opts.maxBatch | 0, pooling, normalize, threads) >>> 0;
  if (!loader) throw new BertError('OUT_OF_MEMORY', 'cannot allocate the loader');
  let reader = null;
  let work = 0, workSize = 0; // this model's token/output buffers, allocated at plan time, freed with it
  // An abort or shutdown() ends the load at its next step, and at once a read that waits for data
  // (a stalled stream or iterator).
  let halt;
  const halted = new Promise((_, reject) => { halt = reject; });
  halted.catch(() => {});
  const onAbort = () => {
    halt(abortError(signal));
    if (reader) { try { reader.cancel(signal.reason); } catch { /* ignore */ } }
  };
  if (signal) signal.addEventListener('abort', onAbort, { once: true });
  rt.halts.add(halt);
  const checkpoint = () => stopIfEnded(signal, rt.epoch); // (rt.closed, with the abort first)
  const loaderError = (s) => {
    const code = rt.statusName(s);
    const extra = {};
    if (M._bert_loader_has_plan(loader)) extra.plan = readLoaderPlan(rt, loader);
    const msg = rt.cstr(M._bert_loader_error(loader)) || code;
    return new BertError(code, paramsMessage(msg) || msg, extra);
  };
  try {
    // Small files, config.json first (gatherSource keeps that order).
    for (const [name, bytes, from] of files) {
      const nameBytes = enc.encode(name + '\0');
      // tokenizer.json (~700 KB) exceeds the text window: it gets a transient block, freed at
      // once (the core keeps only its own tables, which are in the plan's vocab part).
      const big = nameBytes.length + bytes.length > TEXT_CAP;
      const buf = big ? M._malloc(nameBytes.length + bytes.length) >>> 0 : rt.text;
      if (!buf) throw new BertError('OUT_OF_MEMORY', `cannot stage ${name} (${bytes.length} bytes)`);
      let s;
      try {
        const u8 = rt.u8;
        u8.set(nameBytes, buf);
        u8.set(bytes, buf + nameBytes.length);
        s = M._bert_loader_add_file(loader, buf, buf + nameBytes.length, bytes.length);
      } finally {
        if (big) M._free(buf);
      }
      if (s) throw located(loaderError(s), from, name);
    }

    checkpoint();
    reader = await openWeights(weights, opts);
    checkpoint();
    let total = reader.size || 0;
    let loaded = 0;
    let plan = null, planSent = false;
    let cfgDim = 0;
    try { cfgDim = JSON.parse(new TextDecoder().decode(files[0][1])).hidden_size | 0; } catch { /* the core decides */ }
    progress({ phase: 'weights', loaded: 0, total, wasmMemory: rt.memorySize() });
    // Hands n bytes at the text window to the core; after the header, reserves the JS scratch.
    const consume = async (n) => {
      const s = M._bert_loader_write(loader, rt.text, n);
      if (s) {
        // Over budget (or malformed header): stop pulling at once.
        await reader.cancel();
        throw badWeights(loaderError(s));
      }
      if (!plan && M._bert_loader_has_plan(loader)) {
        // The core has just made its one arena allocation; reserve the JS scratch now too, so
        // that all growth happens before the first weight byte.
        plan = readLoaderPlan(rt, loader);
        total = plan.fileSize;
        workSize = scratchLayout(plan.maxTokens, plan.maxBatch, cfgDim, 0, opts.pooling === 'none').end;
        work = M._malloc(workSize) >>> 0;
        if (!work) { await reader.cancel(); throw new BertError('OUT_OF_MEMORY', `cannot allocate ${workSize} bytes of token buffers`); }
      }
    };
    const report = (n) => {
      const first = plan && !planSent;
      if (first) planSent = true;
      loaded += n;
      if (first) progress({ phase: 'plan', loaded, total, plan, wasmMemory: rt.memorySize() });
      progress({ phase: 'weights', loaded: Math.min(loaded, total || loaded), total: total || loaded, wasmMemory: rt.memorySize() });
    };
    // A malformed weight file: say which one. The core reports some small-file errors (an empty
    // vocab.txt) only when the weights are written: those name the small file.
    const badWeights = (e) => {
      if (e.code !== 'BAD_MODEL') return e;
      const small = files.find(([name]) => e.message.startsWith(name + ':'));
      return small ? located(e, small[2], small[0]) : located(e, reader.path || reader.source);
    };
    const readFail = (e) => {
      if (signal && signal.aborted) return abortError(signal);
      if (e instanceof BertError) return e; // from halted
      if (reader.path) return fileError(reader.path, e);
      return new BertError('NETWORK', `reading the weights from ${where}: ${msgOf(e)}`, { cause: e });
    };
    if (reader.readInto) {
      // Node file: window-sized synchronous reads into wasm memory; every NODE_READ bytes a
      // progress event and a turn of the event loop (abort signals, other work).
      let pending = 0;
      for (;;) {
        let n;
        try {
          n = reader.readInto(new Uint8Array(rt.buffer, rt.text, TEXT_CAP)); // fresh view: memory may have grown
        } catch (e) {
          throw readFail(e);
        }
        if (n > 0) { await consume(n); pending += n; }
        if (pending >= NODE_READ || (n === 0 && pending > 0)) {
          report(pending);
          pending = 0;
          await new Promise((r) => setImmediate(r));
        }
        checkpoint();
        if (n === 0) { await reader.cancel(); break; }
      }
    } else {
      for (;;) {
        let chunk;
        try {
          chunk = await Promise.race([reader.read(), halted]);
        } catch (e) {
          throw readFail(e);
        }
        checkpoint();
        if (!chunk) break;
        for (let off = 0; off < chunk.length; off += TEXT_CAP) {
          const part = chunk.subarray(off, off + TEXT_CAP);
          rt.u8.set(part, rt.text);
          await consume(part.length);
        }
        report(chunk.length);
      }
    }
    checkpoint();
    const st = rt.misc;
    const model = M._bertw_loader_finish(loader, st) >>> 0;
    const status = rt.i32[st >>> 2];
    if (!model) throw badWeights(loaderError(status || 2));
    M._bert_loader_free(loader);
    loader = 0;
    let m;
    try {
      m = new Model(rt, model, threads, files, work, workSize);
      work = 0;
    } catch (e) {
      M._bert_model_free(model);
      throw e;
    }
    progress({ phase: 'done', loaded: total || loaded, total: total || loaded, wasmMemory: rt.memorySize() });
    if (m.disposed) throw shutdownError(); // onProgress called shutdown()
    return m;
  } catch (e) {
    if (reader) await Promise.resolve(reader.cancel()).catch(() => {});
    if (signal && signal.aborted && !(e instanceof BertError && e.code === 'ABORTED')) throw abortError(signal);
    throw e;
  } finally {
    if (work) M._free(work);
    if (loader) M._bert_loader_free(loader);
    if (signal) signal.removeEventListener('abort', onAbort);
    rt.halts.delete(halt);
  }
}

// The core reports bad load parameters as "params: ..." in its C names, and those it checks in
// bert_loader_init only when the first file is added: name the options instead (and never that
// file, see located).
const PARAM_NAMES = [[/\bmax_tokens\b/g, 'options.maxTokens'], [/\bmax_batch\b/g, 'options.maxBatch'],
  [/\bembd_type\b/g, 'options.embeddingDtype'], [/\bwtype\b/g, 'options.dtype'],
  [/\bpooling\b/g, 'options.pooling'], [/\bnormalize\b/g, 'options.normalize']];
function paramsMessage(msg) {
  if (!msg.startsWith('params: ')) return null;
  let m = msg.slice('params: '.length);
  for (const [re, name] of PARAM_NAMES) m = m.replace(re, name);
  if (/ tokens x \d+ sequences /.test(m)) return `options.maxTokens x options.maxBatch: ${m}`;
  return m.startsWith('options.') ? m : `options: ${m}`;
}

function planFromDoubles(d) {
  return {
    weights: d[0], vocab: d[1], activations: d[2], staging: d[3], total: d[4],
    fileSize: d[5], headerSize: d[6], maxTokens: d[7], maxBatch: d[8],
    dtype: DTYPE_NAMES[d[9]] || String(d[9]), embeddingDtype: DTYPE_NAMES[d[10]] || String(d[10]),
  };
}
function readLoaderPlan(rt, loader) {
  const p = rt.misc;
  if (rt.M._bertw_loader_plan(loader, p)) return null;
  return planFromDoubles(rt.readDoubles(p, 11));
}

// ---------------------------------------------------------------------------------------------
// Text pieces: cut points where BERT's pre-tokenizer splits anyway.

const CUT_RE = /[\t\n\r\p{Zs}!-\/:-@\[-`{-~]/u;
function nextPiece(s, start) {
  let end = Math.min(s.length, start + PIECE_CHARS);
  if (end < s.length) {
    const c = s.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--;
    const lo = start + ((end - start) >> 1);
    for (let k = end - 1; k >= lo; k--) {
      if (CUT_RE.test(s[k])) { end = k + 1; break; }
    }
  }
  return end;
}

// UTF-8 byte offsets within s -> UTF-16 indices (offsets: flat [b0, e0, b1, e1, ...]).
function byteToUtf16(s, offs) {
  const order = Array.from(offs.keys()).sort((a, b) => offs[a] - offs[b]);
  const out = new Array(offs.length);
  let bytes = 0, i = 0;
  for (const k of order) {
    const target = offs[k];
    while (bytes < target && i < s.length) {
      const c = s.charCodeAt(i);
      if (c < 0x80) { bytes += 1; i += 1; }
      else if (c < 0x800) { bytes += 2; i += 1; }
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { bytes += 4; i += 2; }
      else { bytes += 3; i += 1; }
    }
    out[k] = i;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Model

// Scratch layout after the text window + misc (byte offsets): ids and type ids (T*B each), lens
// (B), offsets / piece ids (2*T), encoding info, outputs (pooled rows, logits, or T x dim tokens).
function scratchLayout(T, B, dim, labels, poolingNone) {
  const outFloats = Math.max(B * Math.max(dim, labels || 1), 2 * T, poolingNone ? T * dim : 0);
  const L = { ids: 0, types: 4 * T * B, lens: 8 * T * B, offs: 8 * T * B + 4 * B };
  L.info = L.offs + 8 * T;
  L.out = L.info + 16;
  L.end = L.out + 4 * outFloats;
  return L;
}

const DISPOSE = Symbol.dispose || Symbol.for('nodejs.dispose');

export class Model {
  /** @internal */
  constructor(rt, ptr, threads, files, work, workSize) {
    const M = rt.M;
    // Internals are non-enumerable (see hideInternals); the public fields are plan, dim, config,
    // backend and threads.
    hideInternals(this, {
      _rt: rt, _ptr: ptr, _tail: Promise.resolve(), _disposed: false,
      _why: '', // appended to DISPOSED messages (set by shutdown())
      _hp: null, _lay: null, _work: 0,
    });
    const misc = rt.misc;
    M._bertw_model_info(ptr, misc);
    const h = rt.readDoubles(misc, 13);
    this._hp = {
      nVocab: h[0], maxPositions: h[1], typeVocab: h[2], hiddenSize: h[3], heads: h[4], layers: h[5],
      intermediateSize: h[6], labels: h[7], maxTokens: h[8], maxBatch: h[9], pooling: h[10], normalize: h[11],
      layerNormEps: h[12],
    };
    if (M._bertw_model_plan(ptr, misc)) throw new BertError('BAD_STATE', 'model has no plan');
    this.plan = planFromDoubles(rt.readDoubles(misc, 11));
    const dn = M._bertw_model_describe(ptr, rt.text, TEXT_CAP) >>> 0;
    this.plan.description = dn ? rt.cstr(rt.text) : '';
    this.dim = M._bert_model_dim(ptr);
    let cfg = {};
    const cfgFile = files.find(([name]) => name === 'config.json');
    try { cfg = JSON.parse(new TextDecoder().decode(cfgFile[1])); } catch { /* the core accepted it */ }
    const T = this._hp.maxTokens, B = this._hp.maxBatch;
    this.config = {
      ...cfg,
      dim: this.dim,
      maxTokens: T,
      maxBatch: B,
      pooling: POOLING_NAMES[this._hp.pooling] || String(this._hp.pooling),
      normalize: !!this._hp.normalize,
      numLabels: this._hp.labels,
      dtype: this.plan.dtype,
      embeddingDtype: this.plan.embeddingDtype,
    };
    this.backend = rt.variant === 'threads' ? 'wasm-simd-threads' : 'wasm-simd';
    this.threads = threads;
    this._lay = scratchLayout(T, B, this.dim, this._hp.labels, this._hp.pooling === 0);
    if (this._lay.end > workSize) { // a classifier head or 'none' pooling from the files
      const bigger = M._malloc(this._lay.end) >>> 0;
      if (!bigger) throw new BertError('OUT_OF_MEMORY', `cannot allocate ${this._lay.end} bytes of token buffers`);
      M._free(work); // (on a throw above, load() still owns and frees the old block)
      work = bigger;
    }
    this._work = work;
    rt.live.add(this);
  }

  get disposed() { return this._disposed; }

  /** Memory in bytes: the core's plan, the wasm linear memory now, and the JS scratch block. */
  get memory() {
    const rt = this._rt;
    return { plan: this.plan.total, wasmMemory: rt.memorySize(), scratch: rt.scratchSize + this._lay.end,
      wasmMemoryMax: rt.maxBytes || null };
  }

  _run(fn) {
    if (this._disposed) return Promise.reject(disposedError(this._why));
    const p = this._tail.then(() => {
      if (this._disposed) throw disposedError(this._why);
      return fn();
    });
    this._tail = p.then(() => {}, () => {});
    return p;
  }

  _err(s) {
    const rt = this._rt;
    const code = rt.statusName(s);
    return new BertError(code, rt.cstr(rt.M._bert_model_error(this._ptr)) || code);
  }

  // Tokenizes text into ids at dst (cap tokens). Returns { n, untruncated, offsets? }.
  // stopEarly: stop reading pieces once the result is full (embedding).
  _tok(text, dstIds, dstTypes, cap, wantOffsets, stopEarly) {
    const rt = this._rt, M = rt.M, w = this._work, L = this._lay;
    const T = this._hp.maxTokens;
    const info = w + L.info;
    const nb = rt.writeText(text, rt.text, TEXT_CAP);
    if (nb >= 0) {
      const offs = wantOffsets ? w + L.offs : 0;
      const s = M._bert_tokenize(this._ptr, rt.text, nb, T, dstIds, dstTypes, offs, cap, info);
      if (s) throw this._err(s);
      const i32 = rt.i32;
      const n = i32[info >>> 2], untr = i32[(info >>> 2) + 1];
      let offsets = null;
      if (wantOffsets) offsets = byteToUtf16(text, Array.from(i32.subarray(offs >>> 2, (offs >>> 2) + 2 * n)));
      return { n, untruncated: untr, offsets };
    }
    // Long text: pieces. Content tokens of each piece = its ids without [CLS] ... [SEP].
    const tmp = w + L.offs; // 2*T ints: ids of one piece
    const ids = [], offsets = [];
    let untr = 2, cls = -1, sep = -1, full = false;
    for (let start = 0; start < text.length;) {
      const end = nextPiece(text, start);
      const piece = text.slice(start, end);
      const pb = rt.writeText(piece, rt.text, TEXT_CAP);
      if (pb < 0) throw new BertError('INVALID_ARGUMENT', 'internal: text piece does not fit'); // cannot happen
      // Piece ids go to tmp, piece offsets to the out region (sized for 2*T ints).
      const offPtr = wantOffsets && !full ? w + L.out : 0;
      const pcap = T; // the core wants room for the truncated result even when we only count
      const s = M._bert_tokenize(this._ptr, rt.text, pb, T, tmp, 0, offPtr, pcap, info);
      if (s) throw this._err(s);
      const i32 = rt.i32;
      const n = i32[info >>> 2];
      untr += i32[(info >>> 2) + 1] - 2;
      if (n >= 2 && cls < 0) { cls = i32[tmp >>> 2]; sep = i32[(tmp >>> 2) + n - 1]; }
      if (!full) {
        const content = i32.subarray((tmp >>> 2) + 1, (tmp >>> 2) + Math.max(1, n - 1));
        let byteOffs = null;
        if (offPtr) byteOffs = Array.from(i32.subarray((offPtr >>> 2) + 2, (offPtr >>> 2) + 2 * Math.max(1, n - 1)));
        const room = cap - 2 - ids.length;
        const take = Math.min(room, content.length);
        for (let k = 0; k < take; k++) ids.push(content[k]);
        if (byteOffs) {
          const u = byteToUtf16(piece, byteOffs.slice(0, 2 * take));
          for (let k = 0; k < 2 * take; k++) offsets.push(u[k] + start);
        }
        if (ids.length >= cap - 2 && (untr > ids.length + 2 || end < text.length)) full = true;
      }
      if (full && stopEarly) break;
      start = end;
    }
    if (cls < 0) { // only whitespace: ask the core for the ids of an empty text
      const s = M._bert_tokenize(this._ptr, rt.text, 0, T, tmp, 0, 0, 2, info);
      if (s) throw this._err(s);
      cls = rt.i32[tmp >>> 2]; sep = rt.i32[(tmp >>> 2) + 1];
    }
    const all = [cls, ...ids, sep];
    const i32 = rt.i32;
    i32.set(all, dstIds >>> 2);
    if (dstTypes) i32.fill(0, dstTypes >>> 2, (dstTypes >>> 2) + all.length);
    return { n: all.length, untruncated: untr, offsets: wantOffsets ? [0, 0, ...offsets, 0, 0] : null };
  }

  _embedSync(texts) {
    const rt = this._rt, M = rt.M, w = this._work, L = this._lay;
    const T = this._hp.maxTokens, B = this._hp.maxBatch, dim = this.dim;
    if (this._hp.pooling === 0) return this._embedTokensSync(texts);
    const result = new Float32Array(texts.length * dim);
    let b = 0, pos = 0, first = 0;
    const flush = () => {
      if (!b) return;
      const s = M._bert_encode(this._ptr, w + L.ids, w + L.types, w + L.lens, b, w + L.out, b * dim);
      if (s) throw this._err(s);
      result.set(new Float32Array(rt.buffer, w + L.out, b * dim), first * dim);
      first += b; b = 0; pos = 0;
    };
    for (let i = 0; i < texts.length; i++) {
      const t = texts[i];
      if (typeof t !== 'string') throw invalid(`embed: texts[${i}] is not a string`);
      const r = this._tok(t, w + L.ids + 4 * pos, w + L.types + 4 * pos, T, false, true);
      rt.i32[(w + L.lens >>> 2) + b] = r.n;
      pos += r.n; b++;
      if (b === B) flush();
    }
    flush();
    return result;
  }

  _embedTokensSync(texts) {
    const rt = this._rt, M = rt.M, w = this._work, L = this._lay;
    const T = this._hp.maxTokens, dim = this.dim;
    return texts.map((t, i) => {
      if (typeof t !== 'string') throw invalid(`embed: texts[${i}] is not a string`);
      const r = this._tok(t, w + L.ids, w + L.types, T, false, true);
      rt.i32[w + L.lens >>> 2] = r.n;
      const s = M._bert_encode(this._ptr, w + L.ids, w + L.types, w + L.lens, 1, w + L.out, r.n * dim);
      if (s) throw this._err(s);
      return new Float32Array(rt.buffer, w + L.out, r.n * dim).slice();
    });
  }

  /**
   * Embeds one text (-> Float32Array) or many (-> Float32Array[]; views on one buffer).
   * With pooling 'none' each result holds nTokens x dim floats.
   */
  embed(input) {
    const many = Array.isArray(input);
    if (!many && typeof input !== 'string') return Promise.reject(invalid('embed(text | text[])'));
    return this._run(() => {
      const texts = many ? input : [input];
      if (this._hp.pooling === 0) { const r = this._embedTokensSync(texts); return many ? r : r[0]; }
      const flat = this._embedSync(texts);
      const d = this.dim;
      if (!many) return flat;
      const out = new Array(texts.length);
      for (let i = 0; i < texts.length; i++) out[i] = flat.subarray(i * d, (i + 1) * d);
      return out;
    });
  }

  /** Token ids, token strings, UTF-16 offsets (specials [0, 0]) and how many tokens were cut. */
  tokenize(text) {
    if (typeof text !== 'string') return Promise.reject(invalid('tokenize(text): text must be a string'));
    return this._run(() => {
      const rt = this._rt, w = this._work, L = this._lay, T = this._hp.maxTokens;
      const r = this._tok(text, w + L.ids, 0, T, true, false);
      const ids = Array.from(rt.i32.subarray(w + L.ids >>> 2, (w + L.ids >>> 2) + r.n));
      const tokens = ids.map((id) => rt.cstr(rt.M._bertw_token(this._ptr, id)));
      const offsets = [];
      for (let k = 0; k < r.n; k++) offsets.push([r.offsets[2 * k], r.offsets[2 * k + 1]]);
      return { ids, tokens, offsets, truncated: Math.max(0, r.untruncated - r.n) };
    });
  }

  /** Tokens the text gives without truncation, [CLS] and [SEP] included. */
  countTokens(text) {
    if (typeof text !== 'string') return Promise.reject(invalid('countTokens(text): text must be a string'));
    return this._run(() => {
      const rt = this._rt, w = this._work, L = this._lay;
      return this._tok(text, w + L.ids, 0, this._hp.maxTokens, false, false).untruncated;
    });
  }

  /**
   * Cross-encoder reranking of (query, doc) pairs, best first. One-label heads: score =
   * sigmoid(logit), as sentence-transformers' CrossEncoder and the CLI give it; several labels:
   * score = the first logit, and logits holds them all.
   * @returns {Promise<{index:number, score:number, logit?:number, logits?:number[]}[]>}
   */
  rerank(query, docs, opts) {
    if (typeof query !== 'string' || !Array.isArray(docs)) return Promise.reject(invalid('rerank(query, docs[])'));
    const topK = opts == null ? undefined : opts.topK;
    if (topK !== undefined && !(Number.isInteger(topK) && topK > 0))
      return Promise.reject(invalid(`rerank: options.topK must be a positive integer (got ${String(topK)})`));
    return this._run(() => {
      if (!(this._hp.labels > 0)) throw new BertError('UNSUPPORTED', 'rerank needs a cross-encoder (a model with a classifier head)');
      const rt = this._rt, M = rt.M, w = this._work, L = this._lay;
      const T = this._hp.maxTokens, B = this._hp.maxBatch, nl = this._hp.labels;
      // The query goes first in the text window, each document after it. A document (or query)
      // longer than its share is cut at a whitespace/punctuation boundary: with maxTokens far below
      // what 128 KiB of text holds, truncation gives the same ids.
      const qCut = query.length > PIECE_CHARS / 2 ? query.slice(0, nextPiece(query.slice(0, PIECE_CHARS / 2), 0)) : query;
      const qb = rt.writeText(qCut, rt.text, TEXT_CAP / 2);
      const logits = new Array(docs.length);
      let b = 0, pos = 0, first = 0;
      const flush = () => {
        if (!b) return;
        const s = M._bert_classify(this._ptr, w + L.ids, w + L.types, w + L.lens, b, w + L.out, b * nl);
        if (s) throw this._err(s);
        const f = new Float32Array(rt.buffer, w + L.out, b * nl);
        for (let k = 0; k < b; k++) logits[first + k] = Array.from(f.subarray(k * nl, (k + 1) * nl));
        first += b; b = 0; pos = 0;
      };
      const room = TEXT_CAP - qb;
      for (let i = 0; i < docs.length; i++) {
        const d = docs[i];
        if (typeof d !== 'string') throw invalid(`rerank: docs[${i}] is not a string`);
        let db = rt.writeText(d, rt.text + qb, room);
        if (db < 0) {
          const maxChars = Math.floor((room - 8) / 3);
          db = rt.writeText(d.slice(0, nextPiece(d.slice(0, maxChars), 0)), rt.text + qb, room);
        }
        const s = M._bert_tokenize_pair(this._ptr, rt.text, qb, rt.text + qb, db, T,
          w + L.ids + 4 * pos, w + L.types + 4 * pos, 0, T, w + L.info);
        if (s) throw this._err(s);
        const n = rt.i32[w + L.info >>> 2];
        rt.i32[(w + L.lens >>> 2) + b] = n;
        pos += n; b++;
        if (b === B) flush();
      }
      flush();
      const ranked = logits.map((l, index) =>
        (nl === 1 ? { index, score: 1 / (1 + Math.exp(-l[0])), logit: l[0] } : { index, score: l[0], logits: l }));
      // by the first logit: the sigmoid rounds large logits to the same score
      const first0 = (r) => (nl === 1 ? r.logit : r.logits[0]);
      ranked.sort((a, c) => first0(c) - first0(a) || a.index - c.index);
      return topK ? ranked.slice(0, topK) : ranked;
    });
  }

  /** Cosine similarity of two texts or vectors. */
  similarity(a, b) {
    for (const x of [a, b]) {
      if (typeof x !== 'string' && !isVector(x))
        return Promise.reject(invalid('similarity(a, b): a and b must each be a text or a vector'));
    }
    // Vectors go through the queue too, so a disposed model rejects as for any other call.
    const vec = (x) => (typeof x === 'string' ? this.embed(x) : this._run(() => x));
    return Promise.all([vec(a), vec(b)]).then(([x, y]) => cosineSimilarity(x, y));
  }

  /**
   * Frees the model's memory now; calls not yet settled (queued, or made in the same tick) and
   * later ones reject with DISPOSED. (Its instance, if budgeted and now empty: see keepAsSpare.)
   */
  dispose() { this._free(''); }

  _free(why) {
    if (this._disposed) return;
    this._disposed = true;
    this._why = why;
    this._rt.M._bert_model_free(this._ptr);
    this._rt.M._free(this._work);
    this._ptr = 0;
    this._work = 0;
    this._rt.live.delete(this);
    keepAsSpare(this._rt); // the last model of a budgeted instance: keep one such, drop others
  }

  [DISPOSE]() { this.dispose(); }

  /** A short summary (backend, dtype, dim, pooling, plan bytes, ...), also what JSON.stringify gives. */
  toJSON() { return modelSummary(this); }

  [INSPECT](depth, options, inspect) { return inspectModel('Model', this, depth, options, inspect); }
}

// A vector: an array, a typed array or another ArrayLike<number> object. Numbers, plain objects and
// strings are not: with no numeric length they used to compare as two empty vectors (0).
const isVector = (v) => v !== null && typeof v === 'object' && Number.isSafeInteger(v.length) && v.length >= 0;

/** Cosine similarity of two vectors (dot product when both are normalized). */
export function cosineSimilarity(a, b) {
  if (!isVector(a) || !isVector(b)) throw invalid('cosineSimilarity(a, b): a and b must be vectors (arrays or typed arrays of numbers)');
  if (a.length !== b.length) throw invalid(`cosineSimilarity(a, b): vectors of equal length expected (got ${a.length} and ${b.length})`);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** Which variant load() would pick with these options, without loading anything. */
export function pickBackend(options = {}) {
  const threads = options.threads == null ? defaultThreads() : options.threads | 0;
  if (options.backend === 'single') return 'wasm-simd';
  if (options.backend === 'threads') return 'wasm-simd-threads';
  return threads > 1 && threadsAvailable() ? 'wasm-simd-threads' : 'wasm-simd';
}

export const version = '0.1.0';
