/**
 * The multi-class margin and its gradient, the quantity every attack in the engine works on:
 *
 *   margin_n = z_{n, y_n} - max_{j != y_n} z_{n, j}
 *
 * It is > 0 iff the sample is classified correctly (a tie counts as wrong, as f = 0 does for the
 * binary net), and it is the loss of Carlini & Wagner; for two classes it is the binary margin
 * y f(x) with f = z_1 - z_0. Its gradient with respect to the logits is e_{j*} - e_{y} for the
 * NEGATIVE margin (j* the runner-up class), the direction that hurts most to first order. The
 * softmax cross-entropy gradient differs from it by positive per-sample factors only for two
 * classes; for more it is a different but standard attack objective (AutoAttack's DLR is a
 * rescaled margin too).
 */
import * as tf from '@tensorflow/tfjs-core';

/** The one-hot rows of the labels y (class indices stored as float). */
export function oneHotLabels(y: tf.Tensor1D, classes: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(tf.cast(y, 'int32') as tf.Tensor1D, classes), 'float32') as tf.Tensor2D;
}

/** Margins [N] and d(-margin)/dz [N, C] for logits z [N, C]. */
export function marginAndGradient(z: tf.Tensor2D, y: tf.Tensor1D): { margin: tf.Tensor1D; dz: tf.Tensor2D } {
  return tf.tidy(() => {
    const classes = z.shape[1];
    const own = oneHotLabels(y, classes);
    const zy = tf.sum(tf.mul(z, own), 1);
    // Push the true class far below every other before taking the max: the runner-up.
    const others = tf.sub(z, tf.mul(own, 1e30));
    const runnerUp = tf.argMax(others, 1);
    const margin = tf.sub(zy, tf.max(others, 1)) as tf.Tensor1D;
    const dz = tf.sub(tf.cast(tf.oneHot(runnerUp as tf.Tensor1D, classes), 'float32'), own) as tf.Tensor2D;
    return { margin, dz };
  });
}

/** Margins [N] only. */
export function multiclassMargin(z: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const own = oneHotLabels(y, z.shape[1]);
    const zy = tf.sum(tf.mul(z, own), 1);
    return tf.sub(zy, tf.max(tf.sub(z, tf.mul(own, 1e30)), 1)) as tf.Tensor1D;
  });
}

/**
 * Softmax cross-entropy sum_n s_n (logsumexp(z_n) - z_{n, y_n}) and its gradient
 * dL/dz_n = s_n (softmax(z_n) - e_{y_n}).
 */
export function crossEntropy(z: tf.Tensor2D, y: tf.Tensor1D, scale: tf.Tensor1D): { loss: tf.Scalar; dz: tf.Tensor2D } {
  return tf.tidy(() => {
    const own = oneHotLabels(y, z.shape[1]);
    const logp = tf.logSoftmax(z);
    const perSample = tf.neg(tf.sum(tf.mul(logp, own), 1));
    const loss = tf.sum(tf.mul(perSample, scale)) as tf.Scalar;
    const dz = tf.mul(tf.sub(tf.exp(logp), own), tf.expandDims(scale, 1)) as tf.Tensor2D;
    return { loss, dz };
  });
}
