#!/usr/bin/env node
// Tiny static server for the demo and the browser tests. Serves the repository root from
// 127.0.0.1 with Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy, so pages are
// crossOriginIsolated and the pthreads build can run; a page opened with ?coi=0 is served without
// them (the single-threaded build runs then). Files are streamed, with Content-Length. `/` and
// folders without a trailing slash redirect (to the demo, and to `folder/`); a malformed request
// gets a 400, never takes the server down.
//
//   node examples/browser/serve.mjs [--port N | --port=N]   (default 8080; 0 = any free port)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEMO = '/examples/browser/';
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.cjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.tsv': 'text/plain; charset=utf-8', '.css': 'text/css',
  '.png': 'image/png', '.safetensors': 'application/octet-stream',
};

/** An http.Server (not yet listening) serving `root` (default: the repository). */
export function createServer({ root = ROOT } = {}) {
  root = path.resolve(root); // (a trailing slash would break the containment check below)
  return http.createServer((req, res) => {
    // Anything a client can send must end in a response: a bad escape (%E0%A4%A) makes
    // decodeURIComponent throw, an absolute-form target (GET http://[x) makes new URL throw, a NUL
    // makes fs throw synchronously. Uncaught, any of them would exit the whole server.
    let url, rel;
    try {
      url = new URL(req.url, 'http://localhost');
      rel = decodeURIComponent(url.pathname);
      if (rel.includes('\0')) throw new URIError('NUL in path');
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('bad request: malformed URL\n');
      return;
    }
    const headers = { 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' };
    if (url.searchParams.get('coi') !== '0') {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    // The query (?coi=0) is kept through redirects: it picks the build.
    const redirect = (status, to) => res.writeHead(status, { ...headers, Location: to + url.search }).end();
    // There is nothing at the root: send people to the demo (302: the root may get a page later).
    if (url.pathname === '/') { redirect(302, DEMO); return; }
    const file = path.join(root, rel.endsWith('/') ? rel + 'index.html' : rel);
    if (!file.startsWith(root + path.sep)) { res.writeHead(403, headers).end(); return; }
    fs.stat(file, (err, st) => {
      // A folder named without its slash: relative URLs in its index.html (./app.js) would resolve
      // against the parent, so redirect to folder/ as static servers do.
      // (Leading slashes collapsed: a Location of //name/ would leave this host.)
      if (!err && st.isDirectory()) { redirect(301, url.pathname.replace(/^\/+/, '/') + '/'); return; }
      if (err || !st.isFile()) { res.writeHead(404, headers).end('not found'); return; }
      headers['Content-Type'] = TYPES[path.extname(file)] || 'application/octet-stream';
      headers['Content-Length'] = st.size;
      res.writeHead(200, headers);
      if (req.method === 'HEAD') { res.end(); return; }
      // pipeline, not pipe: a read error (file removed meanwhile) or a client that goes away
      // destroys both ends instead of an unhandled 'error' event ending the process.
      pipeline(fs.createReadStream(file), res, () => {});
    });
  });
}

const USAGE = 'usage: node examples/browser/serve.mjs [--port N | --port=N]   (N: 0-65535, default 8080; 0 picks a free port)';

// -> { port } or { help: true }; throws an Error with a one-line message on a bad command line.
export function parseArgs(argv) {
  let port = 8080;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') return { help: true };
    let v;
    if (a === '--port') v = argv[++i];
    else if (a.startsWith('--port=')) v = a.slice('--port='.length);
    else throw new Error(`unknown argument: ${a}`);
    // Number('') is 0 and Number('8080x') NaN: accept plain decimal integers only.
    if (v === undefined || !/^\d+$/.test(v) || Number(v) > 65535) throw new Error(`bad port: ${v === undefined ? '(missing)' : v}`);
    port = Number(v);
  }
  return { port };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`serve.mjs: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) { console.log(USAGE); process.exit(0); }
  const server = createServer();
  // A busy or forbidden port is a user error, not a crash: one line, exit 1 (no stack trace).
  server.on('error', (e) => {
    const why = e.code === 'EADDRINUSE' ? `port ${args.port} is busy (another server running?); try --port ${args.port + 1}, or --port 0 for any free port`
      : e.code === 'EACCES' ? `no permission to listen on port ${args.port}; try a port above 1023`
        : e.message;
    console.error(`serve.mjs: ${why}`);
    process.exit(1);
  });
  server.listen(args.port, '127.0.0.1', () => {
    const { port } = server.address(); // (the real one when --port 0)
    console.log(`bertwasm demo: open http://127.0.0.1:${port}${DEMO}  (threads)`);
    console.log(`               or    http://127.0.0.1:${port}${DEMO}?coi=0  (single-threaded)`);
  });
}
