// Every case of the malformed corpus (tests/fixtures/malformed/manifest.json) through the npm
// package's JS API in Node: as explicit parts (both wasm variants) and as a model folder path.
// Each bad case must reject with a BertError whose code is the manifest's status and whose message
// contains its fragment; the control case must load and embed. Needs `bash scripts/build-web.sh`.
// Run: node --test tests/reliability/malformed_js.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { manifest, caseParts, caseWeightsPath, materializeCases, caseName, requireDist, countingStream, TMP } from './common.mjs';

requireDist();
const { load, BertError, shutdown } = await import('../../web/index.js');
const cases = manifest();
const root = fs.mkdtempSync(path.join(TMP, 'bertwasm-maljs-'));
materializeCases(root, cases);
after(() => { shutdown(); fs.rmSync(root, { recursive: true, force: true }); });

async function check(c, source, backend) {
  const opts = { backend, threads: backend === 'threads' ? 2 : 1 };
  if (c.budget) opts.memoryBudget = c.budget;
  if (c.status === 'OK') {
    const m = await load(source, opts);
    const v = await m.embed('hello world');
    assert.ok(v.length > 0 && v.every(Number.isFinite), `${c.file}: bad vector`);
    m.dispose();
    return;
  }
  let err = null;
  try {
    const m = await load(source, opts);
    m.dispose();
  } catch (e) { err = e; }
  assert.ok(err, `${c.file}: loaded, want ${c.status}`);
  assert.ok(err instanceof BertError, `${c.file}: not a BertError: ${err}`);
  assert.equal(err.code, c.status, `${c.file}: code ${err.code} (${err.message}), want ${c.status}`);
  assert.ok(err.message.includes(c.message_contains), `${c.file}: message "${err.message}" lacks "${c.message_contains}"`);
}

const modes = [
  ['parts/single', (c) => caseParts(c), 'single'],
  ['parts/threads', (c) => caseParts(c), 'threads'],
  ['parts/stream of 997-byte chunks/single', (c) => caseParts(c, countingStream(fs.readFileSync(caseWeightsPath(c)), 997).stream), 'single'],
  ['folder/single', (c) => path.join(root, caseName(c)), 'single'],
];
for (const [mode, src, backend] of modes) {
  test(`malformed corpus via JS API (${mode}): every case gives its status and message`, async () => {
    const failures = [];
    let passed = 0;
    for (const c of cases) {
      try { await check(c, src(c), backend); passed++; } catch (e) { failures.push(e.message); }
    }
    console.log(`# JS ${mode}: ${passed}/${cases.length} cases pass (${cases.filter((c) => c.status !== 'OK').length} bad + control)`);
    assert.ok(cases.length >= 70, `manifest has only ${cases.length} cases`);
    assert.deepEqual(failures, []);
  });
}
