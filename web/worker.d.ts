// Type declarations for 'bertwasm/worker': the model runs in a Web Worker / worker_threads Worker.
import type {
  Backend, LoadOptions, MemoryPlan, MemoryUse, ModelConfig, ModelSource, RerankResult, Tokenization,
} from './index.js';

export { BertError, cosineSimilarity } from './index.js';
export type { BertErrorCode } from './index.js';

/** What load() resolves to (exported for `instanceof`; not constructible). */
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
  similarity(a: string | Float32Array, b: string | Float32Array): Promise<number>;
  /**
   * Terminates the worker, which frees the model. As on the main thread, calls not yet settled
   * (also one the worker is running: its result is dropped) and later calls reject with DISPOSED.
   */
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
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
