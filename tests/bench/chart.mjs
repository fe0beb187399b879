// SVG chart of a benchmark run (results.json from run.mjs): throughput on the left (MiniLM shape,
// batch 32, ~23-token sentences, sentences/s per implementation and thread count), peak memory on
// the right (peak RSS of the whole process per model shape for onnxruntime-web fp32 / q8 and
// bertwasm q8). Plain SVG, no dependencies, readable on GitHub's light and dark themes.
//
// usage: node tests/bench/chart.mjs [results.json] [out.svg]   (defaults: build-bench/results.json, docs/bench.svg)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const COLORS = { bertwasm: '#2f7d32', ort: '#1565c0', node: '#9e9e9e', missing: '#e0e0e0' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const THROUGHPUT_ROWS = [
  ['bertwasm-web:q8:t1', 'bertwasm q8, 1 thread'],
  ['bertwasm-web:q4:t1', 'bertwasm q4, 1 thread'],
  ['bertwasm-web:f32:t1', 'bertwasm f32, 1 thread'],
  ['bertwasm-web:q8:t2', 'bertwasm q8, 2 threads'],
  ['bertwasm-wasi:q8:t1', 'bertwasm WASI q8'],
  ['bertwasm-wasi-relaxed:q8:t1', 'bertwasm WASI relaxed q8'],
  ['ort-web:fp32:t1', 'ort-web fp32, 1 thread'],
  ['ort-web:q8:t1', 'ort-web q8, 1 thread'],
  ['ort-web:fp32:t2', 'ort-web fp32, 2 threads'],
  ['ort-web:q8:t2', 'ort-web q8, 2 threads'],
  ['ort-node:fp32:t1', 'ort-node fp32 (native), 1 thread'],
];

function colorOf(id) {
  if (id.startsWith('bertwasm')) return COLORS.bertwasm;
  if (id.startsWith('ort-node')) return COLORS.node;
  return COLORS.ort;
}

function barPanel({ x, y, w, title, subtitle, bars, unit, digits }) {
  const labelW = 190, rowH = 22, barH = 15;
  // the scale: per group when bars are grouped (memory per model shape differs 15x), and bars
  // marked `clip` (the native ceiling) do not stretch it: they are cut at the edge with a mark
  const scaleOf = [];
  let gmax = [];
  for (const [i, b] of bars.entries()) {
    const max = Math.max(1e-9, ...scaleOf[i] ?? [], ...(scaleOf[i]?.length ? [] : [b.value ?? 0]));
    if (b.group) { gmax = []; scaleOf.push(null); continue; }
    scaleOf.push(gmax);
    if (!b.clip && b.value != null) gmax.push(b.value);
  }
  const plotW = w - labelW - 70;
  const out = [];
  out.push(`<text x="${x}" y="${y}" class="t">${esc(title)}</text>`);
  out.push(`<text x="${x}" y="${y + 16}" class="s">${esc(subtitle)}</text>`);
  let yy = y + 30;
  for (const [i, b] of bars.entries()) {
    const max = Math.max(1e-9, ...scaleOf[i] ?? [], ...(scaleOf[i]?.length ? [] : [b.value ?? 0]));
    if (b.group) {
      out.push(`<text x="${x}" y="${yy + 12}" class="g">${esc(b.group)}</text>`);
      yy += rowH - 4;
      continue;
    }
    out.push(`<text x="${x + labelW - 6}" y="${yy + barH - 3}" class="l" text-anchor="end">${esc(b.label)}</text>`);
    if (b.value == null) {
      out.push(`<rect x="${x + labelW}" y="${yy}" width="${plotW * 0.02}" height="${barH}" fill="${COLORS.missing}"/>`);
      out.push(`<text x="${x + labelW + plotW * 0.02 + 4}" y="${yy + barH - 3}" class="v">${esc(b.note || 'not measured')}</text>`);
    } else {
      const clipped = b.value > max * 1.05;
      const bw = Math.max(1, Math.min(b.value / max, 1.05) * plotW);
      out.push(`<rect x="${x + labelW}" y="${yy}" width="${bw.toFixed(1)}" height="${barH}" fill="${b.color}" rx="2"/>`);
      if (clipped) out.push(`<text x="${x + labelW + bw - 14}" y="${yy + barH - 3}" class="c">//</text>`);
      out.push(`<text x="${x + labelW + bw + 4}" y="${yy + barH - 3}" class="v">${b.value.toFixed(digits)} ${esc(unit)}</text>`);
    }
    yy += rowH;
  }
  return { svg: out.join('\n'), height: yy - y };
}

