/**
 * How many jobs at once: one per physical core (hyperthread siblings share a core), less one with
 * the UI open, never fewer than one; and `--jobs N` checked with an error that names it.
 */
import { describe, expect, it } from 'vitest';
import { maxJobs } from '../../shared/jobSettings.ts';
import { atMostAtOnce } from '../../main/lab/atMostAtOnce.ts';
import { coresInCpuinfo, defaultJobs, parseJobs, physicalCores } from '../../main/lab/jobCount.ts';

/** /proc/cpuinfo's blocks, one per logical CPU, with only the fields that matter here. */
const cpuinfo = (cpus: readonly [physical: number, core: number][]) => cpus.map(([p, c], i) => `processor\t: ${i}\nmodel name\t: x\nphysical id\t: ${p}\ncore id\t\t: ${c}\ncpu cores\t: 2\n`).join('\n');

describe('physical cores', () => {
  it('counts distinct (socket, core) pairs: hyperthread siblings are one core, the same core id on two sockets two', () => {
    expect(coresInCpuinfo(cpuinfo([[0, 0], [0, 1]]))).toBe(2);
    expect(coresInCpuinfo(cpuinfo([[0, 0], [0, 1], [0, 0], [0, 1]]))).toBe(2);
    expect(coresInCpuinfo(cpuinfo([[0, 0], [0, 1], [1, 0], [1, 1], [0, 0], [0, 1], [1, 0], [1, 1]]))).toBe(4);
  });

  it('says it cannot tell when the file names no cores (some ARM kernels)', () => {
    expect(coresInCpuinfo('processor\t: 0\nBogoMIPS\t: 48.00\n\nprocessor\t: 1\nBogoMIPS\t: 48.00\n')).toBeNull();
  });

  it('on this machine: between 1 and the logical CPUs', async () => {
    const { availableParallelism } = await import('node:os');
    expect(physicalCores()).toBeGreaterThanOrEqual(1);
    expect(physicalCores()).toBeLessThanOrEqual(availableParallelism());
  });
});

describe('the default jobs at once', () => {
  it('is one per physical core, less one with the UI open, at least one, at most the bound', () => {
    expect(defaultJobs({ uiOpen: false, cores: 8 })).toBe(8);
    expect(defaultJobs({ uiOpen: true, cores: 8 })).toBe(7);
    expect(defaultJobs({ uiOpen: true, cores: 2 })).toBe(1);
    expect(defaultJobs({ uiOpen: true, cores: 1 })).toBe(1);
    expect(defaultJobs({ uiOpen: false, cores: 1 })).toBe(1);
    expect(defaultJobs({ uiOpen: false, cores: 256 })).toBe(maxJobs);
  });
});

describe('--jobs N', () => {
  it('takes an integer from 1 to the bound', () => {
    expect(parseJobs('1')).toBe(1);
    expect(parseJobs('4')).toBe(4);
    expect(parseJobs(String(maxJobs))).toBe(maxJobs);
  });

  it.each(['0', '-1', '1.5', 'two', '', String(maxJobs + 1)])('refuses "%s", naming the option and the range', (text) => {
    expect(() => parseJobs(text)).toThrow(`--jobs "${text}": expected an integer from 1 to ${maxJobs}`);
  });
});

describe('atMostAtOnce', () => {
  it('keeps at most `limit` in flight, starts the next as one ends, and answers in the items\' order', async () => {
    let inFlight = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const started: number[] = [];
    const all = atMostAtOnce([0, 1, 2, 3, 4], 2, async (item) => {
      started.push(item);
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((resolve) => release.push(resolve));
      inFlight -= 1;
      return item * 10;
    });
    // Settle them one at a time, last-started first, so that the order of results is not the order of ends.
    for (let ended = 0; ended < 5; ended++) {
      while (release.length === 0) await Promise.resolve();
      expect(inFlight).toBeLessThanOrEqual(2);
      release.pop()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await all).toEqual([0, 10, 20, 30, 40]);
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    await expect(
      atMostAtOnce([0, 1, 2, 3], 1, async (item) => {
        started.push(item);
        if (item === 1) throw new Error('item 1 failed');
        return item;
      }),
    ).rejects.toThrow('item 1 failed');
    expect(started).toEqual([0, 1]);
  });
});
