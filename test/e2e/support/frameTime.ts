/**
 * Frame times in the page while something happens (a live run redrawing, the pointer sweeping a
 * chart's tooltip): requestAnimationFrame deltas, summarised. Printed by the suite, never
 * asserted: a shared CI machine's timing says little, a person reading it says a lot.
 */
import type { Page } from 'playwright-core';

export interface FrameTimes {
  readonly frames: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** Frames over 50 ms: what a user feels as a stutter. */
  readonly longFrames: number;
}

/** Start recording frame deltas in the page; the returned function stops and summarises. */
export async function recordFrameTimes(page: Page): Promise<() => Promise<FrameTimes>> {
  // A string, so this Node-typed file needs no DOM types.
  await page.evaluate(`(() => {
    const w = window;
    w.__frameDeltas = [];
    w.__frameRecording = true;
    let last = performance.now();
    const tick = (now) => {
      w.__frameDeltas.push(now - last);
      last = now;
      if (w.__frameRecording) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  return async () => {
    const deltas = (await page.evaluate(`(() => { window.__frameRecording = false; return window.__frameDeltas.slice(1); })()`)) as number[];
    const sorted = [...deltas].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] ?? NaN;
    return { frames: deltas.length, medianMs: at(0.5), p95Ms: at(0.95), maxMs: sorted[sorted.length - 1] ?? NaN, longFrames: deltas.filter((d) => d > 50).length };
  };
}

export function formatFrameTimes(label: string, t: FrameTimes): string {
  return `${label}: ${t.frames} frames, median ${t.medianMs.toFixed(1)} ms, p95 ${t.p95Ms.toFixed(1)} ms, max ${t.maxMs.toFixed(1)} ms, ${t.longFrames} over 50 ms`;
}
