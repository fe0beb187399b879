// A static server for the browser tests that can be set up the way real servers are: with or
// without COOP/COEP, with CORS (a CDN), with its own MIME types (python -m http.server does not know
// .cjs), with files missing, or slow. Serves the repository root on 127.0.0.1.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.cjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.txt': 'text/plain',
};

/**
 * @param {object} o
 * @param {boolean} [o.coi] send COOP/COEP (pages are crossOriginIsolated)
 * @param {boolean} [o.cors] send Access-Control-Allow-Origin: * (a CDN)
 * @param {Record<string, string>} [o.types] content types by extension, over the defaults
 * @param {string[]} [o.missing] paths answered with 404
 * @param {{match: RegExp, chunk: number, delay: number}} [o.slow] paths sent chunk bytes every delay ms
 * @param {Record<string, string>} [o.pages] in-memory pages by path
 * @param {Record<string, string>} [o.mounts] path prefix -> folder (else the repository root)
 * @returns {Promise<{base: string, requests: string[], close: () => Promise<void>}>}
 */
export async function startStatic({ coi = false, cors = false, types = {}, missing = [], slow = null, pages = {}, mounts = {} } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(p);
    const headers = { 'Cache-Control': 'no-store' };
    if (coi) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    if (cors) headers['Access-Control-Allow-Origin'] = '*';
    const send = (status, body, type) => { res.writeHead(status, { ...headers, 'Content-Type': type }); res.end(body); };
    if (pages[p] != null) return send(200, pages[p], TYPES['.html']);
    if (missing.includes(p)) return send(404, 'not found', 'text/plain');
    const mount = Object.keys(mounts).find((m) => p.startsWith(m));
    const file = mount ? path.join(mounts[mount], p.slice(mount.length)) : path.join(ROOT, p);
    let st = null;
    try { st = fs.statSync(file); } catch { /* 404 */ }
    if (!st || !st.isFile()) return send(404, 'not found', 'text/plain');
    const ext = path.extname(file);
    res.writeHead(200, { ...headers, 'Content-Type': types[ext] || TYPES[ext] || 'application/octet-stream', 'Content-Length': st.size });
    if (!(slow && slow.match.test(p))) { fs.createReadStream(file).pipe(res); return; }
    const data = fs.readFileSync(file);
    let off = 0;
    const step = () => {
      if (res.destroyed) return;
      if (off >= data.length) { res.end(); return; }
      res.write(data.subarray(off, off + slow.chunk));
      off += slow.chunk;
      setTimeout(step, slow.delay);
    };
    step();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}
