// Exit codes and stderr: 1 for runtime errors (missing/malformed model, budget, I/O) with one line
// naming the file, 2 for usage errors; --output never leaves a half-written file behind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, VARIANT_NAMES, mkTemp, run } from './helpers.mjs';

let dir;
const copyModel = (name, from = 'tiny') => {
  const d = path.join(dir, name);
  fs.cpSync(path.join(FIXTURES, from), d, { recursive: true, filter: (s) => !s.includes(`${path.sep}onnx`) && !s.includes('goldens') });
  return d;
};
let truncated, badConfig, escaping, noTokenizer;
before(() => {
  dir = mkTemp('bertwasm-err-');
  truncated = copyModel('truncated');
  const st = path.join(truncated, 'model.safetensors');
  fs.truncateSync(st, fs.statSync(st).size - 1000);
  badConfig = copyModel('badconfig');
  fs.writeFileSync(path.join(badConfig, 'config.json'), '{"hidden_size": 32,, }');
  escaping = copyModel('escaping');
  const modules = JSON.parse(fs.readFileSync(path.join(escaping, 'modules.json'), 'utf8'));
  modules[1].path = '../../../etc';
  fs.writeFileSync(path.join(escaping, 'modules.json'), JSON.stringify(modules));
  noTokenizer = copyModel('notok');
  fs.rmSync(path.join(noTokenizer, 'tokenizer.json'));
  fs.rmSync(path.join(noTokenizer, 'vocab.txt'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// exactly one line on stderr, starting "bertwasm: "
function oneLine(r) {
  const lines = r.stderr.split('\n').filter((l) => l.length);
  assert.equal(lines.length, 1, `one stderr line expected, got:\n${r.stderr}`);
  assert.match(lines[0], /^bertwasm: /);
  return lines[0];
}

for (const v of VARIANT_NAMES) {
  test(`${v}: runtime errors exit 1 with one line naming the file`, () => {
    const missing = path.join(dir, 'no-such-model');
    let r = run(v, ['embed', '--model', missing, 'hello']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), new RegExp(`^bertwasm: ${missing}/config\\.json: cannot open: `));
    assert.equal(r.stdout.length, 0);

    r = run(v, ['embed', '--model', badConfig, 'hello']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /badconfig\/config\.json: /);

    r = run(v, ['embed', '--model', truncated, 'hello']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /truncated\/model\.safetensors: BAD_MODEL: .*truncated/);

    r = run(v, ['embed', '--model', noTokenizer, 'hello']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /tokenizer\.json or vocab\.txt/);

    r = run(v, ['info', '--model', escaping]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /escaping\/modules\.json: module path "\.\.\/\.\.\/\.\.\/etc" escapes the model folder/);
    r = run(v, ['embed', '--model', escaping, 'hello']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /escapes the model folder/);

    r = run(v, ['embed', '--model', path.join(FIXTURES, 'tiny'), '--dtype', 'f32', '--budget', '64KiB', 'hello']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /tiny\/model\.safetensors: BUDGET_EXCEEDED: model needs .*budget is 64\.0 KiB/);
  });

  test(`${v}: usage errors exit 2`, () => {
    const m = path.join(FIXTURES, 'tiny');
    const cases = [
      [['embed', '--model', m, '--bogus'], /unknown option '--bogus'/],
      [['embed', '--model', m, '--dtype', 'q3'], /--dtype must be/],
      [['embed', '--model', m, '--budget', 'lots'], /--budget/],
      [['embed', '--model', m, '--batch', '0'], /--batch/],
      [['embed', '--model', m, '--format', 'csv'], /--format/],
      [['embed', '--model'], /needs a value/],
      [['embed', 'hello'], /--model DIR is required/],
      [['rerank', '--model', m], /--query TEXT is required/],
      [['tokenize', '--model', m, '--pooling', 'cls'], /unknown option '--pooling'/],
      [['plan', '--model', m, 'extra'], /unexpected argument/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, re] of cases) {
      const r = run(v, args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(oneLine(r), re);
    }
  });

  test(`${v}: --output: nothing written on failure, complete file on success`, () => {
    const out = path.join(dir, `out-${v}.jsonl`);
    const before = new Set(fs.readdirSync(dir));
    let r = run(v, ['embed', '--model', truncated, '--output', out, 'hello']);
    assert.equal(r.code, 1);
    assert.equal(fs.existsSync(out), false);
    r = run(v, ['embed', '--model', path.join(FIXTURES, 'tiny'), '--budget', '1KiB', '--output', out, 'hello']);
    assert.equal(r.code, 1);
    // a failure after the output file was opened: stdin is a directory, so reading it fails
    const dfd = fs.openSync(dir, 'r');
    try {
      r = run(v, ['embed', '--model', path.join(FIXTURES, 'tiny'), '--output', out], { stdinFd: dfd });
    } finally {
      fs.closeSync(dfd);
    }
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /stdin: read failed/);
    assert.deepEqual(new Set(fs.readdirSync(dir)), before, 'no file or temp file left behind');
    r = run(v, ['embed', '--model', path.join(FIXTURES, 'tiny'), '--output', out, 'hello', 'world']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 0);
    assert.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, 2);
    fs.rmSync(out);
    assert.deepEqual(new Set(fs.readdirSync(dir)), before);
  });
}
