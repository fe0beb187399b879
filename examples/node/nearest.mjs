#!/usr/bin/env node
// Embeds every line of a text file and prints each line's nearest neighbours (or, with --query,
// the lines nearest to the query).
//
//   node examples/node/nearest.mjs --model tests/fixtures/tiny tests/fixtures/sentences.txt
//   node examples/node/nearest.mjs --model hf:sentence-transformers/all-MiniLM-L6-v2 notes.txt --query "budget"
//
// Options: --model DIR|URL|hf:ORG/NAME (default: ./tests/fixtures/tiny), --query TEXT, -k N (3),
//          --dtype q8|q4|f16|f32, --budget MiB, --worker (run the model in a worker thread).
import fs from 'node:fs';

const args = process.argv.slice(2);
const opt = { model: 'tests/fixtures/tiny', k: 3, dtype: 'q8' };
const files = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--model') opt.model = args[++i];
  else if (a === '--query') opt.query = args[++i];
  else if (a === '-k') opt.k = Number(args[++i]);
  else if (a === '--dtype') opt.dtype = args[++i];
  else if (a === '--budget') opt.budget = Number(args[++i]) * 1024 * 1024;
  else if (a === '--worker') opt.worker = true;
  else if (a === '-h' || a === '--help') { console.log('usage: nearest.mjs [--model M] [--query TEXT] [-k N] [--dtype T] [--budget MiB] [--worker] FILE'); process.exit(0); }
  else files.push(a);
}
if (files.length !== 1) { console.error('usage: nearest.mjs [--model M] [--query TEXT] [-k N] FILE'); process.exit(2); }

const { load, cosineSimilarity } = await import(opt.worker ? 'bertwasm/worker' : 'bertwasm');
const lines = fs.readFileSync(files[0], 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);

let lastPct = -1;
const model = await load(opt.model, {
  dtype: opt.dtype,
  memoryBudget: opt.budget,
  onProgress: (e) => {
    if (e.phase === 'plan') console.error(`plan: ${(e.plan.total / 1048576).toFixed(1)} MiB (weights ${(e.plan.weights / 1048576).toFixed(1)} MiB ${e.plan.dtype})`);
    if (e.phase === 'weights' && e.total) {
      const pct = Math.floor((100 * e.loaded) / e.total / 25) * 25;
      if (pct !== lastPct) { lastPct = pct; console.error(`weights: ${pct}%`); }
    }
  },
}).catch((e) => { console.error(`error ${e.code}: ${e.message}`); process.exit(1); });

console.error(`model: dim ${model.dim}, ${model.backend} x${model.threads}, ${lines.length} lines`);
const t0 = performance.now();
const vecs = await model.embed(lines);
const ms = performance.now() - t0;
console.error(`embedded ${lines.length} lines in ${ms.toFixed(0)} ms`);

const rank = (v, skip) => lines
  .map((line, i) => ({ i, line, score: cosineSimilarity(v, vecs[i]) }))
  .filter((r) => r.i !== skip)
  .sort((a, b) => b.score - a.score)
  .slice(0, opt.k);

if (opt.query) {
  const q = await model.embed(opt.query);
  console.log(`query: ${opt.query}`);
  for (const r of rank(q, -1)) console.log(`  ${r.score.toFixed(4)}  ${r.line}`);
} else {
  lines.forEach((line, i) => {
    console.log(line);
    for (const r of rank(vecs[i], i)) console.log(`  ${r.score.toFixed(4)}  ${r.line}`);
  });
}
await model.dispose();
