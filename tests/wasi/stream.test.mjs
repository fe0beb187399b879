// Streaming: stdin is processed a batch at a time, so a large input never sits in memory. The
// native build's peak RSS (/usr/bin/time) on a large input stays near its RSS on a tiny one, and
// every line gets its record, in order. Long lines: one line is held at a time (about twice its
// size while it is assembled), not one per --batch slot, and a line over the limit stops the run
// with a message that states the limit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, NATIVE, REPO, SIMD_WASM, TMP, checkBuilt, mkTemp, readLines, run } from './helpers.mjs';

const TIME = '/usr/bin/time';
let dir, big, small, nBig, medium, nMedium;
before(() => {
  dir = mkTemp('bertwasm-stream-');
  const lines = readLines(path.join(FIXTURES, 'sentences.txt'));
  small = path.join(dir, 'small.txt');
  fs.writeFileSync(small, lines.slice(0, 4).join('\n') + '\n');
  // ~9 MB (98k lines) for tokenize; 1k lines for embed (the suite's native build may be an ASan
  // one, 10-20x slower; streaming of the input itself is shown by tokenize)
  big = path.join(dir, 'big.txt');
  const fd = fs.openSync(big, 'w');
  nBig = 0;
  for (let k = 0; k < 2400; k++) {
    fs.writeSync(fd, lines.join('\n') + '\n');
    nBig += lines.length;
  }
  fs.closeSync(fd);
  medium = path.join(dir, 'medium.txt');
  fs.writeFileSync(medium, Array.from({ length: 25 }, () => lines.join('\n')).join('\n') + '\n');
  nMedium = 25 * lines.length;
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// 8 lines of 8 MiB ("word word ..."), for --batch 8
const LONG = 8 << 20;
function longLines() {
  const f = path.join(dir, 'long.txt');
  if (!fs.existsSync(f)) {
    const line = Buffer.alloc(LONG, 'word ');
    const fd = fs.openSync(f, 'w');
    for (let i = 0; i < 8; i++) fs.writeSync(fd, Buffer.concat([line, Buffer.from(`${i}\n`)]));
    fs.closeSync(fd);
  }
  return f;
}

// env: extra environment (e.g. ASAN_OPTIONS for an ASan build)
function peakKiB(args, inputFile, outFile, env = {}) {
  checkBuilt('native');
  const tf = path.join(dir, 'time.txt');
  const inFd = fs.openSync(inputFile, 'r');
  const outFd = fs.openSync(outFile, 'w');
  try {
    const r = spawnSync(TIME, ['-f', '%M', '-o', tf, NATIVE, ...args], { stdio: [inFd, outFd, 'pipe'], env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr.toString());
  } finally {
    fs.closeSync(inFd);
    fs.closeSync(outFd);
  }
  return Number(fs.readFileSync(tf, 'utf8').trim().split('\n').pop());
}

function countLines(file) {
  const b = fs.readFileSync(file);
  let n = 0;
  for (const c of b) if (c === 10) n++;
  return n;
}

test('native tokenize: 9 MB of stdin in bounded memory, one record per line', { skip: !fs.existsSync(TIME) && 'no /usr/bin/time' }, () => {
  const m = path.join(FIXTURES, 'tiny');
  const out = path.join(dir, 'tok.jsonl');
  const kSmall = peakKiB(['tokenize', '--model', m], small, out);
  const kBig = peakKiB(['tokenize', '--model', m], big, out);
  console.log(`# tokenize peak RSS: ${kSmall} KiB for 4 lines, ${kBig} KiB for ${nBig} lines (${(fs.statSync(big).size / 1e6).toFixed(1)} MB)`);
  assert.equal(countLines(out), nBig);
  assert.ok(kBig < kSmall + 4096, `peak RSS grew by ${kBig - kSmall} KiB with the input size`);
});

test('native embed: 1k lines streamed in batches, bounded memory, records in order', { skip: !fs.existsSync(TIME) && 'no /usr/bin/time' }, () => {
  const m = path.join(FIXTURES, 'tiny');
  const out = path.join(dir, 'emb.f32');
  const args = ['embed', '--model', m, '--dtype', 'q8', '--batch', '32', '--format', 'f32'];
  const kSmall = peakKiB(args, small, out);
  const kBig = peakKiB(args, medium, out);
  console.log(`# embed peak RSS: ${kSmall} KiB for 4 lines, ${kBig} KiB for ${nMedium} lines`);
  assert.equal(fs.statSync(out).size, nMedium * 32 * 4);
  assert.ok(kBig < kSmall + 4096, `peak RSS grew by ${kBig - kSmall} KiB with the input size`);
  // the last record equals the last line embedded on its own
  const v = new Float32Array(fs.readFileSync(out).buffer.slice(-32 * 4));
  const lines = readLines(path.join(FIXTURES, 'sentences.txt'));
  const one = run('native', [...args, lines[lines.length - 1]]);
  assert.deepEqual(Array.from(new Float32Array(one.stdout.buffer.slice(one.stdout.byteOffset, one.stdout.byteOffset + one.stdout.length))), Array.from(v));
});

test('wasm embed: a long stdin (5k lines) gives every record in order', () => {
  const lines = readLines(path.join(FIXTURES, 'sentences.txt'));
  const input = Array.from({ length: 125 }, () => lines.join('\n')).join('\n') + '\n';
  const r = run('simd', ['embed', '--model', path.join(FIXTURES, 'tiny'), '--batch', '16', '--format', 'f32'], { input });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.length, 125 * lines.length * 32 * 4);
  const f = new Float32Array(r.stdout.buffer.slice(r.stdout.byteOffset, r.stdout.byteOffset + r.stdout.length));
  // record k and record k + 41 are the same sentence
  for (const k of [0, 17, 40]) {
    assert.deepEqual(Array.from(f.subarray(k * 32, k * 32 + 32)), Array.from(f.subarray((k + 41 * 77) * 32, (k + 41 * 77) * 32 + 32)));
  }
});

test('native embed: 8 long lines at --batch 8 hold one line at a time, not one per slot', { skip: !fs.existsSync(TIME) && 'no /usr/bin/time' }, () => {
  const m = path.join(FIXTURES, 'tiny');
  const out = path.join(dir, 'long.jsonl');
  const args = ['embed', '--model', m, '--batch', '8', '--budget', '4MiB'];
  // an ASan build would keep each freed line in its quarantine
  const env = { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : ''}quarantine_size_mb=0` };
  const kSmall = peakKiB(args, small, out, env);
  const kBig = peakKiB(args, longLines(), out, env);
  const grew = (kBig - kSmall) * 1024;
  console.log(`# embed peak RSS: ${kSmall} KiB for 4 short lines, ${kBig} KiB for 8 lines of ${LONG >> 20} MiB (+${(grew / LONG).toFixed(2)} lines)`);
  assert.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, 8);
  // pieces + the assembled copy of one line (+ shadow memory in an ASan build); a buffer per
  // --batch slot would be 8 lines or more
  assert.ok(grew < 3 * LONG, `peak RSS grew by ${(grew / LONG).toFixed(2)} lines of ${LONG} bytes`);
});

test('wasm embed: 8 long lines at --batch 8 grow linear memory by about two lines, not eight', () => {
  // count_reads.mjs reports the module's memory at exit (wasm memory never shrinks: its peak)
  const memory = (input) => {
    const res = path.join(dir, 'mem.json');
    const inFd = fs.openSync(input, 'r');
    try {
      const r = spawnSync(process.execPath, [path.join(REPO, 'tests', 'wasi', 'count_reads.mjs'), SIMD_WASM, res, '--',
        'embed', '--model', path.join(FIXTURES, 'tiny'), '--batch', '8', '--budget', '4MiB', '--format', 'f32'],
      { cwd: REPO, stdio: [inFd, 'ignore', 'pipe'], env: { ...process.env, BERTWASM_DIRS: TMP } });
      assert.equal(r.status, 0, r.stderr.toString());
    } finally {
      fs.closeSync(inFd);
    }
    return JSON.parse(fs.readFileSync(res, 'utf8')).memory;
  };
  const small_ = memory(small), big_ = memory(longLines());
  const grew = big_ - small_;
  console.log(`# wasm memory: ${small_} bytes for 4 short lines, ${big_} for 8 lines of ${LONG >> 20} MiB (+${(grew / LONG).toFixed(2)} lines)`);
  assert.ok(grew < 3 * LONG, `linear memory grew by ${(grew / LONG).toFixed(2)} lines of ${LONG} bytes`);
});

for (const v of ['native', 'simd']) {
  test(`${v}: a line over --max-line stops the run with exit 1 and a message stating the limit`, () => {
    const m = path.join(FIXTURES, 'tiny');
    const input = `short\n${'x'.repeat(2000)}\nnever read\n`;
    for (const cmd of [['embed'], ['tokenize'], ['rerank', '--query', 'q']]) {
      const model = cmd[0] === 'rerank' ? path.join(FIXTURES, 'tiny-cross') : m;
      const r = run(v, [...cmd, '--model', model, '--max-line', '1KiB'], { input });
      assert.equal(r.code, 1, `${cmd[0]}: ${r.stderr}`);
      assert.equal(r.stderr, 'bertwasm: stdin: line 2: INVALID_ARGUMENT: longer than 1024 bytes, the --max-line limit\n');
    }
    // exactly at the limit is fine
    const ok = run(v, ['tokenize', '--model', m, '--max-line', '1KiB'], { input: `${'x '.repeat(512)}\n` });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout.toString()).n_untruncated, 514);
    // a CRLF line's '\r' is not part of its text: at the limit with it, over the limit with one more
    const crlf = run(v, ['tokenize', '--model', m, '--max-line', '1KiB'], { input: `${'x '.repeat(512)}\r\n` });
    assert.equal(crlf.code, 0, crlf.stderr);
    const over = run(v, ['tokenize', '--model', m, '--max-line', '1KiB'], { input: `${'x '.repeat(512)}\r\r\n` });
    assert.equal(over.code, 1, over.stderr);
    assert.match(over.stderr, /line 1: INVALID_ARGUMENT: longer than 1024 bytes/);
  });
}

test('native: a line over the tokenizer\'s 256 MiB limit is refused with that limit in the message', () => {
  checkBuilt('native');
  const f = path.join(dir, 'huge.txt');
  const fd = fs.openSync(f, 'w');
  const chunk = Buffer.alloc(16 << 20, 'a b ');
  for (let i = 0; i < 16; i++) fs.writeSync(fd, chunk);
  fs.writeSync(fd, 'c\n');
  fs.closeSync(fd);
  const inFd = fs.openSync(f, 'r');
  let r;
  try {
    r = run('native', ['tokenize', '--model', path.join(FIXTURES, 'tiny')], { stdinFd: inFd });
  } finally {
    fs.closeSync(inFd);
    fs.rmSync(f);
  }
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `bertwasm: stdin: line 1: INVALID_ARGUMENT: longer than ${2 ** 31 / 8 - 1} bytes, the longest text the tokenizer takes\n`);
});
