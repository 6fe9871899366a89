/**
 * A run's adversarial examples as one tensor file (`lab export ID --format adversarial` writes
 * safetensors, `adversarial-npz` a NumPy .npz), from what the run recorded (shared/adversarial.ts):
 *
 *   x [n, d] f32                 the clean test inputs (image rows: row-major, channel last)
 *   y, index [n] i32             their labels and positions in the test set
 *   eps [1] f32                  the attack's radius
 *   x_adv_<model> [n, d] f32     the attack's output on each model, exactly as it came out
 *   delta_<model> [n, d] f32     x_adv − x (in float32)
 *   prediction_<model> [n] i32   the model's labels on x_adv (binary net: sign f, 0 for f = 0)
 *   clean_prediction_<model> [n] i32   and on x
 *   coefficients_<model> [n, atoms] f32   sparse coding: M^T delta
 *
 * <model> is after_clean, after_fine_tuning or final. The safetensors metadata also names the
 * attack, the norm, the models' labels and the picture shape.
 */
import { deltaOf, type AdversarialExamples } from '../../../shared/adversarial.ts';
import { encodeNpz } from '../formats/npz.ts';
import type { NdArray } from '../formats/npy.ts';
import { encodeSafetensors, type NamedTensor } from '../formats/safetensors.ts';

export type AdversarialFileFormat = 'safetensors' | 'npz';

/** "after fine-tuning" → "after_fine_tuning". */
export function modelKey(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
}

/** The file's tensors, by name (see the file's doc). */
export function adversarialTensors(examples: AdversarialExamples): Record<string, NamedTensor> {
  const n = examples.indices.length;
  const d = examples.inputDim;
  const f32 = (values: readonly number[], shape: number[]): NamedTensor => ({ dtype: 'F32', shape, data: Float32Array.from(values) });
  const i32 = (values: readonly number[]): NamedTensor => ({ dtype: 'I32', shape: [n], data: Int32Array.from(values) });
  const tensors: Record<string, NamedTensor> = {
    x: f32(examples.x, [n, d]),
    y: i32(examples.labels),
    index: i32(examples.indices),
    eps: f32([examples.eps], [1]),
  };
  for (const model of examples.models) {
    const key = modelKey(model.label);
    tensors[`x_adv_${key}`] = f32(model.adversarial, [n, d]);
    tensors[`delta_${key}`] = f32(deltaOf(examples, model), [n, d]);
    tensors[`prediction_${key}`] = i32(model.prediction);
    tensors[`clean_prediction_${key}`] = i32(model.cleanPrediction);
    if (model.coefficients && examples.dictionary) tensors[`coefficients_${key}`] = f32(model.coefficients, [n, examples.dictionary.atoms]);
  }
  return tensors;
}

/** The file's bytes in the chosen format. */
export function encodeAdversarialFile(examples: AdversarialExamples, format: AdversarialFileFormat, file?: string): Uint8Array {
  const tensors = adversarialTensors(examples);
  if (format === 'safetensors') {
    return encodeSafetensors(
      tensors,
      {
        attack: examples.attack,
        norm: examples.norm,
        eps: String(examples.eps),
        models: JSON.stringify(examples.models.map((m) => ({ label: m.label, key: modelKey(m.label) }))),
        picture: JSON.stringify(examples.picture),
      },
      file,
    );
  }
  const arrays: Record<string, NdArray> = {};
  for (const [name, t] of Object.entries(tensors)) arrays[name] = { dtype: t.dtype === 'F32' ? '<f4' : '<i4', shape: t.shape, data: t.data as Float32Array | Int32Array };
  return encodeNpz(arrays, file);
}
