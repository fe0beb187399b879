// Prepended (--extern-pre-js) to the Emscripten ES module. Emscripten 3.1.6's Node branch calls
// require() and reads __dirname, which do not exist in Node ESM: define both from import.meta.url.
// Browsers, workers and Deno without a Node compat layer skip this.
var require, __dirname;
if (typeof process === 'object' && process.versions && process.versions.node && typeof window === 'undefined') {
  const { createRequire } = await import('node:module');
  require = createRequire(import.meta.url);
  __dirname = (await import('node:path')).dirname((await import('node:url')).fileURLToPath(import.meta.url));
}
