// Runs a WASI build with fd_read/fd_pread/path_open wrapped, counting the bytes read per opened
// path. usage: node count_reads.mjs WASM OUT.json -- ARGS...   (stdout/stderr pass through;
// OUT.json gets {"code", "reads": {path: bytes}, "opens": [paths], "memory": bytes}, memory being
// the module's linear memory at exit: wasm memory never shrinks, so that is its peak).
import fs from 'node:fs';
import { runWasi } from '../../wasi/run.mjs';

const [wasm, outFile, sep, ...args] = process.argv.slice(2);
if (!wasm || !outFile || sep !== '--') {
  process.stderr.write('usage: node count_reads.mjs WASM OUT.json -- ARGS...\n');
  process.exit(2);
}

const reads = {};
const opens = [];
const fdPath = new Map([[0, '<stdin>']]);
let getInstance = null;

const code = await runWasi({
  wasm,
  args,
  wrapImports(imports, instance) {
    getInstance = instance;
    const w = imports.wasi_snapshot_preview1;
    const mem = () => instance().exports.memory.buffer;
    const count = (fd, nreadPtr) => {
      const n = new DataView(mem()).getUint32(nreadPtr, true);
      const p = fdPath.get(fd) ?? `<fd ${fd}>`;
      reads[p] = (reads[p] ?? 0) + n;
    };
    const wrapped = {
      ...w,
      path_open(fd, dirflags, pathPtr, pathLen, oflags, rightsBase, rightsInh, fdflags, openedPtr) {
        const r = w.path_open(fd, dirflags, pathPtr, pathLen, oflags, rightsBase, rightsInh, fdflags, openedPtr);
        if (r === 0) {
          const p = Buffer.from(mem(), pathPtr, pathLen).toString('utf8');
          fdPath.set(new DataView(mem()).getUint32(openedPtr, true), p);
          opens.push(p);
        }
        return r;
      },
      fd_read(fd, iovs, iovsLen, nreadPtr) {
        const r = w.fd_read(fd, iovs, iovsLen, nreadPtr);
        if (r === 0) count(fd, nreadPtr);
        return r;
      },
      fd_pread(fd, iovs, iovsLen, offset, nreadPtr) {
        const r = w.fd_pread(fd, iovs, iovsLen, offset, nreadPtr);
        if (r === 0) count(fd, nreadPtr);
        return r;
      },
    };
    return { ...imports, wasi_snapshot_preview1: wrapped };
  },
});
const memory = getInstance().exports.memory.buffer.byteLength;
fs.writeFileSync(outFile, JSON.stringify({ code, reads, opens, memory }));
process.exitCode = code;
