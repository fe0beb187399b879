// Faults while a model loads through the JS API (both wasm variants), each injected at three points
// of model.safetensors (inside the JSON header, in the first tensor, near the end):
//   reset      a local HTTP server (127.0.0.1) resets the socket mid-body        -> NETWORK
//   short      the server closes after fewer bytes than its Content-Length       -> NETWORK or BAD_MODEL
//   long       Content-Length promises fewer bytes than the file has             -> BAD_MODEL (truncated)
//   abort      AbortSignal fired mid-download (fetch) / mid-stream (ReadableStream) -> ABORTED
//   stall      a ReadableStream that stalls, then errors                         -> NETWORK
//   spliced    a different file of the same length (header: corrupted JSON -> BAD_MODEL; in the
//              data: not detectable without checksums -> loads, vectors differ, all finite)
// After each: a BertError with the expected code, no model, the source cancelled, the wasm memory
// reused (no growth), and a retry of the same load gives the same vectors as a clean load.
// Run: node --test tests/reliability/faults.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TINY, requireDist, modelParts, countingStream, headerSize, maxAbsDiff } from './common.mjs';

requireDist();
const { load, BertError, shutdown } = await import('../../web/index.js');

const FILE = fs.readFileSync(path.join(TINY, 'model.safetensors'));
const HDR = headerSize(FILE);
const POINTS = { header: 100, 'first tensor': HDR + 500, 'near end': FILE.length - 500 };
const TEXTS = ['hello world', 'a reliable loader recovers from faults', ''];

// Same length, same header, data rotated by 4 KiB worth of float32 from `at` on (all finite).
function spliced(at) {
  const out = Buffer.from(FILE);
  if (at < HDR) { out[at] = 0x7b; out[at + 1] = 0x7d; return out; } // "{}" into the middle of the JSON
  const start = HDR + ((at - HDR) & ~3);
  const rest = FILE.subarray(start);
  const rot = 4096;
  out.set(rest.subarray(rot), start);
  out.set(rest.subarray(0, rot), start + rest.length - rot);
  return out;
}

