/** ||a - b||_F / ||a||_F over flat arrays: the issues' tolerance on weights across paths and thread counts. */
export function relativeFrobenius(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < a.length; k++) {
    num += (a[k]! - b[k]!) ** 2;
    den += a[k]! ** 2;
  }
  return Math.sqrt(num / den);
}
