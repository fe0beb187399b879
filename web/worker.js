// bertwasm/worker - the same API as 'bertwasm', with the model running in a Web Worker (browsers)
// or a worker_threads Worker (Node), so long embeds never block the calling thread. Every method
// returns a promise; embeddings come back as transferred buffers (no copy).
//
//   import { load } from 'bertwasm/worker';
//   const model = await load('/models/all-MiniLM-L6-v2/');
//   const v = await model.embed('hello');
//   await model.dispose();   // terminates the worker
import { BertError, cosineSimilarity } from './index.js';
import { isParts, mapParts, hideInternals, modelSummary, inspectModel, INSPECT } from './parts.js';

export { BertError, cosineSimilarity };

const isNode = typeof process === 'object' && !!(process.versions && process.versions.node) &&
  typeof window === 'undefined' && typeof self === 'undefined';

const ENTRY = new URL('./worker-entry.js', import.meta.url);
const abortError = () => new BertError('ABORTED', 'load aborted');
const msgOf = (e) => (e && e.message ? e.message : String(e));

// The worker behind a small port interface (Node worker_threads or a Web Worker).
async function openPort() {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(ENTRY);
    return {
      post: (m, t) => w.postMessage(m, t),
      on: (f) => w.on('message', f),
      onError: (f) => { w.on('error', f); w.on('exit', (c) => f(new Error(`the worker exited (code ${c})`))); },
      terminate: () => w.terminate(),
      unref: () => w.unref(),
      ref: () => w.ref(),
    };
  }
  const { worker: w, revoke } = webWorker(ENTRY);
  return {
    post: (m, t) => w.postMessage(m, t),
    on: (f) => w.addEventListener('message', (e) => f(e.data)),
    onError: (f) => w.addEventListener('error', (e) => { e.preventDefault(); f(e); }),
    terminate: () => { revoke(); w.terminate(); },
    started: revoke,
    unref: () => {},
    ref: () => {},
  };
}

// A module worker must come from the page's origin. From another one (the library on a CDN), it
// starts from a one-line blob: module that imports the real script: that keeps its own URL, so its
// imports (index.js, ../dist/) resolve as usual.
function webWorker(url) {
  const crossOrigin = typeof location === 'object' && location && url.origin !== location.origin;
  let start = url, revoke = () => {};
  if (crossOrigin) {
    start = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' }));
    revoke = () => { if (start) URL.revokeObjectURL(start); start = null; };
  }
  try {
    return { worker: new Worker(start, { type: 'module' }), revoke };
  } catch (e) { // SecurityError (CSP), a browser without module workers
    revoke();
    throw new BertError('INTERNAL', `bertwasm/worker: cannot start a worker from ${url.href}: ${msgOf(e)}`, { cause: e });
  }
}

// Starts the worker and waits for its 'ready'. A failure is a BertError that names the script;
// the signal ends the wait, and the worker.
async function spawn(signal) {
  const port = await openPort();
  let settled = false, onAbort;
  try {
    await new Promise((resolve, reject) => {
      const end = (f) => (x) => { if (!settled) { settled = true; f(x); } };
      const ready = end(resolve); // only 'ready' ends the start: other messages are not for it
      port.on((m) => { if (m && m.ready) ready(); });
      port.onError(end((e) => startFailure(e).then(reject)));
      onAbort = end(() => reject(abortError()));
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
    });
  } catch (e) {
    await port.terminate();
    throw e;
  } finally {
    if (signal) signal.removeEventListener('abort', onAbort);
  }
  if (port.started) port.started();
  return port;
}

// Why the worker did not start. A browser's error event says nothing: fetch the script to tell a
// missing file (NETWORK) from one that did not run (INTERNAL).
async function startFailure(e) {
  const url = ENTRY.href;
  if (isNode || (e && e.message)) {
    return new BertError('INTERNAL', `bertwasm/worker: the worker ${url} failed to start: ${msgOf(e)}`, { cause: e });
  }
  let r;
  try {
    r = await fetch(url, { cache: 'no-store' });
  } catch (err) {
    return new BertError('NETWORK', `bertwasm/worker: cannot fetch the worker script ${url}: ${msgOf(err)}`, { cause: err });
  }
  if (r.body) r.body.cancel().catch(() => {});
  if (!r.ok) return new BertError('NETWORK', `bertwasm/worker: the worker script ${url}: HTTP ${r.status}`);
  const type = r.headers.get('content-type') || '';
  const why = /(java|ecma)script/i.test(type)
    ? 'a script it imports (web/index.js, dist/bertwasm*.js) did not load or run'
    : `it is served as ${type || 'no type'}, not JavaScript`;
  return new BertError('INTERNAL', `bertwasm/worker: the worker ${url} failed to start: ${why}`, { cause: e });
}

