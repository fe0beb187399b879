#!/usr/bin/env node
// Tiny static server for the demo and the browser tests. Serves the repository root from
// 127.0.0.1 with Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy, so pages are
// crossOriginIsolated and the pthreads build can run; a page opened with ?coi=0 is served without
// them (the single-threaded build runs then). Files are streamed, with Content-Length.
//
//   node examples/browser/serve.mjs [--port 8080]   then open http://127.0.0.1:8080/examples/browser/
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.cjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.tsv': 'text/plain; charset=utf-8', '.css': 'text/css',
  '.png': 'image/png', '.safetensors': 'application/octet-stream',
};

export function createServer({ root = ROOT } = {}) {
  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.join(root, rel);
    if (!file.startsWith(root + path.sep)) { res.writeHead(403).end(); return; }
    const headers = { 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' };
    if (url.searchParams.get('coi') !== '0') {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) { res.writeHead(404, headers).end('not found'); return; }
      headers['Content-Type'] = TYPES[path.extname(file)] || 'application/octet-stream';
      headers['Content-Length'] = st.size;
      res.writeHead(200, headers);
      if (req.method === 'HEAD') { res.end(); return; }
      fs.createReadStream(file).pipe(res);
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 8080;
  createServer().listen(port, '127.0.0.1', () => {
    console.log(`bertwasm demo: http://127.0.0.1:${port}/examples/browser/  (threads)`);
    console.log(`               http://127.0.0.1:${port}/examples/browser/?coi=0  (single-threaded)`);
  });
}
