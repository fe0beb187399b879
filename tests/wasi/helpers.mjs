// Shared helpers for the WASI CLI tests: the three builds of one main (SIMD128 wasm, relaxed-SIMD
// wasm, native) run as child processes with the same arguments.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RUN_MJS = path.join(REPO, 'wasi', 'run.mjs');
export const SIMD_WASM = path.join(REPO, 'dist', 'bertwasm-wasi.wasm');
export const RELAXED_WASM = path.join(REPO, 'dist', 'bertwasm-wasi-relaxed.wasm');
export const NATIVE = path.join(path.resolve(REPO, process.env.BERT_BUILD_DIR || 'build'), 'bertwasm');
export const PYTHON = process.env.PYTHON || '/usr/bin/python3';
export const GEN = path.join(REPO, 'tests', 'gen', 'gen_model.py');
export const FIXTURES = path.join(REPO, 'tests', 'fixtures');
// Generated models live under the system temp dir, which the wasm runs get preopened.
export const TMP = fs.realpathSync(os.tmpdir());

export const VARIANTS = {
  simd: { cmd: process.execPath, pre: [RUN_MJS], env: { BERTWASM_WASM: SIMD_WASM }, file: SIMD_WASM },
  relaxed: {
    cmd: process.execPath,
    pre: ['--experimental-wasm-relaxed-simd', RUN_MJS],
    env: { BERTWASM_WASM: RELAXED_WASM },
    file: RELAXED_WASM,
  },
  native: { cmd: NATIVE, pre: [], env: {}, file: NATIVE },
};
export const VARIANT_NAMES = Object.keys(VARIANTS);

export function checkBuilt(name) {
  const f = VARIANTS[name].file;
  if (!fs.existsSync(f)) {
    throw new Error(`${f} is missing: build it (scripts/build-wasi.sh; cmake for the native CLI, BERT_BUILD_DIR)`);
  }
}

// Runs one build; returns { code, stdout (Buffer), stderr (string) }.
// stdinFd: pass this file descriptor as the child's stdin instead of `input`; stdoutFd: the
// child's stdout goes to this descriptor (a file) instead of a pipe (r.stdout is then empty).
export function run(variant, args, { input, stdinFd, stdoutFd, cwd = REPO, env = {} } = {}) {
  checkBuilt(variant);
  const v = VARIANTS[variant];
  const r = spawnSync(v.cmd, [...v.pre, ...args], {
    cwd,
    stdio: [stdinFd ?? 'pipe', stdoutFd ?? 'pipe', 'pipe'],
    ...(stdinFd === undefined ? { input: input ?? '' } : {}),
    env: { ...process.env, BERTWASM_DIRS: TMP, ...v.env, ...env },
    maxBuffer: 1 << 30,
  });
  // EPIPE: the child exited without reading all of `input` (a refusal before any input), which
  // is its right; the exit status is still there.
  if (r.error && !(r.error.code === 'EPIPE' && r.status !== null)) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr.toString('utf8') };
}

// Runs and requires exit code 0; returns stdout as a string.
export function runOk(variant, args, opts) {
  const r = run(variant, args, opts);
  if (r.code !== 0) throw new Error(`${variant} ${args.join(' ')}: exit ${r.code} (${r.signal ?? ''})\n${r.stderr}`);
  return r.stdout.toString('utf8');
}

export const jsonl = (s) => s.split('\n').filter((l) => l.length).map((l) => JSON.parse(l));

export function mkTemp(prefix = 'bertwasm-cli-') {
  return fs.mkdtempSync(path.join(TMP, prefix));
}

export function genModel(out, args) {
  const r = spawnSync(PYTHON, [GEN, ...args, '-q', '--out', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gen_model.py ${args.join(' ')} failed:\n${r.stderr}`);
  return out;
}

export function readLines(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}

export function maxAbs(a, b) {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// Parses a .npy (v1, '<f4', C order) into { shape, data: Float32Array }.
export function parseNpy(buf) {
  if (buf.readUInt32BE(0) !== 0x934e554d) throw new Error('not a .npy file');
  const hl = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + hl).toString('latin1');
  if (!header.includes("'descr': '<f4'")) throw new Error(`unexpected npy header ${header}`);
  const m = /'shape': \((\d+), (\d+)\)/.exec(header);
  const shape = [Number(m[1]), Number(m[2])];
  const body = buf.subarray(10 + hl);
  const data = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  return { shape, data, headerLen: 10 + hl };
}
