/**
 * Seconds per call of `step` on a device that computes asynchronously (webgpu): `reps` calls
 * after 2 of warm-up, the timing opened and closed by `settle`, a read that waits for the device,
 * so the figure is the device's time per call and not the host's time to submit it.
 */
export function perCall(step: () => void, settle: () => void, reps: number): number {
  for (let i = 0; i < 2; i++) step();
  settle();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) step();
  settle();
  return (performance.now() - t0) / 1000 / reps;
}
