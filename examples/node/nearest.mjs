#!/usr/bin/env node
// Embeds every line of a text file and prints each line's nearest neighbours (or, with --query,
// the lines nearest to the query). Without a file it uses a few built-in sentences.
//
// From an npm install (`npm install bertwasm`), with a model from the Hugging Face Hub or a
// downloaded model folder:
//   node node_modules/bertwasm/examples/node/nearest.mjs --model hf:sentence-transformers/all-MiniLM-L6-v2 --query "budget"
//   node node_modules/bertwasm/examples/node/nearest.mjs --model ./all-MiniLM-L6-v2 notes.txt
// In a clone of the repository, the bundled test model is the default:
//   node examples/node/nearest.mjs tests/fixtures/sentences.txt --query "A man is eating food."
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const USAGE = `usage: nearest.mjs [--model DIR|URL|hf:ORG/NAME] [FILE] [--query TEXT] [-k N]
                  [--dtype q8|q4|f16|f32] [--budget MiB] [--worker]
  --model   a model folder (config.json, tokenizer.json, model.safetensors), its URL, or
            hf:ORG/NAME (downloaded from the Hugging Face Hub); default: the repository's
            tests/fixtures/tiny, which only a clone of the repository has
  FILE      one text per line; default: a few built-in sentences
  --query   rank the lines by similarity to TEXT instead of listing every line's neighbours
  -k        neighbours to show (default 3)
  --worker  run the model in a worker thread (bertwasm/worker)`;

// Bad usage ends with the message, not a stack trace.
function fail(msg, code = 2) {
  console.error(`nearest.mjs: ${msg}`);
  process.exit(code);
}

const SENTENCES = [
  'A man is eating food.',
  'A man is eating a piece of bread.',
  'The girl is carrying a baby.',
  'A man is riding a horse.',
  'A woman is playing violin.',
  'Two men pushed carts through the woods.',
  'A cheetah is running behind its prey.',
  'How do I reset my password?',
  'Password reset instructions are in the account settings.',
];

// The bundled model exists next to this script only in a clone of the repository.
const BUNDLED = fileURLToPath(new URL('../../tests/fixtures/tiny/', import.meta.url));

const args = process.argv.slice(2);
const opt = { k: 3, dtype: 'q8' };
const files = [];
const value = (i, name) => {
  if (i >= args.length) fail(`${name} needs a value\n${USAGE}`);
  return args[i];
};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--model') opt.model = value(++i, a);
  else if (a === '--query') opt.query = value(++i, a);
  else if (a === '-k') opt.k = Number(value(++i, a));
  else if (a === '--dtype') opt.dtype = value(++i, a);
  else if (a === '--budget') opt.budget = Number(value(++i, a)) * 1024 * 1024;
  else if (a === '--worker') opt.worker = true;
  else if (a === '-h' || a === '--help') { console.log(USAGE); process.exit(0); }
  else if (a.startsWith('-')) fail(`unknown option ${a}\n${USAGE}`);
  else files.push(a);
}
if (files.length > 1) fail(`one FILE at most (got ${files.length})\n${USAGE}`);
if (!(Number.isInteger(opt.k) && opt.k > 0)) fail('-k must be a positive integer');
if (opt.budget !== undefined && !(opt.budget > 0)) fail('--budget must be a positive number of MiB');
if (!opt.model) {
  if (!fs.existsSync(BUNDLED)) {
    fail('no model: give --model DIR|URL|hf:ORG/NAME, e.g. --model hf:sentence-transformers/all-MiniLM-L6-v2\n' +
      '(the bundled test model, tests/fixtures/tiny, is only in a clone of the repository, not in the npm package)');
  }
  opt.model = BUNDLED;
}

let lines = SENTENCES;
if (files.length) {
  let text;
  try {
    text = fs.readFileSync(files[0], 'utf8');
  } catch (e) {
    fail(`cannot read ${files[0]}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!lines.length) fail(`${files[0]} has no non-empty lines`);
}

const { load, cosineSimilarity } = await import(opt.worker ? 'bertwasm/worker' : 'bertwasm');

let lastPct = -1;
let model;
try {
  model = await load(opt.model, {
    dtype: opt.dtype,
    memoryBudget: opt.budget,
    onProgress: (e) => {
      if (e.phase === 'plan') console.error(`plan: ${(e.plan.total / 1048576).toFixed(1)} MiB (weights ${(e.plan.weights / 1048576).toFixed(1)} MiB ${e.plan.dtype})`);
      if (e.phase === 'weights' && e.total) {
        const pct = Math.floor((100 * e.loaded) / e.total / 25) * 25;
        if (pct !== lastPct) { lastPct = pct; console.error(`weights: ${pct}%`); }
      }
    },
  });
} catch (e) {
  fail(`cannot load ${opt.model}: ${e.code || e.name}: ${e.message}`, 1);
}

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
