// The WASI builds as artifacts: valid wasm, plain preview1 commands, size, --version/--help.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { RELAXED_WASM, SIMD_WASM, VARIANT_NAMES, run, runOk } from './helpers.mjs';

const SIZE_TARGET = 300 * 1024;

for (const file of [SIMD_WASM, RELAXED_WASM]) {
  const name = file.split('/').pop();
  test(`${name}: wasm-validate, imports only wasi_snapshot_preview1, size`, () => {
    assert.ok(fs.existsSync(file), `${file} missing: run scripts/build-wasi.sh`);
    const v = spawnSync('wasm-validate', ['--enable-relaxed-simd', file], { encoding: 'utf8' });
    assert.equal(v.status, 0, `wasm-validate failed: ${v.stderr}`);
    const bytes = fs.readFileSync(file);
    // Compile in a child Node that has relaxed SIMD on (Node 20 needs the flag) and list the
    // module's imports and exports.
    const probe = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', `
      const m = new WebAssembly.Module(require('fs').readFileSync(${JSON.stringify(file)}));
      console.log(JSON.stringify({ imports: WebAssembly.Module.imports(m), exports: WebAssembly.Module.exports(m) }));`],
    { encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    const { imports, exports: exps } = JSON.parse(probe.stdout);
    assert.ok(imports.length > 0);
    const foreign = imports.filter((i) => i.module !== 'wasi_snapshot_preview1');
    assert.deepEqual(foreign, [], `unexpected imports ${JSON.stringify(foreign)}`);
    const exports = exps.map((e) => e.name);
    assert.ok(exports.includes('_start'), 'a command exports _start');
    assert.ok(exports.includes('memory'));
    console.log(`# ${name}: ${bytes.length} bytes (${(bytes.length / 1024).toFixed(1)} KiB, target < 300 KB)`);
    assert.ok(bytes.length < SIZE_TARGET, `${name} is ${bytes.length} bytes, over the 300 KB target`);
  });
}

test('relaxed-SIMD opcodes: none in the SIMD128 build; reported for the relaxed build', () => {
  // This process runs without --experimental-wasm-relaxed-simd: a module that uses relaxed
  // opcodes does not validate here (wasm-validate without --enable-relaxed-simd agrees).
  assert.equal(WebAssembly.validate(fs.readFileSync(SIMD_WASM)), true);
  assert.equal(spawnSync('wasm-validate', [SIMD_WASM]).status, 0);
  const usesRelaxed = !WebAssembly.validate(fs.readFileSync(RELAXED_WASM));
  // Informational until src/kernels.c has __wasm_relaxed_simd__ paths.
  console.log(`# ${RELAXED_WASM.split('/').pop()} uses relaxed-SIMD opcodes: ${usesRelaxed ? 'yes' : 'no'}`);
});

for (const v of VARIANT_NAMES) {
  test(`${v}: --version, --help, per-command --help`, () => {
    const out = runOk(v, ['--version']);
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url)));
    assert.equal(out.trim(), `bertwasm ${pkg.version}`);
    assert.match(runOk(v, ['--help']), /usage: bertwasm <command>/);
    for (const c of ['embed', 'tokenize', 'rerank', 'plan', 'info']) {
      const h = runOk(v, [c, '--help']);
      assert.match(h, new RegExp(`usage: bertwasm ${c} --model DIR`));
    }
    const none = run(v, []);
    assert.equal(none.code, 2);
  });
}
