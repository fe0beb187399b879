// docs/cli.md's "Your own node:wasi host" snippet, run as printed on a MiniLM-shaped model: a plain
// node:wasi host crashes Node 20 (SIGSEGV, exit 139, after the first record) unless V8's fast API
// calls are off, so the snippet must say so and work. The same snippet without that line is run
// too, for the record only (whether it crashes depends on the Node version).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, SIMD_WASM, genModel, mkTemp } from './helpers.mjs';

const FLAG = "v8.setFlagsFromString('--no-turbo-fast-api-calls')";
let dir, snippet;
before(() => {
  const doc = fs.readFileSync(path.join(REPO, 'docs', 'cli.md'), 'utf8');
  const at = doc.indexOf('### Your own `node:wasi` host');
  assert.ok(at >= 0, 'docs/cli.md has the host section');
  const m = /```js\n([\s\S]*?)```/.exec(doc.slice(at));
  assert.ok(m, 'the section has a js block');
  snippet = m[1];
  // the host runs in a folder holding the model and dist/ (its paths are relative to the cwd)
  dir = mkTemp('bertwasm-host-');
  genModel(path.join(dir, 'minilm'), ['--shape', 'minilm', '--dtype', 'F32']);
  fs.mkdirSync(path.join(dir, 'dist'));
  fs.symlinkSync(SIMD_WASM, path.join(dir, 'dist', 'bertwasm-wasi.wasm'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function host(name, source) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, source);
  return spawnSync(process.execPath, [file, 'embed', '--model', 'minilm', '--batch', '2'], {
    cwd: dir, input: 'A man is eating food.\nA man is riding a horse.\nhello\n', encoding: 'utf8',
  });
}

test('the documented node:wasi host runs a MiniLM-shaped model to the end', () => {
  assert.ok(snippet.includes(FLAG), 'the snippet turns off fast API calls');
  for (let i = 0; i < 3; i++) { // the crash it prevents happened on every run
    const r = host('host.mjs', snippet);
    assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
    assert.equal(r.stdout.trim().split('\n').map((l) => JSON.parse(l).index).join(), '0,1,2');
  }
  const plain = host('plain.mjs', snippet.replace(FLAG, ''));
  console.log(`# without the flag, Node ${process.version}: exit ${plain.status} ${plain.signal ?? ''}`);
});
