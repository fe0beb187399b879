// worker-entry.js - runs inside the Web Worker (or Node worker_threads Worker) started by
// web/worker.js: one model per worker, requests answered in order, results transferred. dispose()
// terminates the worker (no message): that frees everything, also in the middle of a call.
import { load } from './index.js';
import { isParts, mapParts } from './parts.js';

const isNode = typeof process === 'object' && !!(process.versions && process.versions.node) &&
  typeof self === 'undefined';
let port;
if (isNode) {
  const { parentPort } = await import('node:worker_threads');
  port = { post: (m, t) => parentPort.postMessage(m, t), on: (f) => parentPort.on('message', f) };
} else {
  port = { post: (m, t) => self.postMessage(m, t), on: (f) => { self.onmessage = (e) => f(e.data); } };
}

let model = null;
let abort = null;

const errorOut = (e) => ({
  code: e && e.code ? e.code : 'INTERNAL', message: e && e.message ? e.message : String(e),
  plan: e && e.plan ? e.plan : undefined, cause: e ? e.cause : undefined,
});

// Parts that web/worker.js tagged to cross postMessage, as the caller gave them.
function revivePart(v) {
  if (!v || typeof v !== 'object' || !('$bertwasm' in v)) return v;
  if (v.$bertwasm === 'url') return new URL(v.href);
  if (v.$bertwasm === 'response') {
    const status = v.status >= 200 && v.status <= 599 ? v.status : 200; // (an opaque response has 0)
    const r = new Response(v.body, { status, headers: v.headers });
    if (v.url) Object.defineProperty(r, 'url', { value: v.url });
    return r;
  }
  return v;
}
const reviveSource = (source) => (isParts(source) ? mapParts(source, revivePart) : source);

function snapshot(m) {
  return { plan: m.plan, config: m.config, dim: m.dim, backend: m.backend, threads: m.threads, memory: m.memory };
}

async function handle(msg) {
  const { id, op, args } = msg;
  try {
    let result, transfer = [];
    switch (op) {
      case 'load': {
        const [source, options] = args;
        abort = new AbortController();
        const o = { ...options, signal: abort.signal };
        if (options && options.progress) o.onProgress = (event) => port.post({ id, progress: event });
        delete o.progress;
        model = await load(reviveSource(source), o);
        abort = null;
        result = snapshot(model);
        break;
      }
      case 'abort':
        if (abort) abort.abort();
        return;
      case 'embed': {
        const r = await model.embed(args[0]);
        if (Array.isArray(r)) {
          // Pooled results share one buffer: send it once; the caller rebuilds the views.
          const buf = r.length ? r[0].buffer : new ArrayBuffer(0);
          const shared = r.every((v) => v.buffer === buf);
          if (shared) { result = { buffer: buf, dim: model.dim, n: r.length }; transfer = [buf]; }
          else { result = { list: r }; transfer = r.map((v) => v.buffer); }
        } else { result = r; transfer = [r.buffer]; }
        break;
      }
      case 'tokenize': result = await model.tokenize(args[0]); break;
      case 'countTokens': result = await model.countTokens(args[0]); break;
      case 'rerank': result = await model.rerank(args[0], args[1], args[2]); break;
      case 'similarity': result = await model.similarity(args[0], args[1]); break;
      default: throw Object.assign(new Error(`unknown op ${op}`), { code: 'INVALID_ARGUMENT' });
    }
    port.post({ id, ok: true, result, memory: model ? model.memory : null }, transfer);
  } catch (e) {
    const error = errorOut(e);
    try {
      port.post({ id, ok: false, error });
    } catch { // a cause that does not clone (Errors do): its text
      port.post({ id, ok: false, error: { ...error, cause: String(error.cause) } });
    }
  }
}

// Requests run one at a time in arrival order (the model queues them too).
let tail = Promise.resolve();
port.on((msg) => {
  if (msg.op === 'abort') { handle(msg); return; }
  tail = tail.then(() => handle(msg));
});
port.post({ ready: true });
