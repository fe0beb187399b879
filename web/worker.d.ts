// Type declarations for 'bertwasm/worker': the model runs in a Web Worker / worker_threads Worker.
// Symbol.asyncDispose: TypeScript's esnext.disposable lib (5.2+), as in index.d.ts.
/// <reference lib="esnext.disposable" />
import type {
  Backend, LoadOptions, MemoryPlan, MemoryUse, ModelConfig, ModelSource, ModelSummary, RerankResult, Tokenization,
} from './index.js';

export { BertError, cosineSimilarity } from './index.js';
export type { BertErrorCode, ModelSummary } from './index.js';

/**
 * What load() resolves to (exported for `instanceof`; not constructible). The API of Model, except
 * that dispose() returns a promise and the class has [Symbol.asyncDispose] (`await using`) instead
 * of [Symbol.dispose].
 */
export class RemoteModel {
  private constructor();
  readonly plan: MemoryPlan;
  readonly config: ModelConfig;
  readonly dim: number;
  readonly backend: Backend;
  readonly threads: number;
  /** As reported by the worker after its last call. */
  readonly memory: MemoryUse;
  readonly disposed: boolean;
  embed(text: string): Promise<Float32Array>;
  embed(texts: string[]): Promise<Float32Array[]>;
  tokenize(text: string): Promise<Tokenization>;
  countTokens(text: string): Promise<number>;
  /** topK: a positive integer (INVALID_ARGUMENT otherwise). */
  rerank(query: string, docs: string[], options?: { topK?: number }): Promise<RerankResult[]>;
  similarity(a: string | ArrayLike<number>, b: string | ArrayLike<number>): Promise<number>;
  /**
   * Terminates the worker, which frees the model. As on the main thread, calls not yet settled
   * (also one the worker is running: its result is dropped) and later calls reject with DISPOSED.
   */
  dispose(): Promise<void>;
  /** dispose(), for `await using model = await load(...)`. There is no [Symbol.dispose]. */
  [Symbol.asyncDispose](): Promise<void>;
  /** A short summary, without the worker internals. */
  toJSON(): ModelSummary;
}

/** Options of load() from 'bertwasm', less what cannot cross to a worker. */
export interface WorkerLoadOptions extends Omit<LoadOptions, 'fetch' | 'wasm'> {
  /** A precompiled module, a URL or the bytes (a Response does not cross to the worker). */
  wasm?: WebAssembly.Module | string | URL | ArrayBuffer | ArrayBufferView;
}

/**
 * As load() from 'bertwasm'; `fetch` is not accepted (use `headers`). A worker that dies rejects
 * the calls in flight and every later one with INTERNAL.
 */
export function load(source: ModelSource, options?: WorkerLoadOptions): Promise<RemoteModel>;
