/**
 * Issue 15, item 5: a model of your own. A small MLP trained in PyTorch (Debian's python3-torch),
 * its state_dict saved as safetensors (written by hand: Debian ships no safetensors package) or as
 * .npz, and its test set as .npz, is evaluated by `lab eval`: the logits agree with PyTorch's
 * within 1e-5 absolute plus 1e-5 relative on the same inputs, and the clean accuracy exactly. The
 * tensor names and shapes decide the model; a file that is not the two-layer MLP is refused by name.
 * The evaluation also carries the hidden units as pictures (fc1's rows) and the adversarial pictures.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deltaOf } from '../../shared/adversarial.ts';
import { FileFormatError } from '../../main/engine/fileFormatError.ts';
import type { MlpEvaluation } from '../../main/lab/mlpEvaluation.ts';
import { decodePytorchMlp, readWeightTensors, weightsKind } from '../../main/lab/formats/pytorchMlp.ts';
import { encodeSafetensors, type NamedTensor } from '../../main/lab/formats/safetensors.ts';
import { labInProcess } from '../support/labCli.ts';
import { thrownBy } from '../support/thrown.ts';
import { torch, torchPython } from '../support/torch.ts';

/** Train a 20 -> 16 -> 3 ReLU MLP on three Gaussian blobs, save it and a test set; print PyTorch's logits and accuracy. */
const trainAndSave = String.raw`
import json, struct, sys
import numpy as np
import torch
from torch import nn

torch.manual_seed(0)
d, m, C, n = 20, 16, 3, 300
centres = torch.randn(C, d)
def blobs(count):
    y = torch.randint(0, C, (count,))
    return centres[y] + 0.9 * torch.randn(count, d), y
x_train, y_train = blobs(n)
x_test, y_test = blobs(200)

class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(d, m)
        self.fc2 = nn.Linear(m, C)
    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))

model = Mlp()
optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(30):
    optimiser.zero_grad()
    nn.functional.cross_entropy(model(x_train), y_train).backward()
    optimiser.step()

def save_safetensors(path, tensors):
    # The safetensors layout: an 8-byte little-endian header length, a JSON header, raw data.
    header, blobs_, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs_.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs_))

out = sys.argv[1]
save_safetensors(out + '/model.safetensors', model.state_dict())
np.savez(out + '/model.npz', **{k: v.numpy() for k, v in model.state_dict().items()})
np.savez(out + '/test.npz', x=x_test.numpy(), y=y_test.numpy())
with torch.no_grad():
    logits = model(x_test)
print(json.dumps({'logits': logits.flatten().tolist(), 'correct': int((logits.argmax(1) == y_test).sum().item()), 'n': len(y_test), 'y': y_test.tolist(), 'fc1': model.fc1.weight.detach().flatten().tolist()}))
`;

describe.skipIf(torch.skip)('an MLP trained in PyTorch, evaluated by lab eval', () => {
  let dir: string;
  let reference: { logits: number[]; correct: number; n: number; y: number[]; fc1: number[] };
  beforeAll(() => {
    torch.require();
    dir = mkdtempSync(join(tmpdir(), 'lab-torch-'));
    reference = JSON.parse(torchPython(trainAndSave, dir)) as typeof reference;
  }, 120_000);

  for (const file of ['model.safetensors', 'model.npz']) {
    it(`${file}: the same logits within 1e-5 + 1e-5 relative, and the same accuracy`, async () => {
      const json = join(dir, `${file}.json`);
      const result = await labInProcess(['eval', '--weights', join(dir, file), '--data', join(dir, 'test.npz'), '--json', json, '--set', 'eval.eps=0.5', '--backend', 'wasm'], join(dir, 'store'));
      expect(result.code, result.stderr + result.stdout).toBe(0);
      const out = JSON.parse(readFileSync(json, 'utf8')) as { logits: number[]; classes: number; summary: { final: { cleanAccuracy: number; robustAccuracy: number } }; evaluations: { attacks: string[] }[] };
      expect(out.classes).toBe(3);
      expect(out.logits).toHaveLength(reference.logits.length);
      out.logits.forEach((v, i) => expect(Math.abs(v - reference.logits[i]!), `logit ${i}`).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(reference.logits[i]!)));
      expect(out.summary.final.cleanAccuracy).toBe(reference.correct / reference.n);
      // The model learned its task, and the attacks ran on it (robust <= clean, PGD and FGM named).
      expect(reference.correct / reference.n).toBeGreaterThan(0.8);
      expect(out.summary.final.robustAccuracy).toBeLessThanOrEqual(out.summary.final.cleanAccuracy);
      expect(out.evaluations[0]!.attacks.slice(0, 2)).toEqual(['PGD-20 (l2, step 2.5·eps/20)', 'FGM (l2)']);
      expect(result.stdout).toMatch(new RegExp(`clean accuracy +${(reference.correct / reference.n).toFixed(3)}`));
      expect(result.stdout).toContain('unavailable: clipping to a data range');
      if (file !== 'model.safetensors') return;
      // The neuron pictures: each of the 16 hidden units' fc1 row (d = 20, one row of pixels), as PyTorch holds it.
      const { instruments, adversarial } = JSON.parse(readFileSync(json, 'utf8')) as Pick<MlpEvaluation, 'instruments' | 'adversarial'>;
      const images = instruments[0]!.neuronImages!;
      expect([images.units.length, images.height, images.width, images.channels]).toEqual([16, 1, 20, 1]);
      images.values.forEach((v, i) => expect(v).toBe(Number(Math.fround(reference.fc1[i]!).toPrecision(5))));
      expect(instruments[0]!.roughness!.values).toHaveLength(16);
      // The adversarial pictures: the first test sample of each class in turn, the clean
      // predictions PyTorch's argmax, every delta inside the l2 ball of radius 0.5.
      const first = [0, 1, 2].map((c) => reference.y.indexOf(c));
      expect(adversarial!.indices.slice(0, 3)).toEqual(first);
      expect(adversarial!.labels).toEqual(adversarial!.indices.map((i) => reference.y[i]));
      const argmax = (i: number) => [0, 1, 2].reduce((best, c) => (reference.logits[i * 3 + c]! > reference.logits[i * 3 + best]! ? c : best), 0);
      expect(adversarial!.models[0]!.cleanPrediction).toEqual(adversarial!.indices.map(argmax));
      const delta = deltaOf(adversarial!, adversarial!.models[0]!);
      adversarial!.indices.forEach((_, s) => expect(Math.hypot(...delta.slice(s * 20, (s + 1) * 20))).toBeLessThanOrEqual(0.5 * (1 + 1e-5)));
    }, 120_000);
  }
});

