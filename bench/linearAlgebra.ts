/**
 * The paper-scale run's two dense factorisations at d = 512 and 1024 (issue 15): the dictionary's
 * Householder QR (main/engine/tasks/householderQr.ts, JAMA's arithmetic in contiguous columns)
 * against ml-matrix's QrDecomposition, whose arithmetic it repeats bit for bit; and the update's
 * singular values by bidiagonalization and bisection
 * (main/engine/instruments/bidiagonalSingularValues.ts) against one-sided Jacobi, which the
 * instrument used before at every size. Each figure is one call, as a run makes one of each:
 * wall seconds, and CPU seconds beside them (on a shared machine the wall clock also counts the
 * other processes' turns). The old methods run at 512 only (Jacobi there takes a minute, at
 * 1024 several). `npm run bench` prints it; `node --import tsx bench/linearAlgebra.ts` alone.
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Matrix, QrDecomposition } from 'ml-matrix';
import { bidiagonalSingularValues } from '../main/engine/instruments/bidiagonalSingularValues.ts';
import { jacobiSingularValues } from '../main/engine/instruments/singularValues.ts';
import { randomOrthonormal } from '../main/engine/tasks/sparseCoding.ts';
import { RandomStream } from '../main/engine/random.ts';

/** Wall and CPU seconds of one call. */
function timed<T>(f: () => T): { value: T; wall: number; cpu: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const cpu = process.cpuUsage(cpu0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** The dictionary as ml-matrix computed it (sparseCoding.ts before the contiguous QR). */
function mlMatrixOrthonormal(d: number, rng: RandomStream): Float64Array {
  const gaussian = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) gaussian.set(i, j, rng.normal());
  const qr = new QrDecomposition(gaussian);
  const q = qr.orthogonalMatrix;
  const r = qr.upperTriangularMatrix;
  const out = new Float64Array(d * d);
  for (let j = 0; j < d; j++) for (let i = 0; i < d; i++) out[i * d + j] = (r.get(j, j) < 0 ? -1 : 1) * q.get(i, j);
  return out;
}

const seconds = (t: { wall: number; cpu: number }) => `${t.wall.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s CPU`;

export function printLinearAlgebra(): void {
  console.log(`\nDense factorisations of a paper-scale run (one call each; load average ${loadavg()[0]!.toFixed(1)})`);
  for (const d of [512, 1024]) {
    const qr = timed(() => randomOrthonormal(d, d, RandomStream.derive(0, 'task.dictionary')));
    let line = `d = ${d}: dictionary QR ${seconds(qr)}`;
    if (d <= 512) {
      const old = timed(() => mlMatrixOrthonormal(d, RandomStream.derive(0, 'task.dictionary')));
      const same = old.value.every((v, i) => Object.is(v, qr.value[i]));
      line += `; ml-matrix ${seconds(old)}, ${same ? 'bit-identical' : 'DIFFERENT'}`;
    }
    console.log(line);
    // A Gaussian update: its largest singular value is about 2 sqrt(d) (Marchenko-Pastur).
    const rng = RandomStream.derive(1, 'update');
    const update = Float64Array.from({ length: d * d }, () => rng.normal());
    const fast = timed(() => bidiagonalSingularValues(update, d, d));
    line = `d = ${d}: singular values ${seconds(fast)} (sigma_max ${fast.value[0]!.toFixed(3)}, 2 sqrt(d) = ${(2 * Math.sqrt(d)).toFixed(3)})`;
    if (d <= 512) {
      const jacobi = timed(() => jacobiSingularValues(update, d, d));
      let gap = 0;
      jacobi.value.values?.forEach((v, k) => (gap = Math.max(gap, Math.abs(v - fast.value[k]!))));
      line += `; Jacobi ${seconds(jacobi)} (${jacobi.value.values ? `${jacobi.value.sweeps} sweeps`: 'did not converge'}), max |difference| ${(gap / fast.value[0]!).toExponential(1)} sigma_max`;
    }
    console.log(line);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printLinearAlgebra();
