// The browser stage of the benchmark: batch-1 latency (an interactive search box) of bertwasm's web
// build against transformers.js + onnxruntime-web, both q8, measured inside headless Chromium (the
// engine such a page runs on; the other stages run the same builds in Node). One page per thread
// count (onnxruntime-web fixes its thread count once per page); browser_b1.html alternates the two
// in windows of `count` sentences and returns the medians, their ratio and the per-round range.
//
// usage (run.mjs calls runBrowserB1): node tests/bench/browser_b1.mjs MODEL_DIR TEXTS_JSON [rounds]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// modelDir and textsFile must lie inside the repository (it is what the page server serves).
export async function runBrowserB1({ modelDir, textsFile, threads = [1, 2], rounds = 10, count = 32, log = () => {} }) {
  let chromium;
  try { ({ chromium } = await import('playwright-core')); } catch { return { error: 'playwright-core not installed' }; }
  if (!fs.existsSync(CHROMIUM)) return { error: `${CHROMIUM} missing` };
  const rel = (p) => path.relative(REPO, path.resolve(p));
  if ([modelDir, textsFile].some((p) => rel(p).startsWith('..'))) return { error: 'model or texts outside the repository' };
  const { createServer } = await import('../../examples/browser/serve.mjs');
  const server = createServer({ root: REPO });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bertwasm-bench-chromium-'));
  let browser;
  const out = { runs: [] };
  try {
    browser = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    for (const t of threads) {
      const page = await browser.newPage();
      const url = `${base}/tests/bench/browser_b1.html?threads=${t}&rounds=${rounds}&count=${count}` +
        `&model=/${encodeURI(rel(modelDir))}&texts=/${encodeURI(rel(textsFile))}`;
      await page.goto(url);
      await page.waitForFunction(() => window.result, null, { timeout: 15 * 60 * 1000 });
      const r = await page.evaluate(() => window.result);
      log(r.error ? `browser t${t}: ${r.error}` : `browser t${t}: bertwasm ${r.bertwasm_ms} ms, ort-web ${r.ort_ms} ms per query (${r.ratio}x, rounds ${r.ratio_range.join('-')}), ${r.browser}, cosine ${r.cosine}`);
      out.runs.push(r);
      await page.close();
    }
  } catch (e) {
    out.error = String(e.message || e).slice(0, 600);
  } finally {
    if (browser) await browser.close();
    server.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [modelDir, textsFile, rounds] = process.argv.slice(2);
  if (!modelDir || !textsFile) {
    process.stderr.write('usage: node tests/bench/browser_b1.mjs MODEL_DIR TEXTS_JSON [rounds]\n');
    process.exit(2);
  }
  const r = await runBrowserB1({ modelDir, textsFile, rounds: Number(rounds || 10), log: (m) => process.stderr.write(m + '\n') });
  process.stdout.write(JSON.stringify(r, null, 1) + '\n');
  process.exit(r.error || r.runs.some((x) => x.error) ? 1 : 0);
}
