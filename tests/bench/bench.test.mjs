// Checks of the benchmark's own inputs (not of timings): the dynamically quantized ONNX reference
// computes what the f32 export computes, and the benchmark texts have the token counts the
// figures claim. node --test tests/bench/bench.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, AutoTokenizer, AutoModel } from '@huggingface/transformers';
import { makeSets } from './sentences.mjs';
import { cosine } from './measure.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const PY = process.env.PYTHON || '/usr/bin/python3';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-bench-test-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function py(args) {
  const r = spawnSync(PY, args, { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, `${args.join(' ')}:\n${r.stderr}`);
  return r.stdout;
}

// A small model with MiniLM's vocabulary; the minilm shape itself is 90 MB, too slow for a test.
const dir = path.join(tmp, 'small');
py(['tests/gen/gen_model.py', '--shape', 'tiny', '--dtype', 'F32', '--onnx', '--no-prefix', '--seed', '3',
  '--out', dir, '-q']);
env.allowRemoteModels = false;
env.localModelPath = tmp + '/';

test('quantize_onnx: int8 graph with the onnxruntime dynamic-quantization structure', async () => {
  const out = py([path.join(HERE, 'quantize_onnx.py'), path.join(dir, 'onnx/model.onnx'),
    path.join(dir, 'onnx/model_quantized.onnx'), '--check']);
  assert.match(out, /MatMul, 2 Gather quantized/);
  const ops = py(['-c', `
import onnx, collections
m = onnx.load(${JSON.stringify(path.join(dir, 'onnx/model_quantized.onnx'))})
inits = {t.name: t for t in m.graph.initializer}
c = collections.Counter(n.op_type for n in m.graph.node)
f32_weight_matmuls = sum(1 for n in m.graph.node if n.op_type == 'MatMul' and n.input[1] in inits)
int8 = sum(1 for t in m.graph.initializer if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 2)
print(c['DynamicQuantizeLinear'], c['MatMulInteger'], c['DequantizeLinear'], f32_weight_matmuls, int8)
`]).trim().split(' ').map(Number);
  const [dql, mmi, deq, f32mm, int8] = ops;
  // tiny: 2 layers x (q, k, v, attention out, ff in, ff out) = 12 weight MatMuls; q/k/v share
  // one quantized activation: 2 x (1 + 1 + 1 + 1) = 8 DynamicQuantizeLinear
  assert.equal(mmi, 12);
  assert.equal(dql, 8);
  assert.equal(f32mm, 0, 'no MatMul left with an f32 weight');
  assert.equal(deq, 2, 'word and position embeddings dequantized after the gather');
  assert.equal(int8, 14);
});

test('quantize_onnx: quantized model agrees with the f32 export (onnxruntime-node)', async () => {
  const sets = makeSets(path.join(dir, 'vocab.txt'), { nShort: 16, nLong: 1 });
  const tok = await AutoTokenizer.from_pretrained('small');
  const embed = async (dtype) => {
    const model = await AutoModel.from_pretrained('small', { dtype, device: 'cpu' });
    const inputs = tok(sets.short, { padding: true });
    const { last_hidden_state: h } = await model(inputs);
    const [B, S, H] = h.dims;
    const mask = inputs.attention_mask.data;
    const out = [];
    for (let b = 0; b < B; b++) {
      const v = new Float64Array(H);
      let n = 0;
      for (let s = 0; s < S; s++) {
        if (!Number(mask[b * S + s])) continue;
        n++;
        for (let k = 0; k < H; k++) v[k] += h.data[(b * S + s) * H + k];
      }
      out.push(Array.from(v, (x) => x / n));
    }
    await model.dispose();
    return out;
  };
  const f = await embed('fp32');
  const q = await embed('q8');
  let worst = 1;
  for (let i = 0; i < f.length; i++) worst = Math.min(worst, cosine(f[i], q[i]));
  assert.ok(worst > 0.995, `worst cosine f32 vs q8 ${worst}`);
  // and it is really different arithmetic (a copy of the f32 graph would give exactly 1)
  assert.ok(worst < 0.999999, `q8 output identical to f32 (${worst}): not quantized?`);
});

test('sentences: deterministic, with the token counts the benchmark reports', async () => {
  const a = makeSets(path.join(dir, 'vocab.txt'));
  const b = makeSets(path.join(dir, 'vocab.txt'));
  const c = makeSets(path.join(dir, 'vocab.txt'), { seed: 1 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.short, c.short);
  assert.equal(a.short.length, 256);
  assert.equal(new Set(a.short).size, 256);
  const tok = await AutoTokenizer.from_pretrained('small');
  const len = (t) => tok(t).input_ids.dims[1];
  const lens = a.short.map(len);
  assert.ok(Math.min(...lens) >= 18 && Math.max(...lens) <= 28, `short lengths ${Math.min(...lens)}..${Math.max(...lens)}`);
  const mean = lens.reduce((x, y) => x + y) / lens.length;
  assert.ok(mean > 21 && mean < 25, `mean ${mean}`);
  for (const t of a.t128.slice(0, 8)) assert.equal(len(t), 128);
  for (const t of a.t512.slice(0, 4)) assert.equal(len(t), 512);
  assert.ok(!a.short.some((t) => t.includes('[UNK]') || /\n/.test(t)));
});

// The paired stage's protocol (run.mjs Server, measure.mjs serve): a worker loads, warms up, says
// READY, runs each window it is sent on exactly the sentences asked for, and exits on request.
for (const [name, worker, extra] of [
  ['bertwasm web', 'bertwasm_worker.mjs', ['--impl', 'web', '--dtype', 'q8', '--threads', '1']],
  ['onnxruntime-web', 'ref_worker.mjs', ['--runtime', 'web', '--dtype', 'fp32', '--threads', '1']],
]) {
  test(`paired windows: ${name} worker in --serve mode`, async () => {
    const textsFile = path.join(tmp, 'texts.json');
    if (!fs.existsSync(textsFile)) fs.writeFileSync(textsFile, JSON.stringify({ sets: makeSets(path.join(dir, 'vocab.txt')) }));
    const { spawn } = await import('node:child_process');
    const readline = await import('node:readline');
    const child = spawn(process.execPath, [path.join(HERE, worker), ...extra, '--model', dir, '--texts', textsFile,
      '--sets', 'short:4:8,short:1:2', '--serve'], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => {
      for (;;) {
        const { value, done } = await lines.next();
        assert.ok(!done, `worker ended early:\n${stderr.slice(-2000)}`);
        if (/^(READY|WINDOW )/.test(value)) return value;
      }
    };
    assert.equal(await next(), 'READY');
    for (const [batch, count] of [[4, 10], [1, 3]]) {
      child.stdin.write(JSON.stringify({ set: 'short', batch, count, offset: 5 }) + '\n');
      const w = JSON.parse((await next()).slice('WINDOW '.length));
      assert.equal(w.sentences, count);
      assert.equal(w.batch_ms.length, Math.ceil(count / batch));
      assert.ok(w.seconds > 0 && w.batch_ms.every((x) => x > 0));
      assert.ok(w.cpu_after >= w.cpu_before);
    }
    child.stdin.end(JSON.stringify({ exit: true }) + '\n');
    const code = await new Promise((res) => child.on('exit', res));
    assert.equal(code, 0, stderr.slice(-2000));
  });
}
