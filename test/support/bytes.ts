/** The bytes under a typed array (its own view, not the whole buffer): what a file format writes. */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