export function renderChart(results) {
  const m = results.models.minilm || Object.values(results.models).find((x) => x.label.includes('MiniLM')) ||
    Object.values(results.models)[0];
  const rowVal = (mm, id, fn) => {
    const r = mm?.rows?.[id];
    if (!r) return { value: null, note: 'not run' };
    if (r.error) return { value: null, note: r.missing ? 'not built' : 'failed' };
    return { value: fn(r) };
  };
  const thr = THROUGHPUT_ROWS.filter(([id]) => m?.rows?.[id]).map(([id, label]) => ({
    label, color: colorOf(id), clip: id.startsWith('ort-node'),
    ...rowVal(m, id, (r) => r.sets.find((s) => s.set === 'short' && s.batch === 32)?.sentences_per_s ?? null),
  }));
  const left = barPanel({
    x: 20, y: 30, w: 520, title: `Throughput: ${m ? m.label : '?'}`,
    subtitle: 'batch 32, ~23-token sentences, Node 20, sentences/s (higher is better; native cut at the edge)',
    bars: thr, unit: '/s', digits: 1,
  });

  const mem = [];
  for (const [name, mm] of Object.entries(results.models)) {
    if (name === 'tiny' || name.endsWith('-outliers')) continue; // the same shape's memory is already shown
    mem.push({ group: `${mm.label} (safetensors ${(mm.sizes.safetensors / 1e9).toFixed(2)} GB)` });
    const pick = (ids) => ids.find((id) => mm.rows[id] && !mm.rows[id].error) || ids.find((id) => mm.rows[id]);
    const rows = [
      [pick(['ort-web:fp32:t1', 'ort-web:fp32:t2']), 'ort-web fp32'],
      [pick(['ort-web:q8:t1', 'ort-web:q8:t2']), 'ort-web q8'],
      [pick(['bertwasm-web:q8:t1', 'bertwasm-web:q8:t2']), 'bertwasm q8 (web)'],
      [pick(['bertwasm-wasi:q8:t1']), 'bertwasm q8 (WASI)'],
    ];
    for (const [id, label] of rows) {
      if (!id) continue;
      mem.push({ label, color: colorOf(id), ...rowVal(mm, id, (r) => r.peak_rss / 2 ** 30) });
    }
  }
  const right = barPanel({
    x: 580, y: 30, w: 520, title: 'Peak memory (whole process)',
    subtitle: 'peak RSS while loading and embedding, GiB (lower is better; scale per model)',
    bars: mem, unit: 'GiB', digits: 2,
  });
  const H = Math.max(left.height, right.height) + 70;
  const foot = `${results.quick ? 'quick run; ' : ''}${results.date.slice(0, 10)} ${results.git || ''}; ` +
    `${results.machine.cpus} cores ${results.machine.cpu || ''} shared with other jobs (wall clock; per-CPU-second figures in docs/bench.md); ` +
    'synthetic weights with the exact tensor shapes; ' +
    'tests/bench/run.mjs';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1120" height="${H}" viewBox="0 0 1120 ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<style>
 .t { font-size: 15px; font-weight: 600; fill: #222; }
 .s, .v, .f { font-size: 11px; fill: #555; }
 .l { font-size: 12px; fill: #333; }
 .g { font-size: 12px; font-weight: 600; fill: #333; }
 .c { font-size: 12px; font-weight: 700; fill: #fff; }
 @media (prefers-color-scheme: dark) { .t, .l, .g { fill: #ddd; } .s, .v, .f { fill: #aaa; } }
</style>
${left.svg}
${right.svg}
<text x="20" y="${H - 12}" class="f">${esc(foot)}</text>
</svg>
`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const repo = path.resolve(here, '..', '..');
  const input = process.argv[2] || path.join(repo, 'build-bench', 'results.json');
  const out = process.argv[3] || path.join(repo, 'docs', 'bench.svg');
  fs.writeFileSync(out, renderChart(JSON.parse(fs.readFileSync(input, 'utf8'))));
  process.stdout.write(`wrote ${out}\n`);
}
