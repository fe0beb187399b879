#!/usr/bin/env node
// Runs the bertwasm WASI command (dist/bertwasm-wasi.wasm) under Node's node:wasi, with the
// current directory preopened, forwarding arguments, environment, stdin/stdout/stderr and the exit
// code. This is the npm package's `bin`: `npx bertwasm embed --model DIR ...`.
//
// Which build runs: $BERTWASM_WASM if set; else the relaxed-SIMD build when this Node validates
// relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd, or BERTWASM_RELAXED=1, which sets
// that V8 flag at startup) and the file exists; else SIMD128. BERTWASM_RELAXED=0 forces SIMD128.
// Directories the program may open: the current directory (as "." and as its absolute path), the
// --model folder and the --output file's folder when they lie outside it (see grantPaths), plus
// every absolute directory listed in $BERTWASM_DIRS (separated by ":"), each under its own path.
//
// Also a module: runWasi() is used by the tests (e.g. to wrap imports and count bytes read).
import { readFileSync, existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
// `process` is the global: `import process from 'node:process'` builds a namespace of all its
// properties, which runs the process.stdin getter, and that makes a piped stdin non-blocking: the
// command's reads then fail with EAGAIN whenever the producer is slower than the command.

// Node 20's node:wasi, called from TurboFan-compiled wasm through V8 "fast API calls", can write
// through a stale pointer after the module's memory has grown: the V8 heap gets corrupted and
// Node segfaults when the command returns (seen here with a MiniLM model after a few MB of
// memory.grow). Compiling with fast API calls off avoids it; set before any module is compiled.
// (docs/cli.md, "Your own node:wasi host", tells other hosts to do the same.)
v8.setFlagsFromString('--no-turbo-fast-api-calls');
if (process.env.BERTWASM_RELAXED === '1') v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

// node:wasi prints an ExperimentalWarning on first use; keep the tool's stderr to its own lines.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'ExperimentalWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
});
const { WASI } = await import('node:wasi');

const here = path.dirname(fileURLToPath(import.meta.url));
export const SIMD_WASM = path.join(here, '..', 'dist', 'bertwasm-wasi.wasm');
export const RELAXED_WASM = path.join(here, '..', 'dist', 'bertwasm-wasi-relaxed.wasm');

// A module whose only function uses i8x16.relaxed_swizzle: validates iff relaxed SIMD is on.
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x0a, 0x2b, 0x01, 0x29, 0x00, // code: one body of 41 bytes, no locals
  0xfd, 0x0c, ...new Array(16).fill(0), // v128.const 0
  0xfd, 0x0c, ...new Array(16).fill(0), // v128.const 0
  0xfd, 0x80, 0x02, // i8x16.relaxed_swizzle
  0x0b, // end
]);

export function relaxedSimdSupported() {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

export function defaultWasm() {
  if (process.env.BERTWASM_WASM) return path.resolve(process.env.BERTWASM_WASM);
  if (process.env.BERTWASM_RELAXED !== '0' && relaxedSimdSupported() && existsSync(RELAXED_WASM)) return RELAXED_WASM;
  return SIMD_WASM;
}

export function defaultPreopens() {
  const cwd = process.cwd();
  const pre = { '.': cwd, [cwd]: cwd };
  for (const d of (process.env.BERTWASM_DIRS || '').split(':')) {
    if (d && path.isAbsolute(d)) pre[d] = d;
  }
  return pre;
}

// A WASI program opens only what it was granted, so the folders named by --model and --output are
// granted too when they lie outside the current directory: an absolute path under its own name, a
// "../" path rewritten to its absolute form (a relative path cannot leave the "." preopen).
// Returns the arguments to pass; adds to preopens.
export function grantPaths(args, preopens, cwd = process.cwd()) {
  const out = [...args];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === '--') break;
    const m = /^(--model|--output)(?:=(.*))?$/.exec(out[i]);
    if (!m) continue;
    const at = m[2] === undefined ? i + 1 : i; // the value: the next argument, or after '='
    const value = m[2] === undefined ? out[i + 1] : m[2];
    if (m[2] === undefined) i++;
    if (!value || value === '-') continue;
    const abs = path.resolve(cwd, value);
    const dir = m[1] === '--model' ? abs : path.dirname(abs);
    const rel = path.relative(cwd, abs);
    const outside = path.isAbsolute(value) || rel === '..' || rel.startsWith(`..${path.sep}`);
    if (!outside || !existsSync(dir)) continue; // missing: the program reports it
    preopens[dir] = dir;
    if (!path.isAbsolute(value)) out[at] = m[2] === undefined ? abs : `${m[1]}=${abs}`;
  }
  return out;
}

// Runs the command; resolves to its exit code. wrapImports(importObject, getInstance) may return a
// modified import object (tests count fd_read bytes this way).
export async function runWasi({
  wasm = defaultWasm(),
  args = [],
  env = process.env,
  preopens = defaultPreopens(),
  stdin = 0,
  stdout = 1,
  stderr = 2,
  wrapImports = null,
} = {}) {
  const wasi = new WASI({
    version: 'preview1',
    args: ['bertwasm', ...args],
    env,
    preopens,
    stdin,
    stdout,
    stderr,
    returnOnExit: true,
  });
  const module = await WebAssembly.compile(readFileSync(wasm));
  let instance = null;
  let imports = wasi.getImportObject();
  if (wrapImports) imports = wrapImports(imports, () => instance) || imports;
  instance = await WebAssembly.instantiate(module, imports);
  return wasi.start(instance);
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const wasm = defaultWasm();
  if (!existsSync(wasm)) {
    process.stderr.write(`bertwasm: ${wasm}: not found (build it with scripts/build-wasi.sh)\n`);
    process.exit(1);
  }
  try {
    const preopens = defaultPreopens();
    const args = grantPaths(process.argv.slice(2), preopens);
    process.exitCode = await runWasi({ wasm, args, preopens });
  } catch (e) {
    // A trap (out of bounds, unreachable) or an instantiation failure: report, exit 1.
    process.stderr.write(`bertwasm: ${path.basename(wasm)}: ${e && e.message ? e.message : e}\n`);
    process.exitCode = 1;
  }
}
