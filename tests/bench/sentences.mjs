// Deterministic English-like benchmark texts made from the model's own vocab.txt: whole-word
// lowercase entries drawn with a Zipf-like bias towards frequent words (BERT's vocabulary is
// roughly frequency-ordered from "the" at id 1996), capitalised, with a comma and a full stop.
// Every word is a single WordPiece token, so token counts are controlled exactly:
//   short: 256 sentences of 18..28 tokens incl. [CLS]/[SEP] (mean ~23)
//   t128 / t512: texts of exactly 128 / 512 tokens incl. [CLS]/[SEP]
import fs from 'node:fs';

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function wordList(vocabTxt) {
  const toks = fs.readFileSync(vocabTxt, 'utf8').split('\n');
  const words = [];
  for (let id = 1996; id < toks.length; id++) {
    const t = toks[id];
    if (/^[a-z]{2,}$/.test(t) || t === 'a') words.push(t);
  }
  return words;
}

// content tokens (without [CLS]/[SEP]) -> one text of exactly that many tokens
function makeText(words, rnd, nContent) {
  const zipf = () => words[Math.min(words.length - 1, Math.floor(Math.exp(rnd() * Math.log(words.length))) - 1)];
  const out = [];
  let left = nContent;
  while (left > 0) {
    // one sentence: words, an optional comma, a full stop (each a single token)
    let n = Math.min(left, 8 + Math.floor(rnd() * 14));
    if (n < 3) { // too short for a sentence: pad the previous one with words
      for (let i = 0; i < n; i++) out.splice(out.length - 1, 0, zipf());
      break;
    }
    const sentence = [];
    const comma = n >= 8 ? 2 + Math.floor(rnd() * (n - 5)) : -1;
    for (let i = 0; i < n - 1; i++) sentence.push(i === comma ? ',' : zipf());
    sentence[0] = sentence[0][0].toUpperCase() + sentence[0].slice(1);
    sentence.push('.');
    out.push(...sentence);
    left -= n;
  }
  return out.join(' ').replace(/ ([,.])/g, '$1');
}

export function makeSets(vocabTxt, { seed = 20261129, nShort = 256, nLong = 32 } = {}) {
  const words = wordList(vocabTxt);
  const rnd = mulberry32(seed);
  const short = [];
  for (let i = 0; i < nShort; i++) short.push(makeText(words, rnd, 16 + Math.floor(rnd() * 11)));
  const t128 = [], t512 = [];
  for (let i = 0; i < nLong; i++) t128.push(makeText(words, rnd, 126));
  for (let i = 0; i < nLong; i++) t512.push(makeText(words, rnd, 510));
  return { short, t128, t512 };
}
