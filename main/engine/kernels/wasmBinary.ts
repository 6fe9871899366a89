/**
 * The compiled kernel binary and its memory contract: the kernels IMPORT tfjs-wasm's own memory,
 * so a binary that owned any memory (a data segment, a start function) would overwrite
 * Emscripten's heap when instantiated. `inspectWasm` parses the section table and the imports
 * and says what, if anything, breaks the contract.
 */

// The project's lib is ES2022 without DOM and @types/node 20 does not declare the WebAssembly
// namespace, so the few pieces used here are typed locally (no global declarations are added).
/** A WebAssembly.Memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}
/** A compiled WebAssembly.Module (opaque). */
export interface WasmModule {
  readonly __wasmModule?: never;
}
export interface WasmImportDescriptor {
  module: string;
  name: string;
  kind: string;
}
interface WasmApi {
  Module: {
    new (bytes: Uint8Array): WasmModule;
    imports(mod: WasmModule): WasmImportDescriptor[];
    exports(mod: WasmModule): { name: string; kind: string }[];
  };
  Instance: new (mod: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** What `inspectWasm` reports about a compiled kernel binary. */
export interface FusedWasmReport {
  /** Section ids in file order (0 = custom, 2 = import, 8 = start, 11 = data, 12 = data count). */
  sectionIds: number[];
  imports: WasmImportDescriptor[];
  exports: string[];
  /** True when the binary cannot write to the memory it imports at instantiation. */
  safe: boolean;
  /** Why it is unsafe (empty when safe). */
  problems: string[];
}

/** Section ids of a wasm v1 binary, in file order (empty with a problem when it is not one). */
function sectionIdsOf(bytes: Uint8Array, problems: string[]): number[] {
  const sectionIds: number[] = [];
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || magic.some((b, k) => bytes[k] !== b)) {
    problems.push('not a wasm v1 binary');
    return sectionIds;
  }
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos++] ?? 0;
    let size = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[pos++];
      if (byte === undefined) throw new Error('inspectFusedWasm: truncated section header');
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    sectionIds.push(id);
    pos += size;
  }
  if (pos !== bytes.length) problems.push('section table overruns the file');
  return sectionIds;
}

/**
 * Checks the memory contract: exactly one import, the memory env.memory, no data / data-count /
 * start section, no memory of its own, and every name in `requiredExports` exported.
 */
export function inspectWasm(bytes: Uint8Array, requiredExports: readonly string[]): { report: FusedWasmReport; mod: WasmModule } {
  const problems: string[] = [];
  const sectionIds = sectionIdsOf(bytes, problems);
  if (sectionIds.includes(11)) problems.push('has a data section (would overwrite the tfjs heap)');
  if (sectionIds.includes(12)) problems.push('has a data-count section');
  if (sectionIds.includes(8)) problems.push('has a start function');
  const mod = new WA.Module(bytes);
  const imports = WA.Module.imports(mod);
  const exports = WA.Module.exports(mod).map((e) => e.name);
  const only = imports[0];
  if (imports.length !== 1 || !only || only.module !== 'env' || only.name !== 'memory' || only.kind !== 'memory') {
    problems.push(`imports must be exactly env.memory, got ${JSON.stringify(imports)}`);
  }
  for (const name of requiredExports) {
    if (!exports.includes(name)) problems.push(`missing export ${name}`);
  }
  if (exports.includes('memory')) problems.push('exports a memory of its own');
  return { report: { sectionIds, imports, exports, safe: problems.length === 0, problems }, mod };
}
