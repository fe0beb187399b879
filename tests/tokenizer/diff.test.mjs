// Differential test of the C tokenizer against transformers.js (@huggingface/transformers) over the
// committed corpus (tests/tokenizer/corpus.txt.gz, one encode per line). 100% identical ids required.
//
//   node --test tests/tokenizer/
//
// The native driver is ${BERT_BUILD_DIR:-build}/tests/tokenize_lines (override the full path with
// BERT_TOKENIZE_LINES). Variants: the bert-base-uncased fixture (tokenizer.json, and vocab.txt +
// tokenizer_config.json, which must agree), cased (lowercase=false), strip_accents=false with
// lowercasing, cased with strip_accents=true; plus sentence pairs with token type ids.
// Invalid UTF-8 lines go to the C side as raw bytes and to transformers.js as TextDecoder output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const DRIVER = process.env.BERT_TOKENIZE_LINES ??
  join(resolve(REPO, process.env.BERT_BUILD_DIR ?? 'build'), 'tests', 'tokenize_lines');
const FIXTURE = join(REPO, 'tests', 'fixtures', 'vocab-only');

// The wasm driver is (re)built when missing or older than any of its sources.
function wasmStale(wasm) {
  if (!existsSync(wasm)) return true;
  const t = statSync(wasm).mtimeMs;
  const srcs = ['tokenizer.c', 'tokenizer.h', 'unicode.c', 'unicode.h', 'unicode_tables.c', 'json.c', 'json.h', 'common.c',
    'common.h', 'bert.h'].map((f) => join(REPO, 'src', f)).concat([join(HERE, 'tokenize_lines.c')]);
  return srcs.some((f) => existsSync(f) && statSync(f).mtimeMs > t);
}
const GEN = join(REPO, 'tests', 'gen', 'gen_model.py');

export function loadCorpus(file = 'corpus.txt.gz') {
  const buf = gunzipSync(readFileSync(join(HERE, file)));
  const lines = [];
  let s = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      lines.push(buf.subarray(s, i));
      s = i + 1;
    }
  }
  if (s < buf.length) lines.push(buf.subarray(s));
  return { buf, lines };
}

export function runDriver(dir, args, input) {
  const r = spawnSync(DRIVER, [dir, ...args], { input, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`tokenize_lines failed (${r.status}): ${r.stderr}`);
  const out = r.stdout.toString('utf8').split('\n');
  out.pop();
  return out;
}

export async function loadReference(dir) {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(dir) + '/';
  return AutoTokenizer.from_pretrained(dir.split('/').pop());
}

function makeVariant(root, name, args) {
  const out = join(root, name);
  const r = spawnSync('/usr/bin/python3', [GEN, '--out', out, '--tokenizer-only', '-q', ...args]);
  if (r.status !== 0) throw new Error(`gen_model.py ${args.join(' ')} failed: ${r.stderr}`);
  return out;
}

// A copy of the fixture with BertNormalizer options changed (a JSON edit, not a vocab conversion).
function editVariant(root, name, normalizer, top = {}) {
  const out = join(root, name);
  mkdirSync(out, { recursive: true });
  const j = JSON.parse(readFileSync(join(FIXTURE, 'tokenizer.json'), 'utf8'));
  Object.assign(j.normalizer, normalizer);
  Object.assign(j, top);
  writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(j));
  copyFileSync(join(FIXTURE, 'tokenizer_config.json'), join(out, 'tokenizer_config.json'));
  return out;
}

const preview = (s) => JSON.stringify(s.length > 120 ? s.slice(0, 120) + '…' : s);

function compare(name, expected, got, texts, known = null) {
  assert.equal(got.length, expected.length, `${name}: driver printed ${got.length} lines for ${expected.length}`);
  let bad = 0, explained = 0;
  const shown = [];
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] !== got[i]) {
      if (known && [...texts[i]].some((ch) => known.has(ch.codePointAt(0)))) {
        explained++;
        continue;
      }
      bad++;
      if (shown.length < 8) shown.push(`  line ${i + 1} ${preview(texts[i])}\n    transformers.js: ${expected[i]}\n    C:               ${got[i]}`);
    }
  }
  console.log(`[tokenizer diff] ${name}: ${expected.length} lines compared, ${bad} mismatches` +
    (known ? `, ${explained} more explained by known Unicode-version differences` : ''));
  if (shown.length) console.log(shown.join('\n'));
  assert.equal(bad, 0, `${name}: ${bad} of ${expected.length} lines differ from transformers.js`);
}

