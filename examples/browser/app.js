// The demo page: load a model (main thread or Web Worker), index documents, rank them against a
// query. window.demo exposes the same steps for the browser tests.
import * as main from '../../web/index.js';
import * as worker from '../../web/worker.js';

const $ = (id) => document.getElementById(id);
const mib = (n) => (n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(n < 10 * 1048576 ? 2 : 1) + ' MiB');
const state = {
  model: null, mode: null, progress: [],
  docs: [], vecs: [], indexedText: null, indexNote: '', // what the vectors were computed from
  loading: null,                          // the running load's AbortController
  indexing: 0, indexRun: 0,               // indexes in flight; the latest one's number
};

// Buttons follow the state: one load at a time (Cancel only during it); no index or search
// without a model or while the model is being replaced.
function refresh() {
  const loading = !!state.loading, busy = loading || state.indexing > 0;
  $('loadBtn').disabled = busy;
  $('cancelBtn').disabled = !loading;
  $('indexBtn').disabled = busy || !state.model;
  $('searchBtn').disabled = busy || !state.model;
}

function setText(id, text, cls = '') {
  $(id).textContent = text;
  $(id).className = cls;
}

// `refused`: the plan of a load that failed (e.g. over budget), labelled so it is not read as the
// memory in use; `budget` is then shown next to it.
function showPlan(plan, { memory, title = 'memory plan', refused = false, budget = 0 } = {}) {
  const rows = [
    ['weights (' + plan.dtype + ')', plan.weights],
    ['vocab', plan.vocab],
    ['activations (' + plan.maxBatch + ' x ' + plan.maxTokens + ' tokens)', plan.activations],
    ['staging window', plan.staging],
    ['total plan', plan.total, 'total'],
  ];
  if (refused && budget) rows.push(['memory budget', budget, 'budget']);
  rows.push(['model.safetensors (for comparison)', plan.fileSize]);
  if (memory) rows.push(['wasm memory now (all models)', memory.wasmMemory]);
  $('plan').tBodies[0].innerHTML = rows.map(([k, v, cls]) =>
    `<tr${cls ? ` class="${cls}"` : ''}><td>${k}</td><td class="num">${v.toLocaleString('en')}</td><td>${mib(v)}</td></tr>`).join('');
  $('planTitle').textContent = title;
  $('plan').classList.toggle('refused', refused);
  $('plan').hidden = false;
}

function hidePlan() {
  $('plan').hidden = true;
  $('plan').tBodies[0].innerHTML = '';
  $('hint').hidden = true;
}

// Everything that described the previous model goes when a new load starts: it has been disposed,
// and its status, plan, index and results would otherwise be read as the new model's.
function clearModelViews() {
  $('progress').value = 0;
  setText('status', '');
  hidePlan();
  state.docs = []; state.vecs = []; state.indexedText = null;
  setText('indexText', '', 'sub');
  $('results').innerHTML = '';
  setText('searchText', '', 'sub');
}

async function loadModel({ source = $('source').value, dtype = $('dtype').value,
  budgetMiB = Number($('budget').value), mode = $('mode').value, threads } = {}) {
  if (state.loading) throw new Error('a load is already running: cancel it first');
  const ctl = new AbortController();
  state.loading = ctl;
  state.indexRun++; // an index still running belongs to the old model: its result is dropped
  refresh();
  Object.assign($('source'), { value: source }); $('dtype').value = dtype; $('budget').value = budgetMiB; $('mode').value = mode;
  clearModelViews();
  state.progress = [];
  setText('progressText', 'fetching model files…');
  const api = mode === 'worker' ? worker : main;
  const t0 = performance.now();
  try {
    if (state.model) {
      const old = state.model;
      state.model = null;
      // (Sync on the main thread, a promise in worker mode; a dead worker has nothing left to free.)
      try { await old.dispose(); } catch { /* ignore */ }
    }
    const model = await api.load(source, { // relative URLs resolve against this page in both modes
      dtype, memoryBudget: budgetMiB * 1048576, threads, signal: ctl.signal,
      onProgress: (e) => {
        state.progress.push({ phase: e.phase, loaded: e.loaded, total: e.total });
        if (e.phase === 'plan') showPlan(e.plan, { title: 'memory plan (loading…)' });
        if (e.phase === 'weights' || e.phase === 'done') {
          $('progress').max = e.total || 1;
          $('progress').value = e.loaded;
          setText('progressText', `weights ${mib(e.loaded)} / ${e.total ? mib(e.total) : '?'}`);
        } else if (e.phase === 'files') {
          setText('progressText', `model files ${e.loaded}/${e.total}`);
        }
      },
    });
    state.model = model;
    state.mode = mode;
    const ms = performance.now() - t0;
    setText('progressText', `loaded in ${ms.toFixed(0)} ms`);
    setText('status', `${model.backend} (${model.threads} thread${model.threads > 1 ? 's' : ''}), ` +
      `${mode === 'worker' ? 'Web Worker' : 'main thread'}, crossOriginIsolated=${globalThis.crossOriginIsolated}, ` +
      `dim ${model.dim}, max ${model.config.maxTokens} tokens, ${model.config.pooling} pooling`);
    showPlan(model.plan, { memory: model.memory });
    return { backend: model.backend, threads: model.threads, plan: model.plan, memory: model.memory, ms };
  } catch (e) {
    showLoadError(e, budgetMiB * 1048576);
    throw e;
  } finally {
    state.loading = null;
    refresh();
  }
}

