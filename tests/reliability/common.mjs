// Shared helpers of the reliability tests: the malformed corpus as explicit parts or as merged
// model folders, a counting ReadableStream, vector comparison.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIX = path.join(ROOT, 'tests/fixtures');
export const MAL = path.join(FIX, 'malformed');
export const TINY = path.join(FIX, 'tiny');
export const TMP = fs.realpathSync(os.tmpdir());
export const SMALL_FILES = ['config.json', 'tokenizer.json', 'vocab.txt', 'tokenizer_config.json',
  'special_tokens_map.json', 'modules.json', '1_Pooling/config.json', 'sentence_bert_config.json'];

export function requireDist() {
  for (const f of ['dist/bertwasm.wasm', 'dist/bertwasm-mt.wasm'])
    if (!fs.existsSync(path.join(ROOT, f))) throw new Error(`${f} missing: run \`bash scripts/build-web.sh\` first`);
}

export const manifest = () => JSON.parse(fs.readFileSync(path.join(MAL, 'manifest.json'), 'utf8'));

// A case's small files as test_malformed.c reads them: the case folder's own files override the
// base model's, `omit` drops some. -> { name: Buffer }
export function caseFiles(c) {
  const bdir = c.base === 'micro' ? path.join(MAL, 'micro') : path.join(FIX, c.base);
  const cdir = path.dirname(path.join(MAL, c.file));
  const out = {};
  for (const name of SMALL_FILES) {
    if ((c.omit || []).includes(name)) continue;
    for (const d of [cdir, bdir]) {
      const p = path.join(d, name);
      if (fs.existsSync(p)) { out[name] = fs.readFileSync(p); break; }
    }
  }
  return out;
}

export const caseWeightsPath = (c) => path.join(MAL, c.file);
export const caseName = (c) => path.dirname(c.file);

// load() parts for a case (strings for the JSON files, bytes for the weights).
export function caseParts(c, weights = new Uint8Array(fs.readFileSync(caseWeightsPath(c)))) {
  const f = caseFiles(c);
  const files = {};
  for (const [n, b] of Object.entries(f)) if (!['config.json', 'tokenizer.json', 'vocab.txt'].includes(n)) files[n] = b.toString('utf8');
  return {
    config: f['config.json'] ? f['config.json'].toString('utf8') : '',
    ...(f['tokenizer.json'] ? { tokenizer: f['tokenizer.json'].toString('utf8') } : {}),
    ...(f['vocab.txt'] ? { vocab: f['vocab.txt'].toString('utf8') } : {}),
    files,
    weights,
  };
}

// Writes every case as a complete model folder under root/<case name>/.
export function materializeCases(root, cases) {
  for (const c of cases) {
    const d = path.join(root, caseName(c));
    fs.mkdirSync(d, { recursive: true });
    for (const [n, b] of Object.entries(caseFiles(c))) {
      fs.mkdirSync(path.dirname(path.join(d, n)), { recursive: true });
      fs.writeFileSync(path.join(d, n), b);
    }
    fs.copyFileSync(caseWeightsPath(c), path.join(d, 'model.safetensors'));
  }
}

export function modelParts(dir, weights) {
  const rd = (n) => fs.readFileSync(path.join(dir, n), 'utf8');
  return {
    config: rd('config.json'),
    tokenizer: rd('tokenizer.json'),
    files: Object.fromEntries(SMALL_FILES.slice(3).filter((f) => fs.existsSync(path.join(dir, f))).map((f) => [f, rd(f)])),
    weights,
  };
}

// A ReadableStream over bytes that counts what the consumer pulled (highWaterMark 0: nothing read
// ahead). faults: { errorAt, stallMs } -- error once `errorAt` bytes have been delivered.
export function countingStream(data, chunk, { errorAt = Infinity, stallMs = 0, onPull = null } = {}) {
  const rec = { pulled: 0, chunks: 0, cancelled: false };
  const stream = new ReadableStream({
    async pull(ctl) {
      if (onPull) onPull(rec);
      if (rec.pulled >= errorAt) {
        if (stallMs) await new Promise((r) => setTimeout(r, stallMs));
        ctl.error(new Error(`injected stream error at byte ${rec.pulled}`));
        return;
      }
      if (rec.pulled >= data.length) { ctl.close(); return; }
      const end = Math.min(rec.pulled + chunk, data.length, errorAt);
      ctl.enqueue(new Uint8Array(data.subarray(rec.pulled, end)));
      rec.pulled = end; rec.chunks++;
    },
    cancel() { rec.cancelled = true; },
  }, { highWaterMark: 0 });
  return { stream, rec };
}

export function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// safetensors header size (8 + N) of a file's bytes.
export function headerSize(buf) { return 8 + Number(Buffer.from(buf.buffer, buf.byteOffset, 8).readBigUInt64LE(0)); }
