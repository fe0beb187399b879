// `npm pack`, install the tarball into an empty folder (offline: no runtime dependencies) and run
// examples/node there, in both the main-thread and worker modes. Prints the packed size.
// Needs dist/ (scripts/build-web.sh). Run: node --test tests/node/pack.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('npm pack -> install into an empty folder -> examples/node runs', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-pack-'));
  try {
    const packOut = execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT, env: { ...process.env, npm_config_loglevel: 'error' } }).toString();
    const info = JSON.parse(packOut)[0];
    const tgz = path.join(tmp, info.filename);
    console.log(`# packed ${info.filename}: ${info.size} bytes (${(info.size / 1024).toFixed(1)} KiB), unpacked ${info.unpackedSize} bytes, ${info.entryCount} files`);
    const files = new Map(info.files.map((f) => [f.path, f.size]));
    for (const f of ['package.json', 'web/index.js', 'web/index.d.ts', 'web/worker.js', 'web/worker.d.ts', 'web/worker-entry.js', 'web/parts.js',
      'dist/bertwasm.js', 'dist/bertwasm.wasm', 'dist/bertwasm-mt.js', 'dist/bertwasm-mt.wasm', 'dist/bertwasm-mt.worker.cjs',
      'examples/node/nearest.mjs']) assert.ok(files.has(f), `${f} missing from the package`);
    for (const f of files.keys()) assert.ok(!/^(src|tests|build|node_modules)\//.test(f), `${f} should not be packed`);
    for (const f of ['dist/bertwasm.wasm', 'dist/bertwasm-mt.wasm']) {
      console.log(`# ${f}: ${files.get(f)} bytes`);
      assert.ok(files.get(f) < 1024 * 1024, `${f} is ${files.get(f)} bytes (>= 1 MiB)`);
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.dependencies, undefined, 'no runtime dependencies');

    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tgz], { cwd: app });
    fs.copyFileSync(path.join(ROOT, 'examples/node/nearest.mjs'), path.join(app, 'nearest.mjs'));
    const args = ['--model', path.join(ROOT, 'tests/fixtures/tiny'), path.join(ROOT, 'tests/fixtures/sentences.txt'),
      '--query', 'A man is eating food.', '-k', '3'];
    for (const extra of [[], ['--worker']]) {
      const out = execFileSync(process.execPath, ['nearest.mjs', ...args, ...extra], { cwd: app, timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      const lines = out.trim().split('\n');
      assert.equal(lines[0], 'query: A man is eating food.');
      assert.equal(lines.length, 4);
      assert.match(lines[1], /^\s+1\.0000\s+A man is eating food\.$/);
    }
    // The types resolve through the exports map.
    const resolved = execFileSync(process.execPath, ['-e', "import('bertwasm').then(m => console.log(typeof m.load, typeof m.BertError)); import('bertwasm/worker').then(m => console.log(typeof m.load))"], { cwd: app }).toString();
    assert.match(resolved, /function function/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
