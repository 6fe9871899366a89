// Entry of the fused kernels (AssemblyScript, compiled to ../fused.wasm by `npm run build:kernels`;
// test/engine/kernelBuild.test.ts checks that the committed binary is this source's build). This
// is AssemblyScript, not TypeScript: tsconfig.json excludes this folder. Each kernel family has a
// file of its own, and the wrappers that resolve tfjs tensors to byte offsets mirror them
// (../twoLayerKernels.ts for ./twoLayer.ts, and so on):
//   ./twoLayer.ts    the two-layer network: training step (row layout) and the attack's gradient
//   ./mlp.ts         the image MLP: forward, softmax / margin, backward, column thresholds
//   ./pgd.ts         the projected PGD steps (l2, l-inf) of any model's attack
//   ./optimisers.ts  SGD, momentum, Adam updates in place
//   ./common.ts      shared numerics (@inline SIMD helpers, table-free exp)
// Only what this file exports becomes a wasm export.
//
// MEMORY CONTRACT. The module IMPORTS the tfjs-wasm backend's own WebAssembly.Memory as
// env.memory and reads/writes tensors in place through raw byte pointers passed in by the loader.
// It must never own memory: no file here uses strings, arrays, objects, globals-in-memory or
// allocation, only load<T>/store<T>/v128 on the pointers it is given, and every scalar maths
// routine is table-free (AssemblyScript's Math.exp at -O3 uses a lookup table that would become
// a DATA SEGMENT written over Emscripten's heap at instantiation, so exp is re-implemented in
// ./common.ts from musl's table-free algorithm). The build uses --runtime stub (tree-shaken away
// because nothing allocates), --importMemory --noExportMemory, --noAssert --use abort= (no imports
// but env.memory). ../fusedWasm.ts re-checks the compiled binary before instantiating it: its only
// import must be env.memory, and it must have no data section (id 11), no data-count section
// (id 12) and no start section (id 8); otherwise it refuses to load.
//
// THREADS (./threaded.ts builds ../threaded.wasm on shared memory from these families, its own
// phases and ./matMul.ts; ../threadPool.ts runs it on T threads). The kernels hold no state between
// calls and own no memory. The per-sample ones (marginGradient, the PGD steps, biasActivation,
// outputLogits, softmaxCrossEntropy, multiclassMarginGradient, hiddenGradient) run on a slice of
// rows given offset pointers and a smaller row count. The cross-row sums (dbl, column sums, dV,
// de, norms) are written to an output pointer, so per-thread partial outputs can be added in a
// fixed order. logisticStepT reads UT [m, B] with its row stride taken from B: splitting its
// batch needs a stride parameter. The wrapper tables name each kernel's sample axis (B or N).
//
// LAYOUT. float32, row-major. d = input dimension, m = neurons, B or N = rows (samples), C =
// classes. Each family's file says which axis its weights and activations use.
//
// NUMERICS. Elementwise work is float32 (f32x4 SIMD over the contiguous axis, scalar tails).
// Every reduction is accumulated in float64 (f64x2.promote_low_f32x4) over float32 partial sums of
// at most 4 terms per lane (pairwise, so each partial carries <= 2 roundings): the row sums f_n,
// ||grad_n||, ||delta_n||, the column / row norms and the cross-row sums dbl_i. The per-row scalar
// maths (exp, log1p, sigmoid, projection scale) is float64. Results are rounded to float32 once,
// when stored.
//
// NaN: clamps use pmin/pmax (one instruction on x64); a NaN in U propagates into act and f.

export * from './twoLayer';
export * from './mlp';
export * from './pgd';
export * from './optimisers';
