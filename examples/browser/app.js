// The demo page: load a model (main thread or Web Worker), index documents, rank them against a
// query. window.demo exposes the same steps for the browser tests.
import * as main from '../../web/index.js';
import * as worker from '../../web/worker.js';

const $ = (id) => document.getElementById(id);
const mib = (n) => (n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(n < 10 * 1048576 ? 2 : 1) + ' MiB');
const state = { model: null, docs: [], vecs: [], progress: [], mode: null };

function setBusy(b) {
  $('loadBtn').disabled = b;
  $('indexBtn').disabled = b || !state.model;
  $('searchBtn').disabled = b || !state.model || !state.vecs.length;
}

function showPlan(plan, memory) {
  const rows = [
    ['weights (' + plan.dtype + ')', plan.weights],
    ['vocab', plan.vocab],
    ['activations (' + plan.maxBatch + ' x ' + plan.maxTokens + ' tokens)', plan.activations],
    ['staging window', plan.staging],
    ['total plan', plan.total],
    ['model.safetensors (for comparison)', plan.fileSize],
  ];
  if (memory) rows.push(['wasm memory now (all models)', memory.wasmMemory]);
  $('plan').tBodies[0].innerHTML = rows.map(([k, v]) =>
    `<tr><td>${k}</td><td class="num">${v.toLocaleString('en')}</td><td>${mib(v)}</td></tr>`).join('');
  $('plan').hidden = false;
}

async function loadModel({ source = $('source').value, dtype = $('dtype').value,
  budgetMiB = Number($('budget').value), mode = $('mode').value, threads } = {}) {
  if (state.model) { await state.model.dispose(); state.model = null; state.vecs = []; }
  Object.assign($('source'), { value: source }); $('dtype').value = dtype; $('budget').value = budgetMiB; $('mode').value = mode;
  setBusy(true);
  state.progress = [];
  $('progressText').classList.remove('err');
  $('progressText').textContent = 'fetching model files…';
  const api = mode === 'worker' ? worker : main;
  const t0 = performance.now();
  try {
    const model = await api.load(source, { // relative URLs resolve against this page in both modes
      dtype, memoryBudget: budgetMiB * 1048576, threads,
      onProgress: (e) => {
        state.progress.push({ phase: e.phase, loaded: e.loaded, total: e.total });
        if (e.phase === 'plan') showPlan(e.plan);
        if (e.phase === 'weights' || e.phase === 'done') {
          $('progress').max = e.total || 1;
          $('progress').value = e.loaded;
          $('progressText').textContent = `weights ${mib(e.loaded)} / ${e.total ? mib(e.total) : '?'}`;
        } else if (e.phase === 'files') {
          $('progressText').textContent = `model files ${e.loaded}/${e.total}`;
        }
      },
    });
    state.model = model;
    state.mode = mode;
    const ms = performance.now() - t0;
    $('progressText').textContent = `loaded in ${ms.toFixed(0)} ms`;
    $('status').textContent = `${model.backend} (${model.threads} thread${model.threads > 1 ? 's' : ''}), ` +
      `${mode === 'worker' ? 'Web Worker' : 'main thread'}, crossOriginIsolated=${globalThis.crossOriginIsolated}, ` +
      `dim ${model.dim}, max ${model.config.maxTokens} tokens, ${model.config.pooling} pooling`;
    showPlan(model.plan, model.memory);
    return { backend: model.backend, threads: model.threads, plan: model.plan, memory: model.memory, ms };
  } catch (e) {
    $('progressText').textContent = `${e.code || 'ERROR'}: ${e.message}`;
    $('progressText').classList.add('err');
    throw e;
  } finally {
    setBusy(false);
  }
}

async function indexDocs(text = $('docs').value) {
  state.docs = text.split('\n').map((l) => l.trim()).filter(Boolean);
  setBusy(true);
  const t0 = performance.now();
  try {
    state.vecs = await state.model.embed(state.docs);
  } finally { setBusy(false); }
  const ms = performance.now() - t0;
  $('indexText').textContent = `${state.docs.length} documents in ${ms.toFixed(0)} ms`;
  if (state.model.memory) showPlan(state.model.plan, state.model.memory);
  return { n: state.docs.length, ms };
}

async function search(q = $('query').value, k = 10) {
  $('query').value = q;
  const qv = await state.model.embed(q);
  const ranked = state.vecs.map((v, i) => ({ i, score: main.cosineSimilarity(qv, v) }))
    .sort((a, b) => b.score - a.score).slice(0, k);
  $('results').innerHTML = '';
  for (const r of ranked) {
    const li = document.createElement('li');
    const w = Math.max(0, r.score) * 120;
    li.innerHTML = `<span class="score">${r.score.toFixed(4)}</span><span class="bar" style="width:${w}px"></span>`;
    li.append(document.createTextNode(state.docs[r.i]));
    $('results').append(li);
  }
  $('searchText').textContent = `${ranked.length} results`;
  return ranked.map((r) => ({ doc: state.docs[r.i], score: r.score }));
}

$('loadBtn').onclick = () => loadModel().then(() => { if ($('docs').value) return indexDocs(); }).catch(() => {});
$('indexBtn').onclick = () => indexDocs().catch((e) => { $('indexText').textContent = e.message; });
$('searchBtn').onclick = () => search().catch((e) => { $('searchText').textContent = e.message; });
$('query').onkeydown = (e) => { if (e.key === 'Enter' && !$('searchBtn').disabled) search(); };
$('file').onchange = async () => { const f = $('file').files[0]; if (f) $('docs').value = await f.text(); };

// Default documents: the fixture sentences.
fetch('../../tests/fixtures/sentences.txt').then((r) => (r.ok ? r.text() : '')).then((t) => { if (!$('docs').value) $('docs').value = t; });

window.demo = {
  loadModel, indexDocs, search, state,
  async embed(texts) { const v = await state.model.embed(texts); return v.map((x) => Array.from(x)); },
  async dispose() { if (state.model) await state.model.dispose(); state.model = null; },
  ready: true,
};
