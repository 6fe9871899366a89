/**
 * One row of an l2 draw: d standard normal draws from `rng`, scaled by `scaleFor(their l2 norm)`
 * (the norm taken as 1 for an all-zero draw), written to out[at, at + d). A Gaussian vector's
 * direction is uniform on the sphere, so scaling by r / norm puts a uniform direction at radius
 * r: the random noise's directions (./randomNoise.ts: r = 1) and PGD's random start in the l2
 * ball (./pgd.ts: r = eps U^{1/d}, drawn after the direction).
 */
import type { RandomStream } from '../random.ts';

export function gaussianRow(out: Float32Array, at: number, d: number, rng: RandomStream, scaleFor: (length: number) => number): void {
  let n2 = 0;
  for (let j = 0; j < d; j++) {
    const v = rng.normal();
    out[at + j] = v;
    n2 += v * v;
  }
  const scale = scaleFor(Math.sqrt(n2 || 1));
  for (let j = 0; j < d; j++) out[at + j] = out[at + j]! * scale;
}
