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