function toError(e) {
  const extra = {};
  if (e.plan) extra.plan = e.plan;
  if (e.cause !== undefined) extra.cause = e.cause;
  return new BertError(e.code, e.message, extra);
}

// postMessage throws (DataCloneError) for values that cannot be copied to the worker: functions,
// symbols, class instances holding such things.
function uncloneable(what, e) {
  return new BertError('INVALID_ARGUMENT', `bertwasm/worker: ${what} cannot be sent to the worker: ${msgOf(e)}`, { cause: e });
}

// Relative URLs must resolve against the page, not the worker script.
function absolute(u) {
  if (isNode || typeof u !== 'string' || typeof location !== 'object' || !location) return u;
  if (/^hf:/.test(u)) return u;
  try { return new URL(u, location.href).href; } catch { return u; }
}

// The source as it can cross postMessage. A URL object does not clone, and as a string it would be
// taken for a part's contents: URL and Response parts travel tagged, and worker-entry.js makes them
// URL objects and Responses again. Streams are transferred.
function portable(source) {
  if (source instanceof URL) return { value: source.href, transfer: [] }; // a base: as a string
  if (!isParts(source)) return { value: source, transfer: [] };
  const transfer = [];
  const part = (v) => {
    if (v instanceof URL) return { $bertwasm: 'url', href: v.href };
    if (typeof Response !== 'undefined' && v instanceof Response) {
      if (v.body) transfer.push(v.body);
      return { $bertwasm: 'response', body: v.body, status: v.status, headers: [...v.headers], url: v.url };
    }
    if (typeof ReadableStream !== 'undefined' && v instanceof ReadableStream) transfer.push(v);
    return v;
  };
  const value = mapParts(source, part);
  return { value, transfer };
}

const cancelStreams = (list) => {
  for (const t of list) if (typeof ReadableStream !== 'undefined' && t instanceof ReadableStream) t.cancel().catch(() => {});
};

export class RemoteModel {
  constructor(port, info) {
    // Internals are non-enumerable (see hideInternals in parts.js), as on Model.
    hideInternals(this, {
      _port: port, _pending: new Map(), _next: 1, _disposed: false,
      _dead: null, // the error the worker died with: every later call rejects with it
      _memory: info.memory,
    });
    Object.assign(this, { plan: info.plan, config: info.config, dim: info.dim, backend: info.backend, threads: info.threads });
  }
  /** Last memory figures reported by the worker (updated after every call). */
  get memory() { return this._memory; }
  get disposed() { return this._disposed; }

  _call(op, args, transfer = []) {
    if (this._disposed) return Promise.reject(new BertError('DISPOSED', 'the model has been disposed'));
    if (this._dead) return Promise.reject(this._dead); // nothing would ever answer
    const id = this._next++;
    return new Promise((resolve, reject) => {
      try {
        this._port.post({ id, op, args }, transfer);
      } catch (e) {
        reject(uncloneable(`the arguments of ${op}()`, e));
        return; // nothing was sent: no entry to wait for, the worker stays unref'd
      }
      this._pending.set(id, { resolve, reject });
      if (this._pending.size === 1) this._port.ref();
    });
  }
  _settle(msg) {
    const p = this._pending.get(msg.id);
    if (!p) return;
    this._pending.delete(msg.id);
    if (this._pending.size === 0) this._port.unref();
    if (msg.memory) this._memory = msg.memory;
    if (msg.ok) p.resolve(msg.result); else p.reject(toError(msg.error));
  }
  _fail(err) {
    for (const p of this._pending.values()) p.reject(err);
    this._pending.clear();
  }
  _die(err) {
    this._dead = err;
    this._fail(err);
  }

  async embed(input) {
    const r = await this._call('embed', [input]);
    if (r instanceof Float32Array) return r;
    if (r.list) return r.list;
    const flat = new Float32Array(r.buffer);
    const out = new Array(r.n);
    for (let i = 0; i < r.n; i++) out[i] = flat.subarray(i * r.dim, (i + 1) * r.dim);
    return out;
  }
  tokenize(text) { return this._call('tokenize', [text]); }
  countTokens(text) { return this._call('countTokens', [text]); }
  rerank(query, docs, opts) { return this._call('rerank', [query, docs, opts || {}]); }
  similarity(a, b) { return this._call('similarity', [a, b]); }

