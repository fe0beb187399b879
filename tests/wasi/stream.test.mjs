// Streaming: stdin is processed a batch at a time, so a large input never sits in memory. The
// native build's peak RSS (/usr/bin/time) on a large input stays near its RSS on a tiny one, and
// every line gets its record, in order.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, NATIVE, checkBuilt, mkTemp, readLines, run } from './helpers.mjs';

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

function peakKiB(args, inputFile, outFile) {
  checkBuilt('native');
  const tf = path.join(dir, 'time.txt');
  const inFd = fs.openSync(inputFile, 'r');
  const outFd = fs.openSync(outFile, 'w');
  try {
    const r = spawnSync(TIME, ['-f', '%M', '-o', tf, NATIVE, ...args], { stdio: [inFd, outFd, 'pipe'] });
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
