// The hand-written types (web/index.d.ts, web/worker.d.ts) and docs/web.md against what the JS
// does. Run: node --test tests/node/docs.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TINY = path.join(ROOT, 'tests/fixtures/tiny');
const read = (f) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const DOCS = read('docs/web.md');
const INDEX_DTS = read('web/index.d.ts');
const WORKER_DTS = read('web/worker.d.ts');

const index = await import('../../web/index.js');
const worker = await import('../../web/worker.js');
after(() => index.shutdown());

// Names a .d.ts declares as values (classes, functions, constants, value re-exports).
function valueExports(dts) {
  const names = new Set();
  for (const m of dts.matchAll(/^export (?:declare )?(?:abstract )?(?:class|function|const|let) (\w+)/gm)) names.add(m[1]);
  for (const m of dts.matchAll(/^export \{([^}]*)\} from/gm)) {
    for (const n of m[1].split(',')) if (n.trim() && !/^type\s/.test(n.trim())) names.add(n.trim());
  }
  return [...names];
}

// The string literals of `export type Name = 'a' | 'b' ...;`.
function literalUnion(dts, name) {
  const m = new RegExp(`export type ${name} =([^;]*);`).exec(dts);
  assert.ok(m, `type ${name} not found`);
  return [...m[1].matchAll(/'([^']*)'/g)].map((x) => x[1]);
}

// The member names of `export interface Name { ... }` (one level).
function interfaceFields(dts, name) {
  const m = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(dts);
  assert.ok(m, `interface ${name} not found`);
  return [...m[1].matchAll(/^\s+(\w+)\??:/gm)].map((x) => x[1]);
}

test('every value export declared in the .d.ts files exists at runtime', () => {
  for (const [file, dts, mod] of [['index.d.ts', INDEX_DTS, index], ['worker.d.ts', WORKER_DTS, worker]]) {
    for (const name of valueExports(dts)) assert.ok(name in mod, `${file} declares ${name}, which the module does not export`);
  }
});

test('docs/web.md tables: every row has as many cells as its header (| inside code is escaped)', () => {
  const lines = DOCS.split('\n');
  const cells = (l) => l.replace(/\\\|/g, '').split('|').length;
  for (let i = 0; i < lines.length; i++) {
    if (!/^\|.*\|\s*$/.test(lines[i]) || !/^\|[-| :]+\|\s*$/.test(lines[i + 1] || '')) continue;
    const want = cells(lines[i]);
    for (let k = i + 2; k < lines.length && lines[k].startsWith('|'); k++)
      assert.equal(cells(lines[k]), want, `docs/web.md:${k + 1} has a different number of cells than its header`);
  }
});

test('every BertErrorCode is documented in docs/web.md', () => {
  for (const code of literalUnion(INDEX_DTS, 'BertErrorCode')) assert.ok(DOCS.includes('`' + code + '`'), `${code} not in docs/web.md`);
});

test('progress events: fields match ProgressEvent; loaded is counted per phase, as the docs say', async () => {
  const events = [];
  const m = await index.load(TINY, { onProgress: (e) => events.push(e) });
  m.dispose();
  const declared = new Set(interfaceFields(INDEX_DTS, 'ProgressEvent'));
  for (const e of events) for (const k of Object.keys(e)) assert.ok(declared.has(k), `ProgressEvent lacks '${k}' (sent on '${e.phase}')`);
  const phases = [.../\bphase: ([^;]*);/.exec(INDEX_DTS)[1].matchAll(/'(\w+)'/g)].map((x) => x[1]);
  for (const e of events) assert.ok(phases.includes(e.phase), e.phase);
  // files: counts of files; then bytes of model.safetensors, never decreasing, ending at total.
  const files = events.filter((e) => e.phase === 'files'), bytes = events.filter((e) => e.phase !== 'files');
  for (const list of [files, bytes])
    for (let i = 1; i < list.length; i++) assert.ok(list[i].loaded >= list[i - 1].loaded, `${list[i].phase}: loaded decreased`);
  assert.equal(files[files.length - 1].loaded, files[files.length - 1].total);
  const done = bytes[bytes.length - 1];
  assert.equal(done.phase, 'done');
  assert.equal(done.loaded, done.total);
  const row = DOCS.split('\n').find((l) => l.startsWith('| `onProgress`'));
  assert.ok(row && /per phase/.test(row) && /wasmMemory/.test(row), `the onProgress row should describe loaded per phase and wasmMemory: ${row}`);
});

test('dtype: load() accepts exactly the names of the DType type', async () => {
  const names = literalUnion(INDEX_DTS, 'DType');
  assert.deepEqual([...names].sort(), ['f16', 'f32', 'q4', 'q8']);
  for (const dtype of names) {
    const m = await index.load(TINY, { dtype, embeddingDtype: dtype });
    assert.equal(m.plan.dtype, dtype);
    m.dispose();
  }
  for (const bad of ['q8_0', 'q4_0', 'Q8', 'int8']) {
    for (const key of ['dtype', 'embeddingDtype'])
      await assert.rejects(index.load(TINY, { [key]: bad }), (e) => e instanceof index.BertError && e.code === 'INVALID_ARGUMENT', `${key} ${bad}`);
  }
});
