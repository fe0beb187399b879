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

// A .d.ts without its comments (they may mention members the class does not have).
const code = (dts) => dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/(?!\/).*$/gm, '');
// The body of `export class Name { ... }` in a .d.ts (comments removed).
function classBody(dts, name) {
  const m = new RegExp(`export class ${name} \\{([\\s\\S]*?)\\n\\}`).exec(code(dts));
  assert.ok(m, `class ${name} not found`);
  return m[1];
}

test('dispose protocols: Model has [Symbol.dispose], RemoteModel [Symbol.asyncDispose] only, in the .d.ts, at runtime and in the docs', () => {
  const model = classBody(INDEX_DTS, 'Model'), remote = classBody(WORKER_DTS, 'RemoteModel');
  assert.match(model, /\[Symbol\.dispose\]\(\): void;/);
  assert.doesNotMatch(model, /asyncDispose/);
  assert.match(model, /\bdispose\(\): void;/);
  assert.match(remote, /\[Symbol\.asyncDispose\]\(\): Promise<void>;/);
  assert.doesNotMatch(remote, /\[Symbol\.dispose\]/);
  assert.match(remote, /\bdispose\(\): Promise<void>;/);
  assert.equal(typeof index.Model.prototype[Symbol.dispose], 'function');
  assert.equal(index.Model.prototype[Symbol.asyncDispose], undefined);
  assert.equal(typeof worker.RemoteModel.prototype[Symbol.asyncDispose], 'function');
  assert.equal(worker.RemoteModel.prototype[Symbol.dispose], undefined);
  assert.equal(worker.RemoteModel.prototype.dispose.constructor.name, 'AsyncFunction');
  // docs/web.md's worker section says so, rather than "the same API".
  const section = /\n## Worker mode\n([\s\S]*?)\n## /.exec(DOCS)[1];
  assert.match(section, /`dispose\(\)` returns a promise/);
  assert.match(section, /`\[Symbol\.asyncDispose\]\(\)`/);
  assert.match(section, /instead of `\[Symbol\.dispose\]\(\)`/);
  assert.doesNotMatch(section, /has the same API[;.]/);
});

test('toJSON(): declared on both classes, and ModelSummary lists exactly what it returns', async () => {
  for (const [dts, name] of [[INDEX_DTS, 'Model'], [WORKER_DTS, 'RemoteModel']])
    assert.match(classBody(dts, name), /\btoJSON\(\): ModelSummary;/, name);
  const m = await index.load(TINY);
  assert.deepEqual(Object.keys(m.toJSON()).sort(), interfaceFields(INDEX_DTS, 'ModelSummary').sort());
  m.dispose();
});

// The types must check without @types/node (tsc --strict --module nodenext, any target or lib):
// Symbol.dispose / Symbol.asyncDispose come from TypeScript's esnext.disposable lib, which each file
// that uses them references. (Checked with tsc 5.9 and 7 outside the repo: typescript is not one of
// its dependencies, so this is the textual half of that check.)
test('the .d.ts files that use Symbol.dispose / asyncDispose reference the esnext.disposable lib', () => {
  for (const [file, dts] of [['index.d.ts', INDEX_DTS], ['worker.d.ts', WORKER_DTS]]) {
    if (!/Symbol\.(async)?[dD]ispose/.test(code(dts))) continue;
    assert.match(dts, /^\/\/\/ <reference lib="esnext\.disposable" \/>$/m, `${file} uses Symbol.dispose without the lib reference`);
  }
});

// tests/fixtures/ is not in the npm package: where README.md and docs/web.md use it, the same
// paragraph (or the one just before a code block using it) says it needs a clone of the repository.
test('README.md and docs/web.md say that tests/fixtures/ is only in a clone of the repository', () => {
  for (const file of ['README.md', 'docs/web.md']) {
    const blocks = read(file).split(/\n\s*\n/);
    for (let i = 0; i < blocks.length; i++) {
      if (!blocks[i].includes('tests/fixtures/')) continue;
      const context = blocks[i].trimStart().startsWith('```') && i > 0 ? blocks[i - 1] + '\n' + blocks[i] : blocks[i];
      assert.match(context.replace(/\s+/g, ' '), /clone of (the|this) repository/,
        `${file}: this paragraph uses tests/fixtures/ without saying it is only in a clone of the repository:\n${blocks[i]}`);
    }
  }
});
