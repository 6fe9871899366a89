/**
 * Refuse a run that cannot fit in memory, before it starts: its estimate (shared/memoryEstimate.ts)
 * against the memory this machine has free now. The refusal names the fields that make the run
 * big, with their values, so the user knows what to shrink.
 */
import { freemem } from 'node:os';
import { ConfigError, type ResolvedExperiment } from '../../shared/config.ts';
import { formatBytes, memoryEstimate } from '../../shared/memoryEstimate.ts';

/**
 * Memory free for a run: the system's available memory (on Linux os.freemem() reads
 * MemAvailable, which counts reclaimable caches), and, in a container with a memory limit, what
 * is left under the limit.
 */
export function availableMemory(): number {
  const free = freemem();
  const limit = process.constrainedMemory?.() ?? 0;
  // No limit reads as 0 or as a huge number (2^63 - 1 rounded), depending on the platform.
  const underLimit = limit > 0 && limit < 2 ** 60 ? Math.max(0, limit - process.memoryUsage().rss) : Infinity;
  return Math.min(free, underLimit);
}

/**
 * Throw a ConfigError when the run's estimate exceeds `available` bytes. Each problem is a field
 * of the parts that make up most of the estimate (the largest, and any other of at least a quarter).
 */
export function checkRunFits(config: ResolvedExperiment, available = availableMemory(), source = 'config'): void {
  const estimate = memoryEstimate(config);
  if (estimate.bytes <= available) return;
  const big = estimate.parts.filter((part, i) => i === 0 || part.bytes >= estimate.bytes / 4);
  const summary = `the run needs about ${formatBytes(estimate.bytes)} of memory, more than the ${formatBytes(available)} free`;
  const problems: { path: string; message: string }[] = [];
  for (const part of big) {
    for (const field of part.fields) {
      const path = field.split(/[ =(]/)[0]!;
      if (problems.some((p) => p.path === path)) continue;
      problems.push({ path, message: `${field.slice(path.length).replace(/^ = /, '')}: ${summary}; ${part.what} alone take ${formatBytes(part.bytes)}` });
    }
  }
  const lines = big.map((part) => `  ${part.what}: ${formatBytes(part.bytes)}, from ${part.fields.join(', ')}`);
  throw new ConfigError(`Invalid ${source}: ${summary}. Shrink what makes it big:\n${lines.join('\n')}`, problems);
}
