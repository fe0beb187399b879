// Type declarations for 'bertwasm' (hand-written; see web/index.js).
// Symbol.dispose is declared by TypeScript's esnext.disposable lib (TypeScript 5.2+): referenced
// here so the types check without @types/node and whatever the consumer's `lib` or `target`.
/// <reference lib="esnext.disposable" />

/** Stable error codes: C core statuses plus the JS-side ones. */
export type BertErrorCode =
  | 'INVALID_ARGUMENT'
  | 'BAD_MODEL'
  | 'UNSUPPORTED'
  | 'BUDGET_EXCEEDED'
  | 'OUT_OF_MEMORY'
  | 'BAD_STATE'
  | 'NETWORK'
  | 'ABORTED'
  | 'DISPOSED'
  | 'INTERNAL';

export class BertError extends Error {
  readonly name: 'BertError';
  readonly code: BertErrorCode;
  /** Present on BUDGET_EXCEEDED (and other errors after the header arrived): the plan refused. */
  readonly plan?: MemoryPlan;
  /** The underlying error, when there is one (the TypeError of a failed fetch, say). */
  readonly cause?: unknown;
}

/** Weight storage: q8 / q4 are the ggml-style q8_0 / q4_0 block formats. Exactly these spellings. */
export type DType = 'q8' | 'q4' | 'f16' | 'f32';
export type Pooling = 'mean' | 'cls' | 'max' | 'none';
export type Backend = 'wasm-simd' | 'wasm-simd-threads';

/** The core's memory plan, fixed once the safetensors header has been read. Sizes in bytes. */
export interface MemoryPlan {
  weights: number;
  vocab: number;
  activations: number;
  staging: number;
  /** Everything the model holds: the one arena + the tokenizer tables. */
  total: number;
  /** Expected size of model.safetensors. */
  fileSize: number;
  /** Bytes read before the plan existed (8 + JSON header length). */
  headerSize: number;
  maxTokens: number;
  maxBatch: number;
  dtype: DType | string;
  embeddingDtype: DType | string;
  /** One-line human-readable description (on Model.plan). */
  description?: string;
}

export interface ProgressEvent {
  /**
   * 'files': the small files, `loaded`/`total` count files. 'weights', 'plan' and 'done': bytes of
   * model.safetensors, so `loaded` starts again from 0 after the files. Within each of the two
   * `loaded` never decreases; 'done' has loaded === total.
   */
  phase: 'files' | 'weights' | 'plan' | 'done';
  loaded: number;
  /** 0 while unknown (no Content-Length before the header arrived). */
  total: number;
  /** On the 'plan' event. */
  plan?: MemoryPlan;
  /** Size of the wasm linear memory in bytes now (on 'weights', 'plan' and 'done' events). */
  wasmMemory?: number;
}

/** Bytes of a file given directly. Strings are file contents, objects are serialized as JSON. */
export type FilePart = string | ArrayBuffer | ArrayBufferView | Blob | Response | URL | object;

/**
 * model.safetensors: URL (string or URL), or in Node a file path or file: URL; or the bytes in any
 * streamable form. A Node Readable (e.g. fs.createReadStream) is an async iterable: read from its
 * current position, never reopened by its path.
 */
export type WeightsSource =
  | string
  | URL
  | Response
  | ReadableStream<Uint8Array>
  | Blob
  | ArrayBuffer
  | ArrayBufferView
  | AsyncIterable<Uint8Array>;

export interface ModelParts {
  /** config.json */
  config: FilePart;
  /** tokenizer.json (or give `vocab`) */
  tokenizer?: FilePart;
  /** vocab.txt */
  vocab?: FilePart;
  /** Other files by their path in the model folder: 'tokenizer_config.json', '1_Pooling/config.json', ... */
  files?: Record<string, FilePart>;
  weights: WeightsSource;
}

/**
 * A Hugging Face model folder: a base URL (`https://huggingface.co/ORG/NAME/resolve/main/`), the
 * shorthand `hf:ORG/NAME[@REVISION]`, a folder path or file: URL (string or URL object) in Node, or
 * the parts given explicitly. A path to a file instead of a folder: INVALID_ARGUMENT.
 */
export type ModelSource = string | URL | ModelParts;

