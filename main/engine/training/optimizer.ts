/**
 * The optimisers, on tfjs tensors (the learning rate of each epoch comes from ./schedule.ts).
 *   SGD:       v <- mu v + g;  p <- p - lr v          (mu = 0: plain SGD)
 *   Adam:      m <- b1 m + (1-b1) g;  s <- b2 s + (1-b2) g^2;
 *              p <- p - lr * (m / (1-b1^t)) / (sqrt(s / (1-b2^t)) + eps)
 * Each phase starts a fresh optimiser.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerSetting } from '../../../shared/config.ts';
import type { OptimizerState } from './checkpoint.ts';

type OptimizerSpec = OptimizerSetting;

export class Optimizer {
  private readonly first = new Map<number, tf.Tensor>();
  private readonly second = new Map<number, tf.Tensor>();
  private t = 0;

  constructor(readonly spec: OptimizerSpec) {}

  /** True when a step is p - lr g, which fused paths can do in place. */
  get isPlainSgd(): boolean {
    return this.spec.kind === 'sgd' && this.spec.momentum === 0;
  }

  /** New parameter values after one step; the caller disposes the old ones and the gradients. */
  step<T extends tf.Tensor>(params: readonly T[], grads: readonly T[], lr: number): T[] {
    this.t += 1;
    return params.map((p, i) =>
      tf.tidy(() => {
        const g = grads[i]!;
        if (this.spec.kind === 'sgd') {
          if (this.spec.momentum === 0) return tf.sub(p, tf.mul(g, lr)) as T;
          const v = this.first.has(i) ? tf.add(tf.mul(this.first.get(i)!, this.spec.momentum), g) : g.clone();
          this.replace(this.first, i, tf.keep(v));
          return tf.sub(p, tf.mul(v, lr)) as T;
        }
        const { beta1, beta2, epsilon } = this.spec;
        const m1 = this.first.has(i) ? tf.add(tf.mul(this.first.get(i)!, beta1), tf.mul(g, 1 - beta1)) : tf.mul(g, 1 - beta1);
        const m2 = this.second.has(i) ? tf.add(tf.mul(this.second.get(i)!, beta2), tf.mul(tf.square(g), 1 - beta2)) : tf.mul(tf.square(g), 1 - beta2);
        this.replace(this.first, i, tf.keep(m1));
        this.replace(this.second, i, tf.keep(m2));
        const mHat = tf.div(m1, 1 - beta1 ** this.t);
        const vHat = tf.div(m2, 1 - beta2 ** this.t);
        return tf.sub(p, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon)), lr)) as T;
      }),
    );
  }

  private replace(map: Map<number, tf.Tensor>, i: number, value: tf.Tensor): void {
    map.get(i)?.dispose();
    map.set(i, value);
  }

  /** The state to checkpoint: the step count and the moments, copied to the host. */
  exportState(): OptimizerState {
    const tensors: Record<string, Float32Array> = {};
    for (const [i, t] of this.first) tensors[`first.${i}`] = Float32Array.from(t.dataSync());
    for (const [i, t] of this.second) tensors[`second.${i}`] = Float32Array.from(t.dataSync());
    return { t: this.t, tensors };
  }

  /** Continue from a checkpointed state (shapes follow the parameters of `shapes`). */
  importState(state: OptimizerState, shapes: readonly (readonly number[])[]): void {
    this.dispose();
    this.t = state.t;
    for (const [key, values] of Object.entries(state.tensors)) {
      const [which, index] = key.split('.') as [string, string];
      const i = Number(index);
      const shape = shapes[i];
      if (!shape) throw new Error(`optimizer state "${key}" has no parameter ${i}`);
      (which === 'first' ? this.first : this.second).set(i, tf.tensor(values, [...shape]));
    }
  }

  dispose(): void {
    for (const t of this.first.values()) t.dispose();
    for (const t of this.second.values()) t.dispose();
    this.first.clear();
    this.second.clear();
  }
}
