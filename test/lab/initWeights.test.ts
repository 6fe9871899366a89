/**
 * Issue 15, item 5: a run starts from imported weights (`model.init.file`, `lab run
 * --init-weights FILE`) instead of its seeded init: the run's init weights are the file's, exactly,
 * for the two-layer net (W) and for an MLP in PyTorch's names; a file that does not fit the config
 * is named, with the shapes the config expects, before anything is queued.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, resolveSparseCoding } from '../../shared/config.ts';
import { runExperiment } from '../../main/engine/experiment.ts';
import type { ModelWeights } from '../../main/engine/testbeds/testbed.ts';
import { initialWeightsOf } from '../../main/lab/initialWeights.ts';
import { prepareBackend } from '../../main/engine/backend/prepareBackend.ts';
import { encodeSafetensors } from '../../main/lab/formats/safetensors.ts';
import { decodeWeights, encodeWeights, modelCard } from '../../main/lab/weightsFile.ts';
import { useWasm } from '../support/backend.ts';
import { labInProcess } from '../support/labCli.ts';

beforeAll(useWasm);

const dir = mkdtempSync(join(tmpdir(), 'lab-init-weights-'));
const d = 12;
const m = 8;
const tiny = { task: { kind: 'sparse-coding', d, k: 2, trainSize: 200 }, model: { kind: 'two-layer', width: m, threshold: { ratio: 0.05 } }, train: { protocol: 'clean', cleanEpochs: 1, adversarialEpochs: 0 }, eval: { testSize: 100, every: 0 } };
const W = Float32Array.from({ length: m * d }, (_, k) => Math.sin(k + 1) * 0.3);
const twoLayerFile = join(dir, 'mine.safetensors');
writeFileSync(twoLayerFile, encodeWeights(modelCard(resolveSparseCoding(tiny).model, d, { configHash: '', codeVersion: 'test', checkpoint: 'final' }), W, null));

function filesNamed(root: string, name: string): string[] {
  return readdirSync(root).flatMap((entry) => {
    const path = join(root, entry);
    return statSync(path).isDirectory() ? filesNamed(path, name) : entry === name ? [path] : [];
  });
}

describe('lab run --init-weights', () => {
  it('starts the two-layer net from the file: the run\'s init weights are its W, exactly', async () => {
    const store = join(dir, 'store');
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify(tiny));
    const result = await labInProcess(['run', '--config', join(dir, 'tiny.json'), '--init-weights', twoLayerFile, '--backend', 'wasm'], store);
    expect(result.code, result.stderr).toBe(0);
    const [init] = filesNamed(store, 'weights-init.safetensors');
    expect(init).toBeDefined();
    expect(Array.from(decodeWeights(new Uint8Array(readFileSync(init!)), init!).W)).toEqual(Array.from(W));
  }, 120_000);

  it('names a file that does not fit the config, with the shapes it expects, before queueing', async () => {
    const store = join(dir, 'store-refused');
    writeFileSync(join(dir, 'wider.json'), JSON.stringify({ ...tiny, model: { kind: 'two-layer', width: m + 1, threshold: { ratio: 0.05 } } }));
    const wider = await labInProcess(['run', '--config', join(dir, 'wider.json'), '--init-weights', twoLayerFile], store);
    expect(wider.code).toBe(2);
    expect(wider.stderr).toContain(`${twoLayerFile}: W is [${m}, ${d}]: model.init.file must fit this config, [model.width, d] = [${m + 1}, ${d}]`);
    const mlpFile = join(dir, 'mlp.safetensors');
    writeFileSync(mlpFile, encodeSafetensors({ 'fc1.weight': { dtype: 'F32', shape: [m, d], data: new Float32Array(m * d) }, 'fc1.bias': { dtype: 'F32', shape: [m], data: new Float32Array(m) }, 'fc2.weight': { dtype: 'F32', shape: [2, m], data: new Float32Array(2 * m) }, 'fc2.bias': { dtype: 'F32', shape: [2], data: new Float32Array(2) } }));
    const wrongKind = await labInProcess(['run', '--config', join(dir, 'tiny.json'), '--init-weights', mlpFile], store);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain(`${mlpFile}: model.init.file holds an MLP (fc1.*, fc2.*): this config's model is the two-layer net`);
  }, 120_000);
});

describe('model.init.file for an MLP in PyTorch names', () => {
  it('starts the image MLP from fc1.*, fc2.* exactly as PyTorch lays them out', async () => {
    const width = 6;
    const classes = [3, 7];
    const tensors = {
      'fc1.weight': { shape: [width, 784], data: Float32Array.from({ length: width * 784 }, (_, k) => Math.cos(k) * 0.01) },
      'fc1.bias': { shape: [width], data: Float32Array.from({ length: width }, (_, k) => k * 0.1) },
      'fc2.weight': { shape: [2, width], data: Float32Array.from({ length: 2 * width }, (_, k) => k - 5) },
      'fc2.bias': { shape: [2], data: Float32Array.of(0.5, -0.5) },
    };
    const file = join(dir, 'digits.safetensors');
    writeFileSync(file, encodeSafetensors(Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { dtype: 'F32' as const, ...t }]))));
    const config = resolveExperiment({
      task: { kind: 'mnist', classes, trainSize: 100 },
      model: { kind: 'mlp', width, init: { file } },
      train: { protocol: 'clean', cleanEpochs: 1, adversarialEpochs: 0, attack: { norm: 'linf', eps: 0.1 } },
      eval: { testSize: 100, every: 0, attacks: [{ kind: 'fgm' }] },
    });
    const initialWeights = initialWeightsOf(config)!;
    const { info, hooks } = await prepareBackend({ backend: 'wasm' });
    let init: ModelWeights | undefined;
    await runExperiment(config, info, { ...hooks, initialWeights, onWeights: (label, weights) => (label === 'init' ? (init = weights) : undefined) });
    expect(init?.kind).toBe('image');
    const got = (init as Extract<ModelWeights, { kind: 'image' }>).tensors;
    expect(got.map((t) => t.name)).toEqual(Object.keys(tensors));
    for (const t of got) expect(Array.from(t.data)).toEqual(Array.from(tensors[t.name as keyof typeof tensors].data));
    // The file must fit: 10 classes here would need fc2.weight [10, 6].
    const allClasses = resolveExperiment({ ...config, task: { kind: 'mnist', trainSize: 100 } });
    expect(() => initialWeightsOf(allClasses)).toThrow(`fc2.weight [10, ${width}] (10 classes)`);
  }, 120_000);
});
