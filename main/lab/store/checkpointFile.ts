/**
 * A checkpoint on disk: one safetensors file. The arrays (W, b, W0, Wclean and the optimiser's
 * moments) are tensors; everything else (epoch counters, random-stream states, the summary after
 * clean training) is JSON in the `__metadata__` under `checkpoint`. Reading validates every part
 * and names the file when something is wrong.
 */
import type { EngineCheckpoint } from '../../engine/training/checkpoint.ts';
import { FileFormatError } from '../../engine/fileFormatError.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../formats/safetensors.ts';

const f32 = (data: Float32Array): NamedTensor => ({ dtype: 'F32', shape: [data.length], data });

export function encodeCheckpoint(c: EngineCheckpoint): Uint8Array {
  const tensors: Record<string, NamedTensor> = { W: f32(c.W), W0: f32(c.W0) };
  if (c.b) tensors.b = f32(c.b);
  if (c.Wclean) tensors.Wclean = f32(c.Wclean);
  if (c.bClean) tensors.bClean = f32(c.bClean);
  for (const [key, values] of Object.entries(c.optimizer.tensors)) tensors[`optimizer.${key}`] = f32(values);
  const state = {
    version: c.version,
    phaseIndex: c.phaseIndex,
    epochInPhase: c.epochInPhase,
    globalEpoch: c.globalEpoch,
    steps: c.steps,
    trainSeconds: c.trainSeconds,
    rng: c.rng,
    optimizerStep: c.optimizer.t,
    afterClean: c.afterClean,
    threads: c.threads ?? 1,
  };
  return encodeSafetensors(tensors, { checkpoint: JSON.stringify(state) });
}

export function decodeCheckpoint(bytes: Uint8Array, file: string): EngineCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const text = metadata.checkpoint;
  if (!text) throw new FileFormatError(file, `not a checkpoint (no "checkpoint" entry in its metadata)`);
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new FileFormatError(file, `the checkpoint state is not valid JSON (${(error as Error).message})`);
  }
  if (state.version !== 1) throw new FileFormatError(file, `checkpoint version ${String(state.version)} is not one this version of Purification Lab reads (1)`);
  for (const key of ['phaseIndex', 'epochInPhase', 'globalEpoch', 'steps', 'trainSeconds', 'optimizerStep'] as const) {
    if (typeof state[key] !== 'number' || !Number.isFinite(state[key])) throw new FileFormatError(file, `the checkpoint's ${key} is missing or not a number`);
  }
  const array = (name: string, required: boolean): Float32Array | null => {
    const t = tensors[name];
    if (!t) {
      if (required) throw new FileFormatError(file, `the checkpoint has no tensor "${name}"`);
      return null;
    }
    if (!(t.data instanceof Float32Array)) throw new FileFormatError(file, `tensor "${name}" is ${t.dtype}: expected F32`);
    return t.data;
  };
  const W = array('W', true)!;
  const W0 = array('W0', true)!;
  if (W0.length !== W.length) throw new FileFormatError(file, `W0 has ${W0.length} values but W has ${W.length}`);
  const optimizerTensors: Record<string, Float32Array> = {};
  for (const name of Object.keys(tensors)) if (name.startsWith('optimizer.')) optimizerTensors[name.slice('optimizer.'.length)] = array(name, true)!;
  const threads = state.threads ?? 1;
  if (!Number.isInteger(threads) || (threads as number) < 1) throw new FileFormatError(file, `the checkpoint's threads is ${JSON.stringify(state.threads)}: expected a positive integer`);
  const rng = state.rng as EngineCheckpoint['rng'];
  for (const stream of ['shuffle', 'attack', 'eval'] as const) {
    const words = rng?.[stream]?.words;
    if (!Array.isArray(words) || words.length !== 4 || !words.every((w) => Number.isInteger(w))) throw new FileFormatError(file, `the checkpoint's random stream "${stream}" is malformed`);
  }
  return {
    version: 1,
    phaseIndex: state.phaseIndex as number,
    epochInPhase: state.epochInPhase as number,
    globalEpoch: state.globalEpoch as number,
    steps: state.steps as number,
    trainSeconds: state.trainSeconds as number,
    rng,
    W,
    b: array('b', false),
    W0,
    Wclean: array('Wclean', false),
    bClean: array('bClean', false),
    optimizer: { t: state.optimizerStep as number, tensors: optimizerTensors },
    afterClean: (state.afterClean ?? null) as EngineCheckpoint['afterClean'],
    threads: threads as number,
  };
}
