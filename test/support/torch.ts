/**
 * Debian's PyTorch (python3-torch, installed by .ci/run) for the tests that import a model trained
 * in PyTorch. It lives in /usr/bin/python3; missing, those tests are skipped outside CI and fail
 * in CI (./prerequisite.ts).
 */
import { spawnSync } from 'node:child_process';
import { prerequisite } from './prerequisite.ts';

const torchPythonPath = '/usr/bin/python3';

const hasTorch = spawnSync(torchPythonPath, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;

export const torch = prerequisite('PyTorch', hasTorch ? null : `${torchPythonPath} cannot import torch and numpy (install Debian's python3-torch, as .ci/run does)`);

/** Run a Python script with PyTorch; its stdout. Throws with stderr when it fails. */
export function torchPython(script: string, ...args: string[]): string {
  torch.require();
  const result = spawnSync(torchPythonPath, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${torchPythonPath} failed: ${result.stderr}`);
  return result.stdout;
}
