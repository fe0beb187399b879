// What an operator running the CLI in a pipeline relies on: records of a batch reach stdout before
// the next line is read, `| head` ends the run quietly, npy output is refused where its header could
// not be patched, plan/info reject a file that cannot load, sizes are read strictly, the 32-bit plan
// limit is the one the allocator honours, and the node:wasi runner grants --model/--output folders.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, REPO, VARIANTS, VARIANT_NAMES, checkBuilt, mkTemp, run } from './helpers.mjs';

const TINY = path.join(FIXTURES, 'tiny');
let dir, truncated, extended, overflowing;
before(() => {
  dir = mkTemp('bertwasm-op-');
  const copy = (name) => {
    const d = path.join(dir, name);
    fs.cpSync(TINY, d, { recursive: true, filter: (s) => !s.includes(`${path.sep}onnx`) && !s.includes('goldens') });
    return d;
  };
  truncated = copy('truncated');
  fs.truncateSync(path.join(truncated, 'model.safetensors'), 100000);
  extended = copy('extended');
  fs.appendFileSync(path.join(extended, 'model.safetensors'), 'xxxx');
  // a tensor whose data_offsets end at 2^64 - 1: header size + data end overflows 64 bits
  overflowing = copy('overflowing');
  const st = path.join(overflowing, 'model.safetensors');
  const bytes = fs.readFileSync(st);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = Buffer.from('{"zz":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]},' +
    bytes.subarray(9, 8 + n).toString('latin1'), 'latin1');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  fs.writeFileSync(st, Buffer.concat([len, header, bytes.subarray(8 + n)]));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const stderrLines = (r) => r.stderr.split('\n').filter((l) => l.length);

// Starts a build (default: embed --batch 1) and feeds it one line at a time, each only after the
// previous line's record came back: resolves to the records, rejects if one does not arrive
// within 20 s.
function interactive(variant, lines, args = ['embed', '--model', TINY, '--batch', '1']) {
  checkBuilt(variant);
  const v = VARIANTS[variant];
  const child = spawn(v.cmd, [...v.pre, ...args], {
    cwd: REPO,
    env: { ...process.env, ...v.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const records = [];
    let buf = '', timer = null, stderr = '';
    const next = () => {
      clearTimeout(timer);
      if (records.length === lines.length) return child.stdin.end();
      timer = setTimeout(() => {
        child.kill();
        reject(new Error(`${variant}: no record for line ${records.length} within 20 s (stdout held back?)`));
      }, 20000);
      child.stdin.write(lines[records.length] + '\n');
    };
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        records.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
        next();
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && records.length === lines.length) resolve(records);
      else reject(new Error(`${variant}: exit ${code} after ${records.length} records\n${stderr}`));
    });
    next();
  });
}

