/**
 * Workspace tensors for kernel outputs, by name and shape: made once (tf.zeros, kept out of any
 * enclosing tf.tidy), then overwritten in place by the kernels. `put` hands over a tensor made
 * elsewhere (e.g. a matMul result) under a name, freeing the one it replaces.
 */
import * as tf from '@tensorflow/tfjs-core';

export class KernelWorkspace {
  private readonly tensors = new Map<string, tf.Tensor>();

  get(name: string, shape: readonly number[]): tf.Tensor {
    const key = `${name}:${shape.join('x')}`;
    let t = this.tensors.get(key);
    if (!t) {
      t = tf.keep(tf.zeros([...shape]));
      this.tensors.set(key, t);
    }
    return t;
  }

  put<T extends tf.Tensor>(name: string, t: T): T {
    const old = this.tensors.get(name);
    if (old && old !== t) old.dispose();
    this.tensors.set(name, tf.keep(t));
    return t;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}
