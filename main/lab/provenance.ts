/**
 * Where a run's numbers came from: the product's version and commit, the backend, the versions
 * of the packages that compute, and the machine. Recorded with every run, so a figure can be
 * traced back, and so a finished run is reused only by the same code (`codeVersion`).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, platform, release, totalmem } from 'node:os';
import type { ResolvedExperiment } from '../../shared/config.ts';
import type { BackendInfo } from '../../shared/events.ts';

const require = createRequire(import.meta.url);
const projectRoot = new URL('../../', import.meta.url).pathname;

/** The version of an installed package, or null when it is not installed. */
function packageVersion(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

let cachedCode: { version: string; commit: string; dirty: boolean } | null = null;

/** The product's version, its git commit (or "unknown" outside a checkout) and whether the tree has changes. */
export function codeIdentity(): { version: string; commit: string; dirty: boolean } {
  if (cachedCode) return cachedCode;
  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  let commit = process.env.PURIFICATION_LAB_COMMIT ?? 'unknown';
  let dirty = false;
  if (commit === 'unknown') {
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' });
    if (head.status === 0) {
      commit = head.stdout.trim();
      const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: projectRoot, encoding: 'utf8' });
      dirty = status.status === 0 && status.stdout.trim().length > 0;
    }
  }
  cachedCode = { version, commit, dirty };
  return cachedCode;
}

/** "0.1.0+abc1234" (with "-dirty" when the checkout has uncommitted changes). */
export function codeVersion(): string {
  const { version, commit, dirty } = codeIdentity();
  return `${version}+${commit.slice(0, 12)}${dirty ? '-dirty' : ''}`;
}

/** JSON with object keys sorted at every level: equal configs give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What a run computed: the SHA-256 of the resolved config (seed included), in hex. */
export function configHash(config: ResolvedExperiment): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/** The libraries whose versions a run records: those that compute or store its numbers. */
export const recordedLibraries = [
  '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-webgpu',
  // Dawn, which compiles and runs the WGSL kernels on a webgpu run's adapter.
  'webgpu',
  '@tensorflow/tfjs-node-gpu', 'better-sqlite3', 'zod',
] as const;

export function provenance(backend: BackendInfo): Record<string, unknown> {
  const cpu = cpus();
  return {
    product: { name: 'purification-lab', ...codeIdentity() },
    codeVersion: codeVersion(),
    backend: { name: backend.name, device: backend.device, label: backend.label, fusedKernels: backend.fusedKernels, threads: backend.threads ?? 1, details: backend.details },
    dependencies: Object.fromEntries(recordedLibraries.map((n) => [n, packageVersion(n)])),
    runtime: { node: process.versions.node, v8: process.versions.v8, electron: process.versions.electron ?? null },
    machine: {
      platform: platform(),
      release: release(),
      arch: process.arch,
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      gpu: backend.device === 'gpu' ? backend.label : null,
    },
    // A run computed as a Slurm array task says which one (null elsewhere).
    slurm: process.env.SLURM_JOB_ID
      ? {
          jobId: process.env.SLURM_ARRAY_JOB_ID ?? process.env.SLURM_JOB_ID,
          arrayTask: process.env.SLURM_ARRAY_TASK_ID ?? null,
          node: process.env.SLURMD_NODENAME ?? null,
          cpusPerTask: process.env.SLURM_CPUS_PER_TASK ? Number(process.env.SLURM_CPUS_PER_TASK) : null,
        }
      : null,
  };
}