for (const v of VARIANT_NAMES) {
  test(`${v}: each batch's records are written before the next line is read`, async () => {
    const recs = await interactive(v, ['first line', 'second line', 'third']);
    assert.deepEqual(recs.map((r) => r.index), [0, 1, 2]);
  });

  test(`${v}: tokenize answers each line before the next is read, with or without --batch`, async () => {
    for (const extra of [[], ['--batch', '1'], ['--batch', '8']]) {
      const recs = await interactive(v, ['one two', 'three', ''], ['tokenize', '--model', TINY, ...extra]);
      assert.deepEqual(recs.map((r) => r.n_tokens), [4, 3, 2], extra.join(' '));
    }
    assert.equal(run(v, ['tokenize', '--model', TINY, '--batch', '0', 'x']).code, 2);
  });

  test(`${v}: a reader that stops early (| head) ends the run quietly with status 141`, () => {
    checkBuilt(v);
    const input = path.join(dir, 'many.txt');
    if (!fs.existsSync(input)) fs.writeFileSync(input, Array.from({ length: 3000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const cmd = [VARIANTS[v].cmd, ...VARIANTS[v].pre, 'embed', '--model', TINY].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('bash', ['-c', `${cmd} < '${input}' 2> '${dir}/pipe-${v}.err' | head -c 100 > /dev/null; echo \${PIPESTATUS[0]}`], {
      cwd: REPO,
      env: { ...process.env, ...VARIANTS[v].env },
      encoding: 'utf8',
    });
    assert.equal(r.stdout.trim(), '141', r.stderr);
    assert.equal(fs.readFileSync(`${dir}/pipe-${v}.err`, 'utf8'), '', 'nothing on stderr');
  });

  test(`${v}: --format npy to stdout needs an empty file at offset 0, not in append mode`, () => {
    // embeds two texts as npy into `file` opened with `flags` as the command's stdout
    const npyInto = (file, flags) => {
      const fd = fs.openSync(file, flags);
      try {
        return run(v, ['embed', '--model', TINY, '--format', 'npy', 'a', 'b'], { stdoutFd: fd });
      } finally {
        fs.closeSync(fd);
      }
    };
    const f = path.join(dir, `pre-${v}.npy`);
    fs.writeFileSync(f, 'PRE\n');
    let r = npyInto(f, 'a');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--format npy needs an empty, seekable output/);
    assert.equal(fs.readFileSync(f, 'utf8'), 'PRE\n', 'the file is untouched');

    // appending to an empty file (`: > f; ... >> f`): refused before any work in every build
    // (node:wasi reports every stdout as append mode, so the WASI builds probe it), the file left
    // empty
    const app = path.join(dir, `app-${v}.npy`);
    fs.writeFileSync(app, '');
    const fd = fs.openSync(app, 'a');
    try {
      r = run(v, ['embed', '--model', path.join(dir, 'no-such-model'), '--format', 'npy'], { stdoutFd: fd, input: 'a\nb\n' });
    } finally {
      fs.closeSync(fd);
    }
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--format npy needs an empty, seekable output that is not appended to/);
    assert.equal(fs.statSync(app).size, 0, 'the file is left empty');

    const h = path.join(dir, `ok-${v}.npy`);
    r = npyInto(h, 'w');
    assert.equal(r.code, 0, r.stderr);
    const bytes = fs.readFileSync(h);
    assert.equal(bytes.subarray(1, 6).toString('latin1'), 'NUMPY');
    assert.match(bytes.subarray(10, 128).toString('latin1'), /'shape': \(2, 32\)/);
  });

  test(`${v}: plan and info print, then exit 1 on a file whose size is not the header's`, () => {
    const want = fs.statSync(path.join(TINY, 'model.safetensors')).size;
    for (const [m, re, have] of [[truncated, /BAD_MODEL: truncated: the header describes \d+ bytes, the file has 100000/, 100000],
      [extended, /BAD_MODEL: bytes past the end of the tensor data/, want + 4], [TINY, null, want]]) {
      for (const cmd of ['plan', 'info']) {
        const r = run(v, [cmd, '--model', m]);
        assert.equal(r.code, re ? 1 : 0, `${cmd} ${m}: ${r.stderr}`);
        const out = JSON.parse(r.stdout.toString('utf8')); // the JSON is printed in every case
        // file_size is the file as it is; expected_file_size what its header describes
        const sizes = cmd === 'plan' ? out : out.weights;
        assert.equal(sizes.file_size, have, `${cmd} ${m}`);
        assert.equal(sizes.expected_file_size, want, `${cmd} ${m}`);
        assert.equal(sizes.file_size_ok, !re, `${cmd} ${m}`);
        if (!re) continue;
        const lines = stderrLines(r);
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], re);
      }
    }
  });

  test(`${v}: --output is checked before any work: empty, a directory, an uncreatable file`, () => {
    const missing = path.join(dir, 'no-such-model'); // the model is never looked at
    for (const [out, re] of [['', /^bertwasm: embed: --output needs a file name/],
      [dir, new RegExp(`^bertwasm: embed: --output '${dir}' is a directory`)],
      [`${dir}/`, /is a directory/]]) {
      const r = run(v, ['embed', '--model', missing, '--output', out, 'hi']);
      assert.equal(r.code, 2, `--output '${out}': ${r.stderr}`);
      assert.match(stderrLines(r)[0], re);
      assert.equal(stderrLines(r).length, 1, r.stderr);
    }
    const bad = path.join(dir, 'no-such-dir', 'out.jsonl');
    for (const cmd of [['embed'], ['tokenize'], ['plan'], ['info'], ['rerank', '--query', 'q']]) {
      const r = run(v, [...cmd, '--model', missing, '--output', bad]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^bertwasm: ${bad}: cannot create ${bad}\\.tmp-\\w+: No such file or directory`));
      assert.equal(stderrLines(r).length, 1, r.stderr);
    }
  });

  test(`${v}: option limits are stated in the messages and parsed exactly`, () => {
    const usage = (args, re) => {
      const r = run(v, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    };
    usage(['plan', '--model', TINY, '--batch', '65537'], /--batch must be an integer from 1 to 65536, not '65537'/);
    usage(['plan', '--model', TINY, '--max-tokens', '1048577'], /--max-tokens must be an integer from 2 to 1048576/);
    usage(['plan', '--model', TINY, '--max-tokens', '+5'], /--max-tokens must be an integer/);
    usage(['rerank', '--model', TINY, '--query', 'q', '--max-tokens', '2'], /--max-tokens must be at least 3 for rerank/);
    assert.equal(run(v, ['plan', '--model', TINY, '--batch', '65536', '--max-tokens', '2']).code, 0);
    // sizes: integers exactly (no trip through a double), fractions rounded down to whole bytes
    for (const [b, bytes] of [['9223372036854775807', '9223372036854775807'], ['18446744073709551615', '18446744073709551615'],
      ['1.5GiB', '1610612736'], ['0.1KiB', '102'], ['1.0000001KB', '1000'], ['2.5MB', '2500000']]) {
      const r = run(v, ['plan', '--model', TINY, '--budget', b]);
      assert.match(r.stdout.toString(), new RegExp(`"budget":${bytes},`), `--budget ${b}`);
    }
    usage(['plan', '--model', TINY, '--budget', '18446744073709551616'], /--budget: cannot read size/);
    usage(['plan', '--model', TINY, '--budget', '16777216TiB'], /--budget: cannot read size/);
  });

  test(`${v}: info on data_offsets that overflow 64 bits with the header size: saturated, not wrapped`, () => {
    const r = run(v, ['info', '--model', overflowing]);
    assert.equal(r.code, 1, r.stderr);
    const out = r.stdout.toString('utf8');
    assert.match(out, /"expected_file_size":18446744073709551615,"file_size_ok":false/);
    assert.match(r.stderr, /BAD_MODEL: truncated: the header describes 18446744073709551615 bytes/);
  });

  test(`${v}: a cross-encoder planned at 2 tokens gets a suggestion at 3 (what rerank needs), not "nothing fits"`, () => {
    const cross = path.join(FIXTURES, 'tiny-cross');
    const r = run(v, ['plan', '--model', cross, '--max-tokens', '2', '--batch', '4096', '--dtype', 'q4', '--budget', '3000000']);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /nothing fits/);
    assert.match(r.stderr, /max_batch \d+, max_tokens 3 would need/);
  });

  test(`${v}: what an over-budget message suggests is accepted and fits`, () => {
    for (const [model, cmd] of [[TINY, ['embed', '--model', TINY]], [path.join(FIXTURES, 'tiny-cross'), ['rerank', '--model', path.join(FIXTURES, 'tiny-cross'), '--query', 'q']]]) {
      for (const budget of ['1MiB', '2MiB']) {
        const r = run(v, [...cmd, '--budget', budget, 'doc']);
        assert.equal(r.code, 1, r.stderr);
        let m = /nothing fits: even q4_0 at 1x(\d+) tokens needs ([\d.]+) MiB/.exec(r.stderr);
        let opts;
        if (m) opts = ['--dtype', 'q4', '--batch', '1', '--max-tokens', m[1], '--budget', `${Number(m[2]) + 0.1}MiB`];
        else {
          m = /q4_0 with max_batch (\d+), max_tokens (\d+) would need/.exec(r.stderr);
          assert.ok(m, `${model} at ${budget}: ${r.stderr}`);
          opts = ['--dtype', 'q4', '--batch', m[1], '--max-tokens', m[2], '--budget', budget];
        }
        const ok = run(v, [...cmd, ...opts, 'doc']);
        assert.equal(ok.code, 0, `${cmd[0]} ${opts.join(' ')}: ${ok.stderr}`);
      }
    }
  });

  test(`${v}: --budget is a positive decimal size; help <command> shows that command`, () => {
    for (const b of ['0', '0x10', '1e3', '-5', '.5M', 'inf', '1.5XB']) {
      const r = run(v, ['plan', '--model', TINY, '--budget', b]);
      assert.equal(r.code, 2, `--budget ${b}: exit ${r.code}`);
      assert.match(r.stderr, /--budget: cannot read size/);
    }
    assert.equal(run(v, ['plan', '--model', TINY, '--budget', '1.5GiB']).code, 0);
    const h = run(v, ['help', 'rerank']);
    assert.equal(h.code, 0);
    assert.match(h.stdout.toString('utf8'), /^usage: bertwasm rerank /);
    assert.equal(run(v, ['help', 'nope']).code, 2);
  });

  test(`${v}: tokenize needs only the tokenizer files (no config.json, no weights)`, () => {
    const out = run(v, ['tokenize', '--model', path.join(FIXTURES, 'vocab-only'), 'Hello world']);
    assert.equal(out.code, 0, out.stderr);
    const rec = JSON.parse(out.stdout.toString('utf8'));
    assert.deepEqual(rec.tokens, ['[CLS]', 'hello', 'world', '[SEP]']);
    const missing = run(v, ['tokenize', '--model', path.join(dir, 'no-such-folder'), 'x']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no-such-folder: cannot open: /);
  });

  test(`${v}: a vocab.txt that cannot load (and no tokenizer.json) is named in the error, not the weights`, () => {
    const m = path.join(dir, `badvocab-${v}`);
    fs.mkdirSync(m, { recursive: true });
    for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(TINY, f), path.join(m, f));
    fs.writeFileSync(path.join(m, 'vocab.txt'), '');
    const r = run(v, ['embed', '--model', m, 'hi']);
    assert.equal(r.code, 1);
    assert.match(stderrLines(r)[0], new RegExp(`${m}/vocab\\.txt: BAD_MODEL: .*empty`));
  });

  test(`${v}: the 32-bit plan limit (just under 2 GiB) is what fits_wasm32 and the wasm loader use`, () => {
    // tiny at 26000 x 128 tokens: ~2.3 GiB of activations
    const r = run(v, ['plan', '--model', TINY, '--batch', '26000', '--max-tokens', '128']);
    const plan = JSON.parse(r.stdout.toString('utf8'));
    assert.ok(plan.total > 2 ** 31 && plan.total < 2 ** 32, `total ${plan.total}`);
    assert.equal(plan.fits_wasm32, false);
    if (v === 'native') return; // a 64-bit host can allocate it
    assert.equal(r.code, 1);
    const e = run(v, ['embed', '--model', TINY, '--batch', '26000', '--max-tokens', '128', 'hi']);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /BUDGET_EXCEEDED: model needs .*more than this 32-bit build can allocate \(2\.00 GiB\)/);
    assert.doesNotMatch(e.stderr, /OUT_OF_MEMORY/);
  });
}

test('node:wasi runner: --model and --output folders outside the current directory are granted', () => {
  const sub = path.join(dir, 'cwd');
  fs.mkdirSync(sub, { recursive: true });
  const model = path.join(dir, 'model');
  fs.cpSync(TINY, model, { recursive: true, filter: (s) => !s.includes(`${path.sep}onnx`) && !s.includes('goldens') });
  const env = { BERTWASM_DIRS: '' }; // nothing granted but what the runner derives
  let r = run('simd', ['embed', '--model', '../model', '--output', '../out.jsonl', 'hello'], { cwd: sub, env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(dir, 'out.jsonl'), 'utf8').trim().split('\n').length, 1);
  r = run('simd', ['info', `--model=${model}`], { cwd: sub, env });
  assert.equal(r.code, 0, r.stderr);
  // a folder that does not exist: the error says how folders are granted
  r = run('simd', ['info', '--model', path.join(dir, 'missing')], { cwd: sub, env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot open: .*WASI sees only granted directories/);
});
