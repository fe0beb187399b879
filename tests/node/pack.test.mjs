// `npm pack`, install the tarball into an empty folder (offline: no runtime dependencies) and run
// examples/node there, in both the main-thread and worker modes. Prints the packed size.
// Needs dist/ (scripts/build-web.sh). Run: node --test tests/node/pack.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Relative link targets ([text](target), images too) of a markdown page, outside code.
function relativeLinks(md) {
  const text = md.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1])
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#')); // not URLs or in-page anchors
}

// `page: target` for every relative link that does not resolve to a packed file, following links
// into packed markdown pages.
function brokenLinks(pages, packed) {
  const broken = [], seen = new Set(pages);
  for (let i = 0; i < pages.length; i++) {
    const page = pages[i];
    for (const target of relativeLinks(fs.readFileSync(path.join(ROOT, page), 'utf8'))) {
      const file = path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURI(target.split('#')[0])));
      if (!packed.has(file)) broken.push(`${page}: ${target}`);
      else if (file.endsWith('.md') && !seen.has(file)) { seen.add(file); pages.push(file); }
    }
  }
  return broken;
}

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
    // Of the sources only src/bert.h, which README.md links to (the C API); no test fixture.
    for (const f of files.keys()) assert.ok(!/^(src|tests|build|node_modules)\//.test(f) || f === 'src/bert.h', `${f} should not be packed`);
    assert.ok(info.size < 512 * 1024, `the tarball is ${info.size} bytes (>= 512 KiB)`);
    // package.json says MIT: the license text ships with it.
    assert.ok(files.has('LICENSE'), 'LICENSE missing from the package');
    const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
    assert.match(license, /^MIT License/);
    assert.match(license, /Copyright \(c\) \d{4} bertwasm authors/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).license, 'MIT');
    // Relative links in README.md and docs/web.md, and in the packed pages they lead to, resolve
    // inside the installed package.
    for (const broken of brokenLinks(['README.md', 'docs/web.md'], files)) assert.fail(`${broken} is not in the package`);
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
    // The example as installed (node_modules/bertwasm/examples/node/nearest.mjs), where the
    // repository's fixtures do not exist: without --model it says what to give, a missing file is
    // a message, not a stack trace, and without a file it ranks its built-in sentences.
    const installed = path.join('node_modules', 'bertwasm', 'examples', 'node', 'nearest.mjs');
    const run = (...a) => spawnSync(process.execPath, [installed, ...a], { cwd: app, timeout: 60000, encoding: 'utf8' });
    const noModel = run('--query', 'food');
    assert.equal(noModel.status, 2, noModel.stderr);
    assert.match(noModel.stderr, /--model/);
    assert.match(noModel.stderr, /clone of the repository/);
    const noFile = run('--model', path.join(ROOT, 'tests/fixtures/tiny'), path.join(tmp, 'no-such-file.txt'));
    assert.equal(noFile.status, 2, noFile.stderr);
    assert.match(noFile.stderr, /cannot read .*no-such-file\.txt/);
    const badModel = run('--model', path.join(tmp, 'no-such-model'));
    assert.equal(badModel.status, 1, badModel.stderr);
    assert.match(badModel.stderr, /BAD_MODEL/);
    for (const r of [noModel, noFile, badModel]) assert.doesNotMatch(r.stderr, /^\s+at /m, 'a stack trace');
    const builtIn = run('--model', path.join(ROOT, 'tests/fixtures/tiny'), '--query', 'A man is eating food.', '-k', '2');
    assert.equal(builtIn.status, 0, builtIn.stderr);
    assert.match(builtIn.stdout, /^query: A man is eating food\.\n\s+1\.0000\s+A man is eating food\.\n\s+\S+\s+\S.*\n$/);
    // The types resolve through the exports map.
    const resolved = execFileSync(process.execPath, ['-e', "import('bertwasm').then(m => console.log(typeof m.load, typeof m.BertError)); import('bertwasm/worker').then(m => console.log(typeof m.load))"], { cwd: app }).toString();
    assert.match(resolved, /function function/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
