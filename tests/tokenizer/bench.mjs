// Tokenizer speed: tokens/s of the C tokenizer (native build and wasm32-wasi build run by Node's
// node:wasi) next to transformers.js's tokenizer, on the committed corpus (tests/tokenizer/corpus.txt.gz),
// one encode per line, no truncation, bert-base-uncased fixture.
//
//   node tests/tokenizer/bench.mjs [--seconds 5] [--first N]
//
// --first N: only the first N corpus lines (24437 = the real-text part: translations, prose, code;
// the rest is hard cases, invalid UTF-8 and random mixes).
//
// Native driver: ${BERT_BUILD_DIR:-build}/tests/tokenize_lines (or BERT_TOKENIZE_LINES).
// Wasm driver: ${BERT_BUILD_DIR:-build}/tokenize_lines.wasm (or BERT_TOKENIZE_WASM), built with
// tests/tokenizer/build_wasi.sh when missing.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';
import { gunzipSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const BUILD = resolve(REPO, process.env.BERT_BUILD_DIR ?? 'build');
const NATIVE = process.env.BERT_TOKENIZE_LINES ?? join(BUILD, 'tests', 'tokenize_lines');
const WASM = process.env.BERT_TOKENIZE_WASM ?? join(BUILD, 'tokenize_lines.wasm');
const FIXTURE = join(REPO, 'tests', 'fixtures', 'vocab-only');

// The wasm driver is (re)built when missing or older than any of its sources.
function wasmStale(wasm) {
  if (!existsSync(wasm)) return true;
  const t = statSync(wasm).mtimeMs;
  const srcs = ['tokenizer.c', 'tokenizer.h', 'unicode.c', 'unicode.h', 'unicode_tables.c', 'json.c', 'json.h', 'common.c',
    'common.h', 'bert.h'].map((f) => join(REPO, 'src', f)).concat([join(HERE, 'tokenize_lines.c')]);
  return srcs.some((f) => existsSync(f) && statSync(f).mtimeMs > t);
}
const argi = process.argv.indexOf('--seconds');
const SECONDS = argi > 0 ? Number(process.argv[argi + 1]) : 5;

const firsti = process.argv.indexOf('--first');
let corpus = gunzipSync(readFileSync(join(HERE, 'corpus.txt.gz')));
if (firsti > 0) {
  let n = Number(process.argv[firsti + 1]), i = 0;
  while (n > 0 && i < corpus.length) if (corpus[i++] === 0x0a) n--;
  corpus = corpus.subarray(0, i);
}
const lines = [];
for (let i = 0, s = 0; i <= corpus.length; i++) {
  if (i === corpus.length ? i > s : corpus[i] === 0x0a) {
    lines.push(corpus.subarray(s, i));
    s = i + 1;
  }
}
const decoder = new TextDecoder();
const texts = lines.map((l) => decoder.decode(l));
const results = [];

// transformers.js
{
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(FIXTURE) + '/';
  const tok = await AutoTokenizer.from_pretrained('vocab-only');
  for (const s of texts.slice(0, 2000)) tok.encode(s); // warm-up
  let tokens = 0, rounds = 0;
  const t0 = performance.now();
  let dt;
  do {
    for (const s of texts) tokens += tok.encode(s).length;
    rounds++;
    dt = (performance.now() - t0) / 1000;
  } while (dt < SECONDS);
  results.push({ name: 'transformers.js (Node ' + process.versions.node + ')', tokens, rounds, seconds: dt, tokens_per_s: tokens / dt });
}

// native
if (existsSync(NATIVE)) {
  const r = spawnSync(NATIVE, [FIXTURE, '--bench', String(SECONDS)], { input: corpus, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`native driver failed: ${r.stderr}`);
  results.push({ name: 'bertwasm C, native', ...JSON.parse(r.stdout.toString()) });
} else {
  console.error(`native driver not found at ${NATIVE}`);
}

// wasm32-wasi under node:wasi
{
  if (wasmStale(WASM)) {
    const b = spawnSync('sh', [join(HERE, 'build_wasi.sh'), WASM], { stdio: 'inherit' });
    if (b.status !== 0) throw new Error('wasm build failed');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'bert-tok-bench-'));
  try {
    writeFileSync(join(tmp, 'in.txt'), corpus);
    const fin = openSync(join(tmp, 'in.txt'), 'r'), fout = openSync(join(tmp, 'out.txt'), 'w');
    const wasi = new WASI({
      version: 'preview1', args: ['tokenize_lines', '/model', '--bench', String(SECONDS)],
      preopens: { '/model': FIXTURE }, stdin: fin, stdout: fout, returnOnExit: true,
    });
    const mod = await WebAssembly.compile(readFileSync(WASM));
    const inst = await WebAssembly.instantiate(mod, wasi.getImportObject());
    const rc = wasi.start(inst);
    closeSync(fin);
    closeSync(fout);
    if (rc !== 0) throw new Error(`wasm driver exited with ${rc}`);
    results.push({ name: 'bertwasm C, wasm32-wasi (node:wasi)', ...JSON.parse(readFileSync(join(tmp, 'out.txt'), 'utf8')) });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const base = results[0].tokens_per_s;
console.log(`corpus: ${lines.length} lines, ${corpus.length} bytes; ${SECONDS} s per engine`);
for (const r of results) {
  console.log(`${r.name.padEnd(40)} ${Math.round(r.tokens_per_s).toLocaleString('en-US').padStart(12)} tokens/s` +
    `  ${(r.tokens_per_s / base).toFixed(1).padStart(5)}x  (${r.rounds} rounds, ${r.tokens} tokens)`);
}
