// Helpers shared by index.js, worker.js and worker-entry.js.
//
// The explicit source of load(): { config, tokenizer?, vocab?, files?: { name: part }, weights }.
// One walk over it for index.js (reads it), worker.js (makes it cross postMessage) and
// worker-entry.js (revives it in the worker).

/** Whether a source is explicit parts rather than a folder/URL. */
export const isParts = (s) => !!s && typeof s === 'object' && !(s instanceof URL) && ('weights' in s || 'config' in s);

/** A copy of the parts with each one (those in `files` too) replaced by f(part). */
export function mapParts(source, f) {
  const out = {};
  for (const [k, v] of Object.entries(source)) {
    out[k] = k === 'files' && v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([name, part]) => [name, f(part)]))
      : f(v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// How a Model / RemoteModel shows itself. Its internals (the Emscripten module, the worker port)
// are non-enumerable, and console.log / util.inspect / JSON.stringify get a short summary: the
// module is hundreds of lines to print, and circular, so JSON.stringify would walk it for seconds
// before throwing.

/** Defines writable, non-enumerable properties on obj. */
export function hideInternals(obj, props) {
  for (const [key, value] of Object.entries(props))
    Object.defineProperty(obj, key, { value, writable: true, enumerable: false, configurable: true });
}

/** What model.toJSON() returns. */
export function modelSummary(m) {
  const { plan = {}, config = {} } = m;
  return {
    backend: m.backend, threads: m.threads, dim: m.dim,
    dtype: plan.dtype, embeddingDtype: plan.embeddingDtype,
    pooling: config.pooling, normalize: config.normalize,
    maxTokens: config.maxTokens, maxBatch: config.maxBatch, numLabels: config.numLabels,
    planBytes: plan.total, disposed: m.disposed,
  };
}

// Node's util.inspect hook, by its registered symbol: no node:util import, so the file stays
// browser-safe (elsewhere the method is simply never called).
export const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** `Name { backend: ..., ... }`, or `[Name]` below the inspect depth. */
export function inspectModel(name, m, depth, options, inspect) {
  if (depth < 0) return options && options.stylize ? options.stylize(`[${name}]`, 'special') : `[${name}]`;
  const summary = modelSummary(m);
  if (typeof inspect !== 'function') return `${name} ${JSON.stringify(summary)}`; // Node < 16.14
  return `${name} ${inspect(summary, { ...options, depth: options.depth == null ? null : options.depth - 1 })}`;
}