// A raw HTTP/1.1 server: /ok, /reset/<k>, /short/<k>, /long/<k>, /splice/<k>, /slow.
let server, base;
const connections = new Set(); // sockets that sent a request and are not closed yet
before(async () => {
  server = net.createServer((sock) => {
    sock.on('close', () => connections.delete(sock));
    sock.on('error', () => {});
    let req = '';
    sock.on('data', (d) => {
      req += d.toString('latin1');
      if (!req.includes('\r\n\r\n')) return;
      connections.add(sock); // sockets with a request (undici may also open idle spare ones)
      const [, url] = /^GET (\S+)/.exec(req) || [];
      const [, kind, k] = /^\/(\w+)(?:\/(\d+))?/.exec(url || '') || [];
      const at = Number(k);
      const head = (len) => `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${len}\r\nConnection: close\r\n\r\n`;
      if (kind === 'ok' || kind === 'splice') {
        sock.end(Buffer.concat([Buffer.from(head(FILE.length)), kind === 'ok' ? FILE : spliced(at)]));
      } else if (kind === 'slow') { // 16 KiB pieces, 1 ms apart: many progress events
        sock.write(head(FILE.length));
        let off = 0;
        const next = () => {
          if (sock.destroyed) return;
          if (off >= FILE.length) { sock.end(); return; }
          const piece = FILE.subarray(off, off + 16384);
          off += piece.length;
          sock.write(piece, () => setTimeout(next, 1));
        };
        next();
      } else if (kind === 'reset') {
        sock.write(Buffer.concat([Buffer.from(head(FILE.length)), FILE.subarray(0, at)]), () =>
          setTimeout(() => (sock.resetAndDestroy ? sock.resetAndDestroy() : sock.destroy()), 20));
      } else if (kind === 'short') {
        sock.write(Buffer.concat([Buffer.from(head(FILE.length)), FILE.subarray(0, at)]), () => setTimeout(() => sock.end(), 20));
      } else if (kind === 'long') {
        sock.end(Buffer.concat([Buffer.from(head(at)), FILE]));
      } else {
        sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(async () => { shutdown(); for (const s of connections) s.destroy(); await new Promise((r) => server.close(r)); });

// Each fault: () => { source, opts, probe } ; expect: codes allowed (or 'LOADS' for undetectable).
const FAULTS = {
  reset: (at) => ({ source: modelParts(TINY, `${base}/reset/${at}`), codes: ['NETWORK'] }),
  short: (at) => ({ source: modelParts(TINY, `${base}/short/${at}`), codes: ['NETWORK', 'BAD_MODEL'] }),
  long: (at) => ({ source: modelParts(TINY, `${base}/long/${at}`), codes: ['BAD_MODEL'], message: /truncated/ }),
  'abort (fetch)': (at) => {
    const ac = new AbortController();
    return { source: modelParts(TINY, `${base}/slow`), codes: ['ABORTED'],
      opts: { signal: ac.signal, onProgress: (e) => { if (e.phase !== 'files' && e.loaded >= at) ac.abort(new Error('user gave up')); } },
    };
  },
  'abort (stream)': (at) => {
    const ac = new AbortController();
    const { stream, rec } = countingStream(FILE, 1024, { onPull: (r) => { if (r.pulled >= at) ac.abort(); } });
    return { source: modelParts(TINY, stream), codes: ['ABORTED'], opts: { signal: ac.signal }, rec,
      pulledAtMost: at + 1024, cancelled: true };
  },
  'stall then error': (at) => {
    const { stream, rec } = countingStream(FILE, 1024, { errorAt: at, stallMs: 150 });
    return { source: modelParts(TINY, stream), codes: ['NETWORK'], message: /injected stream error/, rec, pulledAtMost: at };
  },
  spliced: (at) => ({ source: modelParts(TINY, `${base}/splice/${at}`), codes: at < HDR ? ['BAD_MODEL'] : ['LOADS'] }),
};

for (const backend of ['single', 'threads']) {
  test(`${backend}: fault matrix (${Object.keys(FAULTS).length} faults x ${Object.keys(POINTS).length} points), each followed by a clean retry`, { timeout: 120000 }, async () => {
    const opts = { backend, threads: backend === 'threads' ? 2 : 1 };
    const clean = await load(modelParts(TINY, `${base}/ok`), opts);
    const cleanVecs = (await clean.embed(TEXTS)).map((v) => Float32Array.from(v));
    const memLoaded = clean.memory.wasmMemory;
    clean.dispose();
    const rows = [];
    for (const [fname, make] of Object.entries(FAULTS)) {
      for (const [pname, at] of Object.entries(POINTS)) {
        const f = make(at);
        let err = null, m = null;
        try { m = await load(f.source, { ...opts, ...(f.opts || {}) }); } catch (e) { err = e; }
        const where = `${fname} at ${pname} (byte ${at})`;
        if (f.codes[0] === 'LOADS') {
          assert.ok(m, `${where}: ${err}`);
          const v = await m.embed(TEXTS);
          assert.ok(v.every((x) => x.every(Number.isFinite)), `${where}: non-finite vector`);
          assert.ok(v.some((x, i) => maxAbsDiff(x, cleanVecs[i]) > 1e-4), `${where}: vectors equal a clean load's`);
          m.dispose();
          rows.push(`${where}: loads (undetectable)`);
        } else {
          assert.equal(m, null, `${where}: a model came back`);
          assert.ok(err instanceof BertError, `${where}: not a BertError: ${err && err.stack}`);
          assert.ok(f.codes.includes(err.code), `${where}: ${err.code} (${err.message}), want ${f.codes.join('|')}`);
          if (f.message) assert.match(err.message, f.message, where);
          assert.ok(err.message.length > 10, `${where}: message "${err.message}"`);
          if (f.cancelled) assert.ok(f.rec.cancelled, `${where}: the stream was not cancelled`);
          if (f.pulledAtMost != null) assert.ok(f.rec.pulled <= f.pulledAtMost, `${where}: ${f.rec.pulled} bytes pulled after the fault`);
          // HTTP sources: the connection is closed (the body cancelled), nothing keeps downloading.
          for (let i = 0; i < 100 && connections.size; i++) await new Promise((r) => setTimeout(r, 10));
          assert.equal(connections.size, 0, `${where}: ${connections.size} connection(s) still open`);
          rows.push(`${where}: ${err.code}`);
        }
        // Retry the same load (fresh source): identical vectors, the heap reused (no growth).
        const r = await load(modelParts(TINY, fname.includes('stream') || fname.startsWith('stall') ? countingStream(FILE, 1024).stream : `${base}/ok`), opts);
        const rv = await r.embed(TEXTS);
        for (let i = 0; i < TEXTS.length; i++) assert.equal(maxAbsDiff(rv[i], cleanVecs[i]), 0, `${where}: retry vector ${i} differs`);
        assert.equal(r.memory.wasmMemory, memLoaded, `${where}: wasm memory ${r.memory.wasmMemory} after retry, ${memLoaded} after a clean load`);
        r.dispose();
      }
    }
    console.log(`# ${backend}: ${rows.length} faults, every retry identical to a clean load, wasm memory ${memLoaded} B throughout\n# ` + rows.join('\n# '));
  });
}
