// Every case of the malformed corpus through the CLI: dist/bertwasm-wasi.wasm via wasi/run.mjs
// (node:wasi) and the native build ($BERT_BUILD_DIR/bertwasm, default build/). Each case is a model
// folder (case files over the base model's); `bertwasm embed --model <case> hello` must exit 1 with
// exactly one stderr line "bertwasm: <path in the case folder>: <STATUS>: ...<fragment>...", and
// the control case must exit 0 with one record.
// Run: BERT_BUILD_DIR=build node --test tests/reliability/malformed_wasi.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, TMP, manifest, materializeCases, caseName } from './common.mjs';

const RUN_MJS = path.join(ROOT, 'wasi/run.mjs');
const WASI = path.join(ROOT, 'dist/bertwasm-wasi.wasm');
const NATIVE = path.join(path.resolve(ROOT, process.env.BERT_BUILD_DIR || 'build'), 'bertwasm');
if (!fs.existsSync(WASI)) throw new Error(`${WASI} missing: run scripts/build-wasi.sh`);

const cases = manifest();
const root = fs.mkdtempSync(path.join(TMP, 'bertwasm-malcli-'));
materializeCases(root, cases);
after(() => fs.rmSync(root, { recursive: true, force: true }));

function runAsync(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: root, env: { ...process.env, BERTWASM_WASM: WASI }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [], err = [];
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

function check(c, r) {
  const name = caseName(c);
  if (c.status === 'OK') {
    assert.equal(r.code, 0, `${name}: exit ${r.code}: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.ok(JSON.parse(lines[0]).embedding.every(Number.isFinite));
    return;
  }
  assert.equal(r.code, 1, `${name}: exit ${r.code} (${r.signal}), stderr ${JSON.stringify(r.stderr)}`);
  assert.equal(r.stdout, '', `${name}: output on failure`);
  const lines = r.stderr.split('\n');
  assert.equal(lines.pop(), '', `${name}: stderr does not end with a newline`);
  assert.equal(lines.length, 1, `${name}: ${lines.length} stderr lines: ${JSON.stringify(r.stderr)}`);
  const m = /^bertwasm: ([^:]+): ([A-Z_]+): (.*)$/.exec(lines[0]);
  assert.ok(m, `${name}: stderr line not "bertwasm: FILE: STATUS: message": ${lines[0]}`);
  // The file at fault, or the folder itself when a required file is missing (no tokenizer).
  assert.ok(m[1] === name || m[1].startsWith(name + '/'), `${name}: names ${m[1]}, not the case folder or a file in it`);
  assert.ok(fs.existsSync(path.join(root, m[1])), `${name}: names ${m[1]}, which does not exist`);
  assert.equal(m[2], c.status, `${name}: ${lines[0]}`);
  assert.ok(m[3].includes(c.message_contains), `${name}: "${m[3]}" lacks "${c.message_contains}"`);
}

async function sweep(label, cmd, pre) {
  const failures = [];
  let passed = 0;
  const queue = [...cases];
  const worker = async () => {
    for (let c; (c = queue.shift());) {
      const args = [...pre, 'embed', '--model', caseName(c)];
      if (c.budget) args.push('--budget', String(c.budget));
      args.push('hello world');
      const r = await runAsync(cmd, args);
      try { check(c, r); passed++; } catch (e) { failures.push(e.message); }
    }
  };
  await Promise.all([worker(), worker()]);
  console.log(`# CLI ${label}: ${passed}/${cases.length} cases pass`);
  assert.deepEqual(failures, []);
}

test('malformed corpus via the WASI CLI (wasi/run.mjs + dist/bertwasm-wasi.wasm)', { timeout: 180000 }, async () => {
  await sweep('wasi', process.execPath, [RUN_MJS]);
});

test('malformed corpus via the native CLI', { timeout: 120000 }, async (t) => {
  if (!fs.existsSync(NATIVE)) { t.skip(`${NATIVE} not built (set BERT_BUILD_DIR)`); return; }
  await sweep('native', NATIVE, []);
});
