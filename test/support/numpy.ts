/**
 * The Python with NumPy that the round-trip tests (npy, npz, safetensors, dataset files) call:
 * Debian's /usr/bin/python3 where it imports numpy (the python3-numpy package installs there,
 * and .ci/run makes sure it does), else the python3 first on PATH (a pyenv or venv one may lack
 * NumPy). Missing NumPy skips those tests outside CI and fails them in CI (./prerequisite.ts).
 */
import { spawnSync } from 'node:child_process';
import { prerequisite } from './prerequisite.ts';

const candidates = ['/usr/bin/python3', 'python3'];

const hasNumpy = (python: string) => spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** The interpreter that has NumPy, or null. */
export const numpyPython: string | null = candidates.find(hasNumpy) ?? null;

export const numpy = prerequisite(
  'NumPy',
  numpyPython === null ? `neither ${candidates.join(' nor ')} can import numpy (install Debian's python3-numpy, as .ci/run does)` : null,
);

/** Run a Python script with NumPy; its stdout. Throws with stderr when it fails. */
export function python(script: string, ...args: string[]): string {
  numpy.require();
  const result = spawnSync(numpyPython!, ['-c', script, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${numpyPython} failed: ${result.stderr}`);
  return result.stdout;
}
