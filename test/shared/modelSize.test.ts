/**
 * The shape of a model from its config: one walk over the layers gives both the weight count (the
 * memory estimate) and the multiply-adds of a forward pass (the time estimate). Counted by hand
 * for each kind of model, and the CNN's weight count checked against the engine's own layout.
 */
import { describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../shared/config.ts';
import { layerSizes, multiplyAddsPerSample, weightCount } from '../../shared/modelSize.ts';
import { Cnn } from '../../main/engine/models/cnn.ts';

describe('the layers of a model, counted from its config', () => {
  it('the two-layer net: one layer of d × m weights', () => {
    const config = resolveExperiment({ task: { kind: 'sparse-coding', d: 24 }, model: { kind: 'two-layer', width: 16 } });
    expect(layerSizes(config)).toEqual([{ weights: 24 * 16, multiplyAdds: 24 * 16 }]);
    expect(weightCount(config)).toBe(384);
    expect(multiplyAddsPerSample(config)).toBe(384);
  });

  it('the MLP on a pair of MNIST classes: 784 × m, then m × 2', () => {
    const config = resolveExperiment({ task: { kind: 'mnist', classes: [3, 8] }, model: { kind: 'mlp', width: 32 } });
    expect(layerSizes(config)).toEqual([
      { weights: 784 * 32, multiplyAdds: 784 * 32 },
      { weights: 32 * 2, multiplyAdds: 32 * 2 },
    ]);
    expect(weightCount(config)).toBe(25_152);
    expect(multiplyAddsPerSample(config)).toBe(25_152);
  });

  it('the CNN on CIFAR-10: each convolution costs its weights once a pixel, pooling halves the map, the dense layer reads what is left', () => {
    const config = resolveExperiment({ task: { kind: 'cifar10', files: { train: ['a.bin'], test: ['b.bin'] } }, model: { kind: 'cnn', channels: [16, 32], kernelSize: 3 } });
    // 32 × 32 × 3 → conv 3 × 3 × 3 × 16 → 16 × 16 × 16 → conv 3 × 3 × 16 × 32 → 8 × 8 × 32 → dense 2048 × 10.
    expect(layerSizes(config)).toEqual([
      { weights: 432, multiplyAdds: 32 * 32 * 432 },
      { weights: 4608, multiplyAdds: 16 * 16 * 4608 },
      { weights: 20_480, multiplyAdds: 20_480 },
    ]);
    expect(weightCount(config)).toBe(25_520);
    expect(multiplyAddsPerSample(config)).toBe(442_368 + 1_179_648 + 20_480);
    // The engine's layout holds the same weights, plus one bias a filter and a class.
    const biases = 16 + 32 + 10;
    if (config.model.kind !== 'cnn') throw new Error('expected the CNN');
    const engine = Cnn.layout(config.model, { height: 32, width: 32, channels: 3 }, 10).reduce((sum, layer) => sum + layer.shape.reduce((a, b) => a * b, 1), 0);
    expect(engine).toBe(weightCount(config) + biases);
  });
});
