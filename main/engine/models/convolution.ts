/**
 * A 'same' convolution with stride 1 whose filter gradient can be computed without the
 * Conv2DBackpropFilter kernel, which tfjs-wasm lacks: im2col + matMul.
 *
 * For x [N, H, W, Cin] zero-padded as TensorFlow's 'same' does (before = floor((k-1)/2),
 * after = the rest) and a filter F [k, k, Cin, Cout], the patch matrix P [N H W, k k Cin] holds
 * at row (n, r, c) the values x_pad[n, r + i, c + j, ch] at column (i k + j) Cin + ch, which is
 * exactly F's flattening order. Then conv(x, F) = P F_flat and dL/dF_flat = P^T dY_flat: one
 * matMul. P is built from k^2 slices and one concat, kernels every backend has.
 */
import * as tf from '@tensorflow/tfjs-core';

/** TensorFlow's 'same' padding for a k-wide window at stride 1. */
export function samePadding(k: number): [number, number] {
  const before = Math.floor((k - 1) / 2);
  return [before, k - 1 - before];
}

/** The im2col patch matrix [N H W, k k Cin] of x for a k x k 'same' convolution. */
export function patches(x: tf.Tensor4D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [before, after] = samePadding(k);
    const padded = tf.pad(x, [[0, 0], [before, after], [before, after], [0, 0]]);
    const slices: tf.Tensor4D[] = [];
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) slices.push(tf.slice(padded, [0, i, j, 0], [n, h, w, c]));
    return tf.reshape(tf.concat(slices, 3), [n * h * w, k * k * c]) as tf.Tensor2D;
  });
}

/** dL/dF [k, k, Cin, Cout] from the input x and the output gradient dy [N, H, W, Cout], by im2col. */
export function filterGradientIm2col(x: tf.Tensor4D, dy: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    const cout = dy.shape[3];
    const P = patches(x, k);
    const dY = tf.reshape(dy, [-1, cout]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(P, dY, true, false), [k, k, x.shape[3], cout]) as tf.Tensor4D;
  });
}

/**
 * conv2d(x, F, stride 1, 'same') whose gradient for F comes from im2col and whose gradient for
 * x (Conv2DBackpropInput, which wasm has) is computed only when `inputGradient` is true (the
 * first layer's input is data: nobody needs its gradient while training).
 */
export function convolutionIm2col(x: tf.Tensor4D, filter: tf.Tensor4D, inputGradient: boolean): tf.Tensor4D {
  const k = filter.shape[0];
  const conv = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = inputs[0] as tf.Tensor4D;
    const fs = inputs[1] as tf.Tensor4D;
    const save = inputs[2] as tf.GradSaveFunc;
    save([xs, fs]);
    return {
      value: tf.conv2d(xs, fs, 1, 'same'),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs0, fs0] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dx = inputGradient ? tf.conv2dTranspose(dy, fs0, xs0.shape, 1, 'same') : tf.zerosLike(xs0);
        return [dx, filterGradientIm2col(xs0, dy, k)];
      },
    };
  });
  return conv(x, filter) as tf.Tensor4D;
}
