/** Tests run on the wasm backend, the one every machine has (no native package here). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

export async function useWasm(): Promise<void> {
  if (tf.getBackend() !== 'wasm') {
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  }
  await tf.ready();
}