export interface LoadOptions {
  /**
   * Bytes the model's plan (the core's single arena: weights + vocab + activations + staging) may
   * use; a larger plan throws BUDGET_EXCEEDED before weights are read. With a budget (> 0) the
   * model also runs in a wasm instance whose WebAssembly.Memory maximum is
   * budget + the module's initial memory (4 MiB) + the JS scratch (256 KiB window + this model's
   * token buffers) + 3 x the tokenizer file (its transient parse) + 320 KiB per extra pthread
   * + 1 MiB slack, rounded up to 64 KiB pages (`model.memory.wasmMemoryMax`): the linear memory
   * can never grow past it, and a load that would need more throws OUT_OF_MEMORY. Models given the
   * same maximum share an instance; once its last model is disposed, it is kept for a load with
   * the same maximum until a load needs another one (at most one such idle instance is kept).
   * Models without a budget share the default one (4 GiB), which stays.
   * It does not cap JS-side memory (the staged small files, the 1 MiB read window) or the workers.
   */
  memoryBudget?: number;
  /** Storage of the weight matrices (default 'q8'). */
  dtype?: DType;
  /** Storage of the embedding tables (default: as dtype). */
  embeddingDtype?: DType;
  /**
   * Tokens per sequence incl. [CLS]/[SEP]: an integer from 2 to 2^31 - 1; more than the model's
   * position table (config.json max_position_embeddings) means that many. Default (or 0): the
   * model's own length (sentence_bert_config.json max_seq_length, else the tokenizer's
   * model_max_length, else the position table). `model.config.maxTokens` says which was used.
   * Anything else: INVALID_ARGUMENT.
   */
  maxTokens?: number;
  /**
   * Sequences per forward pass, an integer from 1 to 2^30 (default, or 0: 8); larger embed()
   * inputs are split. maxTokens x maxBatch may not exceed 2^31. Anything else: INVALID_ARGUMENT.
   */
  maxBatch?: number;
  /** Default: from 1_Pooling/config.json, else mean. */
  pooling?: Pooling;
  /** Default: from the model files (on for sentence-transformers). */
  normalize?: boolean;
  /** Threads for the forward pass (pthreads variant), an integer from 1 to 256. Default min(4, cores); 1 picks the single-threaded variant. */
  threads?: number;
  /** 'auto' (default): threads when SharedArrayBuffer is usable (crossOriginIsolated pages, Node). */
  backend?: 'auto' | 'single' | 'threads';
  /**
   * A precompiled module or the location/bytes of dist/bertwasm(-mt).wasm (Workers, Deno, bundlers).
   * Bytes that are not a bertwasm module, or a local path that cannot be read: INVALID_ARGUMENT; a
   * URL that cannot be fetched: NETWORK (the original error is `cause`). The bundled module answered
   * with a 404 or an HTML page: NETWORK.
   */
  wasm?: WebAssembly.Module | string | URL | Response | ArrayBuffer | ArrayBufferView;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
  /** A fetch to use instead of globalThis.fetch (auth headers, caching). */
  fetch?: typeof fetch;
  /** Extra request headers for every fetch. */
  headers?: Record<string, string>;
}

export interface Tokenization {
  ids: number[];
  tokens: string[];
  /** [start, end) in UTF-16 code units of the input; [0, 0] for [CLS]/[SEP]. */
  offsets: [number, number][];
  /** Tokens cut off by maxTokens. */
  truncated: number;
}

export interface RerankResult {
  /** Index into the docs array. */
  index: number;
  /**
   * Relevance, higher = more relevant: sigmoid(logit) in (0, 1) for a one-label cross-encoder (as
   * sentence-transformers' CrossEncoder and the CLI report it); the first logit for several labels.
   */
  score: number;
  /** One-label models: the raw logit. */
  logit?: number;
  /** Models with several labels: every logit, in label order. */
  logits?: number[];
}

export interface MemoryUse {
  /** The core's plan total. */
  plan: number;
  /** Current size of the wasm linear memory (shared by all models of the same instance). */
  wasmMemory: number;
  /** The instance's memory maximum when loaded with a memoryBudget (derived from it), else null. */
  wasmMemoryMax: number | null;
  /** JS buffers inside it: the instance's text window + this model's token/output buffers. */
  scratch: number;
}

export interface ModelConfig {
  [key: string]: unknown;
  dim: number;
  maxTokens: number;
  maxBatch: number;
  pooling: Pooling;
  normalize: boolean;
  numLabels: number;
  dtype: DType | string;
  embeddingDtype: DType | string;
}

/**
 * What `toJSON()` returns (so `JSON.stringify(model)`), and what `console.log(model)` shows in Node.
 */
export interface ModelSummary {
  backend: Backend;
  threads: number;
  dim: number;
  dtype: DType | string;
  embeddingDtype: DType | string;
  pooling: Pooling;
  normalize: boolean;
  maxTokens: number;
  maxBatch: number;
  numLabels: number;
  /** `plan.total`. */
  planBytes: number;
  disposed: boolean;
}

export class Model {
  private constructor();
  readonly plan: MemoryPlan;
  /** config.json plus the settings in effect. */
  readonly config: ModelConfig;
  readonly dim: number;
  readonly backend: Backend;
  readonly threads: number;
  readonly memory: MemoryUse;
  readonly disposed: boolean;
  /** One text -> one vector; many -> one vector each (views on one buffer). Pooling 'none': nTokens x dim floats. */
  embed(text: string): Promise<Float32Array>;
  embed(texts: string[]): Promise<Float32Array[]>;
  tokenize(text: string): Promise<Tokenization>;
  /** Tokens without truncation, [CLS]/[SEP] included. */
  countTokens(text: string): Promise<number>;
  /** Cross-encoders only (UNSUPPORTED otherwise). Best first; topK: a positive integer (INVALID_ARGUMENT otherwise). */
  rerank(query: string, docs: string[], options?: { topK?: number }): Promise<RerankResult[]>;
  /** Texts or vectors; anything else, or vectors of different lengths: INVALID_ARGUMENT. */
  similarity(a: string | ArrayLike<number>, b: string | ArrayLike<number>): Promise<number>;
  /**
   * Frees the model now. Calls not yet settled (queued behind others, or made in the same tick)
   * and later calls reject with DISPOSED.
   */
  dispose(): void;
  /** dispose(), for `using model = await load(...)`. */
  [Symbol.dispose](): void;
  /** A short summary, without the wasm internals. */
  toJSON(): ModelSummary;
}

export function load(source: ModelSource, options?: LoadOptions): Promise<Model>;
/** Vectors of equal length (INVALID_ARGUMENT otherwise); 0 when either is all zeros. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number;
/** The variant load() would use with these options. */
export function pickBackend(options?: Pick<LoadOptions, 'threads' | 'backend'>): Backend;
/**
 * Disposes every live model (later calls on them reject with DISPOSED), rejects loads in flight with
 * BAD_STATE, terminates the pthread workers and drops the cached wasm instances. load() works again
 * afterwards (fresh instances).
 */
export function shutdown(): void;
export const version: string;