  /**
   * Terminates the worker, which frees the model. As on the main thread, calls not yet settled
   * reject with DISPOSED (a call the worker is running is dropped with it), and so do later ones.
   */
  async dispose() {
    if (this._disposed) return;
    this._disposed = true;
    this._fail(new BertError('DISPOSED', 'the model has been disposed'));
    await this._port.terminate();
  }
  // Only the async protocol (`await using`): dispose() here returns a promise, and a sync
  // [Symbol.dispose] could not wait for the worker to end.
  [Symbol.asyncDispose || Symbol.for('nodejs.asyncDispose')]() { return this.dispose(); }

  /** A short summary (backend, dtype, dim, pooling, plan bytes, ...), also what JSON.stringify gives. */
  toJSON() { return modelSummary(this); }

  [INSPECT](depth, options, inspect) { return inspectModel('RemoteModel', this, depth, options, inspect); }
}

/**
 * Loads a model inside a new worker. Options as in 'bertwasm' load(), except `fetch` (functions
 * cannot cross to a worker: use `headers`). `onProgress` and `signal` work as usual.
 */
export async function load(source, options = {}) {
  const { onProgress, signal, fetch: customFetch, ...rest } = options;
  if (customFetch) throw new BertError('INVALID_ARGUMENT', 'bertwasm/worker: options.fetch cannot cross to a worker; pass options.headers');
  if (signal != null && typeof signal.addEventListener !== 'function')
    throw new BertError('INVALID_ARGUMENT', 'options.signal must be an AbortSignal');
  if (rest.wasm && !(rest.wasm instanceof WebAssembly.Module) && typeof rest.wasm !== 'string' && !(rest.wasm instanceof URL) &&
      !(rest.wasm instanceof ArrayBuffer) && !ArrayBuffer.isView(rest.wasm)) {
    throw new BertError('INVALID_ARGUMENT', 'bertwasm/worker: options.wasm must be a Module, URL or bytes');
  }
  if (rest.wasm instanceof URL) rest.wasm = rest.wasm.href;
  if (signal && signal.aborted) throw abortError();
  if (typeof source === 'string') source = absolute(source);
  else if (source && typeof source === 'object' && typeof source.weights === 'string') source = { ...source, weights: absolute(source.weights) };
  if (typeof rest.wasm === 'string') rest.wasm = absolute(rest.wasm);
  const src = portable(source);
  let port;
  try {
    port = await spawn(signal);
  } catch (e) {
    cancelStreams(src.transfer); // never to be read
    throw e;
  }
  let model = null;
  let closing = false; // we terminate the worker ourselves: its exit is not a failure
  let loadResolve, loadReject, loadSettled = false;
  const loading = new Promise((res, rej) => {
    loadResolve = (v) => { loadSettled = true; res(v); };
    loadReject = (e) => { loadSettled = true; rej(e); };
  });
  loading.catch(() => {}); // observed below, or abandoned when we abort before posting the load
  port.on((msg) => {
    if (msg.ready) return;
    if (msg.id === 1 && !model) {
      if (msg.progress) {
        // As on the main thread: never once load() has settled (or the caller aborted it).
        if (onProgress && !loadSettled && !(signal && signal.aborted)) { try { onProgress(msg.progress); } catch { /* ignore */ } }
        return;
      }
      if (msg.ok) loadResolve(msg.result); else loadReject(toError(msg.error));
      return;
    }
    if (model) model._settle(msg);
  });
  port.onError((e) => {
    if (closing || (model && model._disposed)) return;
    const err = new BertError('INTERNAL', `bertwasm/worker: the worker failed: ${msgOf(e && e.error ? e.error : e)}`, { cause: e });
    loadReject(err);
    if (!model) return;
    model._die(err);
    closing = true;
    Promise.resolve(port.terminate()).catch(() => {}); // a browser worker may linger after an error
  });
  const onAbort = () => port.post({ id: 0, op: 'abort' });
  if (signal) {
    // The signal may have fired while the worker was starting.
    if (signal.aborted) {
      cancelStreams(src.transfer);
      closing = true;
      await port.terminate();
      throw abortError();
    }
    signal.addEventListener('abort', onAbort, { once: true });
  }
  let info;
  try {
    try {
      port.post({ id: 1, op: 'load', args: [src.value, { ...rest, progress: !!onProgress }] }, src.transfer);
    } catch (e) {
      cancelStreams(src.transfer); // not transferred: still the caller's, and never to be read
      throw uncloneable('the source or options of load()', e);
    }
    info = await loading;
  } catch (e) {
    closing = true;
    await port.terminate();
    throw e;
  } finally {
    if (signal) signal.removeEventListener('abort', onAbort);
  }
  model = new RemoteModel(port, info);
  model._next = 2;
  port.unref();
  return model;
}
