// The WASI CLI (dist/bertwasm-wasi.wasm) under node:wasi with ONLY the model folder preopened (as
// /model), by a small runner here (not wasi/run.mjs, which also grants the current directory):
// it works; --model paths outside the preopen fail cleanly (exit 1, one stderr line) even when a
// valid model sits there; modules.json module paths that leave the folder are refused (also by the
// native build, whose check it is); symlinked files that point outside are not read.
// Run: node --test tests/reliability/sandbox.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { ROOT, TINY, TMP } from './common.mjs';

// Same V8 setting as wasi/run.mjs (Node 20 node:wasi + fast API calls + memory.grow crash).
v8.setFlagsFromString('--no-turbo-fast-api-calls');
process.removeAllListeners('warning');
const { WASI } = await import('node:wasi');

const WASM = path.join(ROOT, 'dist/bertwasm-wasi.wasm');
const NATIVE = path.join(path.resolve(ROOT, process.env.BERT_BUILD_DIR || 'build'), 'bertwasm');
if (!fs.existsSync(WASM)) throw new Error(`${WASM} missing: run scripts/build-wasi.sh`);
const module = await WebAssembly.compile(fs.readFileSync(WASM));

const root = fs.mkdtempSync(path.join(TMP, 'bertwasm-sandbox-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

// A full copy of the tiny model under root/<name>; edit(dir) changes it.
function model(name, edit = () => {}) {
  const d = path.join(root, name);
  fs.cpSync(TINY, d, { recursive: true, filter: (src) => !/goldens|onnx/.test(path.basename(src)) });
  edit(d);
  return d;
}
const setModulePath = (d, p) => {
  const m = JSON.parse(fs.readFileSync(path.join(d, 'modules.json'), 'utf8'));
  m.find((x) => x.type.endsWith('Pooling')).path = p;
  fs.writeFileSync(path.join(d, 'modules.json'), JSON.stringify(m));
};

// Runs the CLI with { '/model': dir } as the only preopen; stdout/stderr through temp files.
let runNo = 0;
function runSandboxed(dir, args) {
  const out = path.join(root, `out-${++runNo}`), errf = path.join(root, `err-${runNo}`);
  const fo = fs.openSync(out, 'w'), fe = fs.openSync(errf, 'w');
  let code;
  try {
    const wasi = new WASI({ version: 'preview1', args: ['bertwasm', ...args], env: {}, preopens: { '/model': dir },
      stdin: 0, stdout: fo, stderr: fe, returnOnExit: true });
    code = wasi.start(new WebAssembly.Instance(module, wasi.getImportObject()));
  } finally { fs.closeSync(fo); fs.closeSync(fe); }
  return { code, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(errf, 'utf8') };
}

function expectCleanFailure(r, what, pattern) {
  assert.equal(r.code, 1, `${what}: exit ${r.code}; stdout ${r.stdout.slice(0, 200)}; stderr ${r.stderr}`);
  assert.equal(r.stdout, '', `${what}: output on failure`);
  const lines = r.stderr.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 1, `${what}: stderr ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], /^bertwasm: \S.*: .+$/, what);
  if (pattern) assert.match(lines[0], pattern, what);
  return lines[0];
}

let MODEL, OUTSIDE;
before(() => {
  MODEL = model('model');
  // A valid model next to it, but with CLS pooling: if anything were read from here, the vectors
  // (or a successful run) would show it.
  OUTSIDE = model('outside', (d) => {
    const p = JSON.parse(fs.readFileSync(path.join(d, '1_Pooling/config.json'), 'utf8'));
    for (const k of Object.keys(p)) if (k.startsWith('pooling_mode')) p[k] = false;
    p.pooling_mode_cls_token = true;
    fs.writeFileSync(path.join(d, '1_Pooling/config.json'), JSON.stringify(p));
  });
});

const vec = (r) => JSON.parse(r.stdout.trim().split('\n')[0]).embedding;

test('works with only the model folder preopened', () => {
  const r = runSandboxed(MODEL, ['embed', '--model', '/model', 'hello world']);
  assert.equal(r.code, 0, r.stderr);
  const v = vec(r);
  assert.equal(v.length, 32);
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  // The relative name resolves inside the preopen too, and gives the same vector.
  const r2 = runSandboxed(MODEL, ['embed', '--model', 'model', 'hello world']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.deepEqual(vec(r2), v);
  // The outside model (CLS pooling) gives a different vector: the escape tests below can tell.
  const o = runSandboxed(OUTSIDE, ['embed', '--model', '/model', 'hello world']);
  assert.equal(o.code, 0, o.stderr);
  assert.ok(vec(o).some((x, i) => Math.abs(x - v[i]) > 1e-3));
});

test('--model outside the preopen: clean error, exit 1', () => {
  const rel = path.relative(path.join(root, 'x'), OUTSIDE); // "../outside"
  const cases = ['/model/..', '../', '..', '.', '/', '/etc', TMP, '/model/../outside', rel, OUTSIDE, '/model/../../..'];
  for (const m of cases) {
    for (const cmd of [['embed', '--model', m, 'hi'], ['info', '--model', m], ['plan', '--model', m]]) {
      const r = runSandboxed(MODEL, cmd);
      expectCleanFailure(r, `${cmd[0]} --model ${m}`, /(config\.json|model\.safetensors): cannot open/);
    }
  }
});

const ESCAPES = ['../../etc', '../outside/1_Pooling', '/etc', '1_Pooling/../../outside/1_Pooling', '..', '..\\..\\etc', 'c:/etc'];
test('modules.json module paths that leave the folder are refused (WASI)', () => {
  ESCAPES.forEach((p, i) => {
    const d = model(`modules-${i}`, (dd) => setModulePath(dd, p));
    for (const cmd of [['embed', '--model', '/model', 'hi'], ['info', '--model', '/model']]) {
      const line = expectCleanFailure(runSandboxed(d, cmd), `modules path ${p}`, /modules\.json: module path .* escapes the model folder/);
      assert.ok(line.startsWith('bertwasm: /model/modules.json: '), line);
    }
  });
});

test('modules.json module paths that leave the folder are refused (native)', (t) => {
  if (!fs.existsSync(NATIVE)) { t.skip(`${NATIVE} not built (set BERT_BUILD_DIR)`); return; }
  ESCAPES.forEach((p, i) => {
    const d = path.join(root, `modules-${i}`);
    const r = spawnSync(NATIVE, ['embed', '--model', d, 'hi'], { encoding: 'utf8' });
    assert.equal(r.status, 1, `${p}: exit ${r.status} ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^bertwasm: .*modules\.json: module path .* escapes the model folder\n$/);
  });
});

