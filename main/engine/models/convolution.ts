/**
 * The backward pass of a stride-1 'same' convolution y = conv(x, F), F [k, k, Cin, Cout], written
 * with forward convolutions, the kernel every backend has and runs fastest (XNNPACK on wasm):
 *
 * TensorFlow's 'same' padding puts before = floor((k-1)/2) zeros above/left and after = k-1-before
 * below/right, so y[r] = sum_i x_pad[r + i] F[i] (per spatial axis, summed over Cin).
 *
 * Input gradient: dx[s] = sum_i dy[s + before - i] F[i] = sum_i' dy_pad'[s + i'] F[k-1-i'], a
 * forward convolution of dy with the filter flipped in space and Cin/Cout swapped, padded
 * `after` above/left and `before` below/right.
 *
 * Filter gradient: dF[i, j, c, o] = sum_{n, r, s} x_pad[n, r+i, s+j, c] dy[n, r, s, o], a
 * correlation of x with dy over space, summed over the batch: with the batch as channels,
 * x_pad as [Cin, H+k-1, W+k-1, N] convolved ('valid') with dy as a filter [H, W, N, Cout] gives
 * [Cin, k, k, Cout]. This is what stands in for tfjs-wasm's missing Conv2DBackpropFilter (and is
 * ~25x faster there than an im2col built from slices); where the backend has the kernel, it is used.
 *
 * The backward passes are called as functions, not through autodiff: tfjs-core's Node build
 * registers no gradient functions, and the CNN writes its backward pass out (./cnn.ts).
 */
import * as tf from '@tensorflow/tfjs-core';

/** TensorFlow's 'same' padding for a k-wide window at stride 1: [before, after]. */
export function samePadding(k: number): [number, number] {
  const before = Math.floor((k - 1) / 2);
  return [before, k - 1 - before];
}

/** dL/dF [k, k, Cin, Cout] as a forward convolution (see the file comment). */
export function filterGradientByConvolution(x: tf.Tensor4D, dy: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [before, after] = samePadding(k);
    const xs = tf.transpose(tf.pad(x, [[0, 0], [before, after], [before, after], [0, 0]]), [3, 1, 2, 0]) as tf.Tensor4D;
    const dys = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    return tf.transpose(tf.conv2d(xs, dys, 1, 'valid'), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** dL/dF: the backend's Conv2DBackpropFilter kernel, or the forward convolution where it has none. */
export function filterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, byConvolution: boolean): tf.Tensor4D {
  if (byConvolution) return filterGradientByConvolution(x, dy, k);
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [k, k, x.shape[3], dy.shape[3]] }) as tf.Tensor4D;
}

/** The filter flipped in space with Cin and Cout swapped: [k, k, Cout, Cin]. */
export function flippedFilter(filter: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D);
}

/** dL/dx [N, H, W, Cin] from dy [N, H, W, Cout] and the flipped filter (see the file comment). */
export function inputGradient(dy: tf.Tensor4D, flipped: tf.Tensor4D): tf.Tensor4D {
  const [before, after] = samePadding(flipped.shape[0]);
  return tf.conv2d(dy, flipped, 1, [[0, 0], [after, before], [after, before], [0, 0]]);
}

/** dL/d(input) of 2 x 2 max-pooling with stride 2 (MaxPoolGrad: the gradient goes to each window's maximum). */
export function maxPoolGradient(dy: tf.Tensor4D, input: tf.Tensor4D, output: tf.Tensor4D): tf.Tensor4D {
  return tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, { filterSize: 2, strides: 2, pad: 'valid' }) as tf.Tensor4D;
}