describe('which model a weights file holds', () => {
  const f32 = (shape: number[], fill = 0.5): NamedTensor => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) });
  const mlp = { 'fc1.weight': f32([4, 3]), 'fc1.bias': f32([4]), 'fc2.weight': f32([2, 4]), 'fc2.bias': f32([2]) };
  const read = (tensors: Record<string, NamedTensor>, metadata?: Record<string, string>) => readWeightTensors(encodeSafetensors(tensors, metadata), 'own.safetensors');

  it('is decided by the names: W for the two-layer net, fc* for an MLP, and neither or both is an error', () => {
    expect(weightsKind(['W', 'a'], 'f')).toBe('two-layer');
    expect(weightsKind(Object.keys(mlp), 'f')).toBe('mlp');
    expect(thrownBy(FileFormatError, () => weightsKind(['weight'], 'f')).message).toContain('no model in it: expected the two-layer net\'s "W" [m, d] (with "a", "b"), or an MLP\'s fc1.weight, fc1.bias, fc2.weight, fc2.bias; found weight');
    expect(thrownBy(FileFormatError, () => weightsKind(['W', 'fc1.weight'], 'f')).message).toContain('both "W"');
  });

  it('reads the shapes, in the flat PyTorch order', () => {
    const weights = decodePytorchMlp(read({ ...mlp, 'fc2.bias': { dtype: 'F32', shape: [2], data: Float32Array.of(7, 8) } }), 'own.safetensors');
    expect([weights.inputDim, weights.width, weights.classes]).toEqual([3, 4, 2]);
    expect(weights.flat).toHaveLength(12 + 4 + 8 + 2);
    expect(Array.from(weights.flat.subarray(24))).toEqual([7, 8]);
    expect(weights.spec).toBeNull();
  });

  it('refuses a deeper net, a missing tensor and a shape that does not chain, naming the tensor', () => {
    expect(thrownBy(FileFormatError, () => decodePytorchMlp(read({ ...mlp, 'fc3.weight': f32([2, 2]) }), 'own.safetensors')).message).toContain('"fc3.weight" not part of the two-layer MLP');
    const { 'fc1.bias': _dropped, ...noBias } = mlp;
    void _dropped;
    expect(thrownBy(FileFormatError, () => decodePytorchMlp(read(noBias), 'own.safetensors')).message).toContain('no tensor "fc1.bias"');
    expect(thrownBy(FileFormatError, () => decodePytorchMlp(read({ ...mlp, 'fc2.weight': f32([2, 5]) }), 'own.safetensors')).message).toContain('tensor "fc2.weight" has shape [2, 5]: expected [C, 4]');
    expect(thrownBy(FileFormatError, () => decodePytorchMlp(read({ ...mlp, 'fc1.weight': f32([4, 3], NaN) }), 'own.safetensors')).message).toContain('fc1.weight[0, 0] is NaN');
  });

  it('takes the activation from a model card, checked against the shapes', () => {
    const card = (width: number) => ({ model_card: JSON.stringify({ model: { kind: 'mlp', width, activation: 'symmetric-threshold', thresholdRatio: 0.1, initScale: 0.05 } }) });
    expect(decodePytorchMlp(read(mlp, card(4)), 'own.safetensors').spec).toEqual({ kind: 'mlp', width: 4, activation: 'symmetric-threshold', thresholdRatio: 0.1, initScale: 0.05 });
    expect(thrownBy(FileFormatError, () => decodePytorchMlp(read(mlp, card(5)), 'own.safetensors')).message).toContain('the model card says width 5 but fc1.weight has 4 units');
  });

  it('lab eval names the file when the data does not fit the model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-own-'));
    writeFileSync(join(dir, 'own.safetensors'), encodeSafetensors(mlp));
    const { writeDatasetFile } = await import('../../main/lab/formats/datasetFile.ts');
    writeDatasetFile(join(dir, 'wide.npz'), { x: new Float32Array(2 * 5), y: Float32Array.of(0, 1), n: 2, d: 5, labelKind: 'classes', classes: 2 });
    const result = await labInProcess(['eval', '--weights', join(dir, 'own.safetensors'), '--data', join(dir, 'wide.npz')], join(dir, 'store'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(dir, 'wide.npz')}: x has d = 5 columns but fc1.weight in ${join(dir, 'own.safetensors')} expects d = 3`);
  });
});