test('symlinked files pointing outside the preopen are not read', () => {
  const a = model('link-tokenizer', (d) => { fs.rmSync(path.join(d, 'tokenizer.json')); fs.symlinkSync('../outside/tokenizer.json', path.join(d, 'tokenizer.json')); });
  expectCleanFailure(runSandboxed(a, ['embed', '--model', '/model', 'hi']), 'tokenizer.json -> ../outside', /tokenizer\.json: cannot open/);
  const b = model('link-weights', (d) => { fs.rmSync(path.join(d, 'model.safetensors')); fs.symlinkSync(path.join(OUTSIDE, 'model.safetensors'), path.join(d, 'model.safetensors')); });
  expectCleanFailure(runSandboxed(b, ['embed', '--model', '/model', 'hi']), 'model.safetensors -> /abs/outside', /model\.safetensors: cannot open/);
  const c = model('link-config', (d) => { fs.rmSync(path.join(d, 'config.json')); fs.symlinkSync('../../../../../../../etc/hostname', path.join(d, 'config.json')); });
  expectCleanFailure(runSandboxed(c, ['info', '--model', '/model']), 'config.json -> /etc/hostname', /config\.json: cannot open/);
  // A symlink that stays inside is fine.
  const ok = model('link-inside', (d) => { fs.renameSync(path.join(d, 'tokenizer.json'), path.join(d, 'tok.json')); fs.symlinkSync('tok.json', path.join(d, 'tokenizer.json')); });
  assert.equal(runSandboxed(ok, ['embed', '--model', '/model', 'hi']).code, 0);
});

// Known gap of the runtime, not of the CLI: Node 20's node:wasi (uvwasi) checks only the last path
// component against the preopen, so a symlinked DIRECTORY inside the folder leads outside. Node
// documents node:wasi as not a secure sandbox; wasmtime resolves every component inside the
// preopen. Kept as a todo so it is reported, not silently accepted.
test('symlinked directories pointing outside the preopen are not followed', { todo: 'node:wasi follows directory symlinks out of a preopen (runtime limitation)' }, () => {
  const d = model('link-dir', (dd) => { fs.rmSync(path.join(dd, '1_Pooling'), { recursive: true }); fs.symlinkSync('../outside/1_Pooling', path.join(dd, '1_Pooling')); });
  const r = runSandboxed(d, ['info', '--model', '/model']);
  assert.ok(!(r.code === 0 && r.stdout.includes('"pooling":"cls"')), 'the CLS pooling config outside the preopen was read through 1_Pooling -> ../outside/1_Pooling');
  fs.symlinkSync('../outside', path.join(MODEL, 'link'));
  try {
    const r2 = runSandboxed(MODEL, ['info', '--model', '/model/link']);
    assert.notEqual(r2.code, 0, '--model /model/link (-> ../outside) read the outside model');
  } finally { fs.rmSync(path.join(MODEL, 'link')); }
});