function showLoadError(e, budget) {
  $('progress').value = 0;
  setText('status', 'no model loaded');
  if (e.code === 'ABORTED') {
    // Cancelled on purpose: not shown as a fault.
    setText('progressText', 'cancelled (ABORTED)');
    hidePlan();
    return;
  }
  let message = e.message, suggestion = '';
  if (e.code === 'BUDGET_EXCEEDED') {
    // The core's message is "model needs … budget is …; <what would fit>": the advice on a line of its own.
    const k = message.indexOf('; ');
    if (k > 0) { suggestion = message.slice(k + 2); message = message.slice(0, k); }
  }
  setText('progressText', `${e.code || 'ERROR'}: ${message}`, 'err');
  if (suggestion) { $('hint').textContent = `suggestion: ${suggestion}`; $('hint').hidden = false; }
  // The plan the load was refused with (the error carries it once the header was read).
  if (e.plan) {
    const over = e.code === 'BUDGET_EXCEEDED';
    showPlan(e.plan, { refused: true, budget: over ? budget : 0,
      title: over ? 'refused plan: over the memory budget (not loaded)' : `plan of the failed load (${e.code})` });
  } else {
    hidePlan();
  }
}

const splitDocs = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);

async function indexDocs(text = $('docs').value) {
  const model = state.model;
  if (!model) throw new Error('load a model first');
  $('docs').value = text;
  const docs = splitDocs(text);
  const run = ++state.indexRun;
  state.indexing++;
  refresh();
  setText('indexText', `indexing ${docs.length} documents…`, 'sub');
  const t0 = performance.now();
  let vecs;
  try {
    vecs = docs.length ? await model.embed(docs) : [];
  } finally {
    state.indexing--;
    refresh();
  }
  const ms = performance.now() - t0;
  // Documents and vectors are replaced together, and only by the latest index of the current
  // model: an older run finishing later must not pair its vectors with other documents.
  if (run !== state.indexRun || model !== state.model) return { n: docs.length, ms, superseded: true };
  state.docs = docs; state.vecs = vecs; state.indexedText = text;
  state.indexNote = `${docs.length} documents indexed in ${ms.toFixed(0)} ms`;
  setText('indexText', state.indexNote, 'sub');
  docsChanged(); // (edited while this ran: stale again)
  if (model.memory) showPlan(model.plan, { memory: model.memory });
  return { n: docs.length, ms };
}

// The index no longer matches the text box: say so (the next search re-indexes first).
function docsChanged() {
  if (!state.model || state.indexedText === null) return;
  if (state.indexedText === $('docs').value) setText('indexText', state.indexNote, 'sub'); // (edited back)
  else setText('indexText', 'documents changed since indexing: the next search re-indexes them', 'sub stale');
}

async function search(q = $('query').value, k = 10) {
  $('query').value = q;
  if (!state.model) throw new Error('load a model first');
  // Rank what the text box holds, not what it held at the last index.
  if (state.indexedText !== $('docs').value) await indexDocs();
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
  setText('searchText', `${ranked.length} results`, 'sub');
  return ranked.map((r) => ({ doc: state.docs[r.i], score: r.score }));
}

const indexError = (e) => setText('indexText', e.message, 'sub err');
const runSearch = () => search().catch((e) => setText('searchText', e.message, 'sub err'));
$('loadBtn').onclick = () => loadModel().then(() => { if ($('docs').value) return indexDocs().catch(indexError); }).catch(() => {});
$('cancelBtn').onclick = () => { if (state.loading) state.loading.abort(); };
$('indexBtn').onclick = () => indexDocs().catch(indexError);
$('searchBtn').onclick = runSearch;
$('query').onkeydown = (e) => { if (e.key === 'Enter' && !$('searchBtn').disabled) runSearch(); };
$('docs').oninput = docsChanged;
// A chosen file replaces the documents: index it at once, so a search never ranks the previous
// ones (during a load, the load's own index step picks the new text up).
$('file').onchange = async () => {
  const f = $('file').files[0];
  if (!f) return;
  $('docs').value = await f.text();
  docsChanged();
  if (state.model && !state.loading) indexDocs().catch(indexError);
};

// Default documents: the fixture sentences.
fetch('../../tests/fixtures/sentences.txt').then((r) => (r.ok ? r.text() : '')).then((t) => { if (!$('docs').value) $('docs').value = t; });

window.demo = {
  loadModel, indexDocs, search, state,
  async embed(texts) { const v = await state.model.embed(texts); return v.map((x) => Array.from(x)); },
  async dispose() { if (state.model) await state.model.dispose(); state.model = null; refresh(); },
  ready: true,
};