const haveDriver = existsSync(DRIVER);
const { buf, lines } = loadCorpus();
const decoder = new TextDecoder('utf-8');
const texts = lines.map((l) => decoder.decode(l));

test('corpus is large and multi-script', () => {
  assert.ok(lines.length >= 20000, `corpus has ${lines.length} lines`);
  const scripts = ['Latin', 'Greek', 'Cyrillic', 'Arabic', 'Hebrew', 'Devanagari', 'Han', 'Hangul', 'Thai', 'Georgian',
    'Armenian', 'Ethiopic', 'Bengali', 'Tamil'];
  for (const sc of scripts) {
    const re = new RegExp(`\\p{Script=${sc}}`, 'u');
    const n = texts.filter((t) => re.test(t)).length;
    assert.ok(n >= 20, `only ${n} lines in script ${sc}`);
  }
  const invalid = lines.filter((l, i) => texts[i].includes('\ufffd')).length;
  assert.ok(invalid >= 100, `only ${invalid} lines with invalid UTF-8 / U+FFFD`);
});

test('driver exists', () => {
  assert.ok(haveDriver, `native driver not found at ${DRIVER}: build with cmake -B build && cmake --build build, or set BERT_BUILD_DIR / BERT_TOKENIZE_LINES`);
});

test('C tokenizer matches transformers.js on the corpus', { skip: !haveDriver && 'no driver' }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'bert-tok-'));
  try {
    const variants = [
      { name: 'uncased (fixture tokenizer.json)', dir: FIXTURE },
      { name: 'cased (lowercase=false)', gen: ['--no-lowercase'] },
      { name: 'lowercase, strip_accents=false', gen: ['--strip-accents', 'false'] },
      { name: 'cased, strip_accents=true', gen: ['--no-lowercase', '--strip-accents', 'true'] },
      { name: 'clean_text=false', edit: { clean_text: false } },
      { name: 'handle_chinese_chars=false', edit: { handle_chinese_chars: false } },
      { name: 'BertProcessing post-processor', edit: {},
        top: { post_processor: { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] } } },
    ];
    for (const v of variants) {
      await t.test(v.name, async () => {
        const slug = v.name.replace(/[^a-z]+/g, '_');
        const dir = v.dir ?? (v.edit ? editVariant(root, slug, v.edit, v.top) : makeVariant(root, slug, v.gen));
        const tok = await loadReference(dir);
        const expected = texts.map((s) => tok.encode(s).join(' '));
        compare(v.name, expected, runDriver(dir, [], buf), texts);
        if (v.dir) {
          const viaVocab = runDriver(dir, ['--vocab'], buf);
          compare(`${v.name} via vocab.txt + tokenizer_config.json`, expected, viaVocab, texts);
        }
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('pairs: ids and token type ids match transformers.js', { skip: !haveDriver && 'no driver' }, async () => {
  const tok = await loadReference(FIXTURE);
  // Consecutive corpus lines as (a, b). transformers.js treats an empty b as "no pair", Hugging Face
  // Python tokenizers (and we) keep [CLS] a [SEP] [SEP]: those pairs are skipped here and covered by
  // the C unit test.
  const pairBufs = [], pa = [], pb = [];
  for (let i = 0; i + 1 < lines.length && pa.length < 6000; i += 2) {
    if (texts[i + 1] === '') continue;
    pairBufs.push(lines[i], lines[i + 1]);
    pa.push(texts[i]);
    pb.push(texts[i + 1]);
  }
  const input = Buffer.concat(pairBufs.flatMap((l) => [l, Buffer.from('\n')]));
  const got = runDriver(FIXTURE, ['--pair', '--types'], input);
  const expected = pa.map((a, i) => {
    const r = tok(a, { text_pair: pb[i], return_token_type_ids: true });
    return r.input_ids.tolist()[0].join(' ') + ' | ' + r.token_type_ids.tolist()[0].join(' ');
  });
  compare('pairs', expected, got, pa.map((a, i) => a + ' ⟂ ' + pb[i]));
});

// Every code point assigned in the UCD our tables come from (Debian unicode-data 15.0), in several
// contexts. Node 20.20's V8/ICU implements a newer Unicode (process.versions.unicode); characters
// whose tokenizer-relevant properties changed since 15.0 are listed here and are the only accepted
// differences.
const UNICODE_CHANGES = new Map([
  [0x1171e, 'AHOM CONSONANT SIGN MEDIAL RA: Mn in 15.0, Mc since 16.0 (not stripped as an accent)'],
]);

test('Unicode sweep: every assigned code point in context', { skip: !haveDriver && 'no driver' }, async (t) => {
  const sw = loadCorpus('sweep.txt.gz');
  const swTexts = sw.lines.map((l) => decoder.decode(l));
  console.log(`[tokenizer diff] sweep: tables Unicode 15.0, transformers.js runs on Unicode ${process.versions.unicode}`);
  const root = mkdtempSync(join(tmpdir(), 'bert-tok-'));
  try {
    const variants = [['sweep uncased', FIXTURE], ['sweep cased', makeVariant(root, 'cased', ['--no-lowercase'])],
      ['sweep lowercase only', makeVariant(root, 'lower', ['--strip-accents', 'false'])],
      ['sweep strip accents only', makeVariant(root, 'strip', ['--no-lowercase', '--strip-accents', 'true'])],
      ['sweep clean_text=false', editVariant(root, 'noclean', { clean_text: false })]];
    for (const [name, dir] of variants) {
      await t.test(name, async () => {
        const tok = await loadReference(dir);
        const expected = swTexts.map((s) => tok.encode(s).join(' '));
        compare(name, expected, runDriver(dir, [], sw.buf), swTexts, new Set(UNICODE_CHANGES.keys()));
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('offsets: in range, ordered, and on ASCII lines the bytes spell the token', { skip: !haveDriver && 'no driver' }, () => {
  const vocab = readFileSync(join(FIXTURE, 'vocab.txt'), 'utf8').split('\n');
  const out = runDriver(FIXTURE, ['--offsets'], buf);
  assert.equal(out.length, lines.length);
  let checked = 0, spelled = 0, bad = 0;
  const shown = [];
  for (let i = 0; i < lines.length; i++) {
    const toks = out[i].split(' ').map((x) => x.split(':').map(Number));
    const ascii = lines[i].every((b) => b < 0x80);
    let prevEnd = 0;
    for (let k = 0; k < toks.length; k++) {
      const [id, b, e] = toks[k];
      const special = k === 0 || k === toks.length - 1;
      let ok = special ? b === 0 && e === 0 : b >= prevEnd - 0 && b < e && e <= lines[i].length;
      if (!special) prevEnd = b;
      if (ok && !special && ascii && vocab[id] !== '[UNK]') {
        const piece = vocab[id].startsWith('##') ? vocab[id].slice(2) : vocab[id];
        // (a piece spans the control characters the cleaner dropped inside its word)
        const raw = lines[i].subarray(b, e).toString('latin1').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');
        ok = raw.toLowerCase() === piece || raw === piece; // added tokens ([MASK]) are not lowercased
        spelled++;
      }
      checked++;
      if (!ok) {
        bad++;
        if (shown.length < 5) shown.push(`line ${i + 1} token ${k}: ${vocab[id]} at [${b},${e})`);
      }
    }
  }
  console.log(`[tokenizer diff] offsets: ${checked} tokens checked (${spelled} spelled out), ${bad} bad` + (shown.length ? '\n' + shown.join('\n') : ''));
  assert.equal(bad, 0);
});

// The wasm32-wasi build of the driver (what ships as the WASI CLI / web core) must print exactly
// what the native build prints. Uses ${BERT_BUILD_DIR:-build}/tokenize_lines.wasm (or
// BERT_TOKENIZE_WASM), building it with build_wasi.sh when clang-22 is available.
test('wasm32-wasi build gives the native output', { skip: !haveDriver && 'no driver' }, async (t) => {
  const wasm = process.env.BERT_TOKENIZE_WASM ??
    join(resolve(REPO, process.env.BERT_BUILD_DIR ?? 'build'), 'tokenize_lines.wasm');
  if (wasmStale(wasm)) {
    const b = spawnSync('sh', [join(HERE, 'build_wasi.sh'), wasm]);
    if (b.status !== 0) {
      t.skip(`cannot build ${wasm}: ${b.stderr}`);
      return;
    }
  }
  const { WASI } = await import('node:wasi');
  const { openSync, closeSync } = await import('node:fs');
  const mod = await WebAssembly.compile(readFileSync(wasm));
  const root = mkdtempSync(join(tmpdir(), 'bert-tok-wasm-'));
  try {
    writeFileSync(join(root, 'in.txt'), buf);
    for (const args of [['--offsets'], ['--pair', '--types', '--max', '64']]) {
      const fin = openSync(join(root, 'in.txt'), 'r'), fout = openSync(join(root, 'out.txt'), 'w');
      const wasi = new WASI({ version: 'preview1', args: ['tokenize_lines', '/model', ...args],
        preopens: { '/model': FIXTURE }, stdin: fin, stdout: fout, returnOnExit: true });
      const rc = wasi.start(await WebAssembly.instantiate(mod, wasi.getImportObject()));
      closeSync(fin);
      closeSync(fout);
      assert.equal(rc, 0);
      const got = readFileSync(join(root, 'out.txt'), 'utf8').split('\n');
      got.pop();
      const native = runDriver(FIXTURE, args, buf);
      let bad = 0;
      for (let i = 0; i < native.length; i++) bad += native[i] !== got[i];
      console.log(`[tokenizer diff] wasm vs native ${args.join(' ')}: ${native.length} lines compared, ${bad} mismatches`);
      assert.equal(got.length, native.length);
      assert.equal(bad, 0);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// Added tokens beyond the specials: normalized ones are matched in the normalized text
// (transformers.js's splitter_normalized), unnormalized ones in the raw text.
test('added tokens (normalized and not) match transformers.js', { skip: !haveDriver && 'no driver' }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'bert-tok-added-'));
  try {
    const base = JSON.parse(readFileSync(join(FIXTURE, 'tokenizer.json'), 'utf8')).added_tokens;
    const extra = [['COVID19', true], ['Naïve Bayes', true], ['<ent>', false], ['日本', true], ['ab', true],
      ['abc', true], ['ΣΑΣ', true], ['x y', true], ['\u00e9t\u00e9', true]]
      .map(([content, normalized], i) => ({ id: 30522 + i, content, single_word: false, lstrip: false, rstrip: false,
        normalized, special: false }));
    const dir = editVariant(root, 'added', {}, { added_tokens: [...base, ...extra] });
    const tok = await loadReference(dir);
    const more = ['covid19 COVID19 Covid19x xcovid19', 'naive bayes NAÏVE  BAYES naive\tbayes naïvebayes', '<ent> <ENT> x<ent>y',
      '日本語 日本 中日本', 'xaby abc abcd ab aab', 'ΣΑΣ σας ΣΑΣΑ ΣΑΣ.', '[CLS]covid19[SEP]ab[MASK]', 'x  y x\ny X Y',
      'ÉTÉ été e\u0301te\u0301 ete', ''].map((s) => Buffer.from(s.replace('\n', ' ')));
    const ls = [...more, ...lines];
    const input = Buffer.concat(ls.flatMap((l) => [l, Buffer.from('\n')]));
    const txt = ls.map((l) => decoder.decode(l));
    const expected = txt.map((s) => tok.encode(s).join(' '));
    compare('added tokens', expected, runDriver(dir, [], input), txt);
    assert.ok(expected.slice(0, more.length).join(' ').split(' ').filter((x) => Number(x) >= 30522).length >= 15,
      'the added tokens were not exercised');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
