/**
 * How many jobs (runs, baseline sets) compute at once: each in a worker of its own, on one core
 * (tfjs-wasm computes on one thread). The default is one job per physical core; with the UI open
 * one core is left to the server or engine process and the window (never fewer than one job).
 *
 * Physical, not logical: two hyperthreads of one core share its vector units, so a second job on
 * a sibling thread adds little throughput and halves the speed of the first. Linux says which
 * logical CPUs share a core in /proc/cpuinfo (each processor's "physical id" and "core id": one
 * core per distinct pair); elsewhere, and where the file gives no pairs (some ARM kernels, a
 * container that hides it), Node's os.availableParallelism() stands in (it counts logical CPUs,
 * so it may overcount by the SMT factor: a user can set --jobs).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { maxJobs } from '../../shared/jobSettings.ts';

/** Distinct (physical id, core id) pairs in /proc/cpuinfo's text; null when it names none. */
export function coresInCpuinfo(text: string): number | null {
  const cores = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(block)?.[1]?.trim();
    const core = field('core id');
    if (core === undefined) continue;
    cores.add(`${field('physical id') ?? '0'}/${core}`);
  }
  return cores.size > 0 ? cores.size : null;
}

/** This machine's physical cores, as counted above (never more than the logical CPUs this process may use). */
export function physicalCores(): number {
  const logical = availableParallelism();
  let fromCpuinfo: number | null = null;
  try {
    fromCpuinfo = coresInCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    // not Linux: the logical count stands in
  }
  return Math.max(1, Math.min(fromCpuinfo ?? logical, logical));
}

/** The default number of jobs at once: one per physical core, less one when the UI is open. */
export function defaultJobs(options: { readonly uiOpen: boolean; readonly cores?: number }): number {
  const cores = options.cores ?? physicalCores();
  return Math.min(maxJobs, Math.max(1, options.uiOpen ? cores - 1 : cores));
}

/** `--jobs N` checked: an integer from 1 to maxJobs, or an error that names the option and the range. */
export function parseJobs(text: string, name = '--jobs'): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 1 || n > maxJobs) throw new RangeError(`${name} "${text}": expected an integer from 1 to ${maxJobs}`);
  return n;
}
