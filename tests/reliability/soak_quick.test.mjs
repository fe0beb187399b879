// A short run of tests/reliability/soak.mjs (the full soak: 100,000 embeds and 200 load/dispose
// cycles per build) in a child process with --expose-gc: random texts (empty, long, ~1 MB, lone
// surrogates, refused Uint8Array inputs) on both builds; no error, wasm memory flat after warm-up,
// no JS heap growth. Run: node --test tests/reliability/soak_quick.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, requireDist } from './common.mjs';

requireDist();

test('soak (quick): 4000 embeds + 20 load/dispose cycles per build', { timeout: 120000 }, () => {
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(ROOT, 'tests/reliability/soak.mjs'),
    '--embeds', '4000', '--cycles', '20', '--seed', String(Date.now() % 100000 + 1)], { encoding: 'utf8', timeout: 110000 });
  const lines = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  for (const l of lines) console.log('# ' + JSON.stringify(l));
  assert.equal(lines.length, 2, `soak output: ${r.stdout}\n${r.stderr}`);
  for (const l of lines) {
    assert.deepEqual(l.problems, [], `${l.backend}: ${l.problems}`);
    assert.equal(l.embeds, 4000);
    assert.equal(l.cycles, 20);
    assert.ok(l.loneSurrogateTexts > 0 && l.bytesRefused >= 0);
    assert.equal(l.wasmAfterEmbeds, l.wasmAfterWarm);
    assert.equal(l.wasmMaxOverCycles, l.wasmAfterFirstCycle);
    assert.ok(l.heapTrendMiB <= 2, `${l.backend}: heap trend ${l.heapTrendMiB} MiB`);
  }
  assert.equal(r.status, 0, r.stderr);
});
