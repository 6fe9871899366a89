/**
 * The snapshot slider of the coefficient heatmap and the neuron pictures: it re-reads the list
 * only when the run's counter for its kind moves, follows a live run's newest snapshot from the
 * end, stays put elsewhere, and stays inside the list.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectScope, markRaw, nextTick, reactive } from 'vue';
import type { InstrumentsEvent } from '../../shared/events.ts';
import { useSnapshotSlider } from '../../renderer/composables/useSnapshotSlider.ts';
import { coefficientSnapshots, emptyRunData } from '../../renderer/viewLogic/runFromEvents.ts';

const throttleMs = 1000;

/** A run as stores/runData.ts keeps it: raw data, and a version bumped on every change. */
function liveRun(epochsWithMatrix: number[]) {
  const run = reactive({ data: markRaw(emptyRunData()), version: 0 });
  const add = (globalEpoch: number, withMatrix: boolean) => {
    const snapshot = { type: 'instruments', phase: globalEpoch === 0 ? 'init' : 'clean', epoch: globalEpoch, globalEpoch, ...(withMatrix ? { coefficients: [[globalEpoch]] } : {}) };
    run.data.instruments.push(snapshot as unknown as InstrumentsEvent);
    run.data.revisions.instruments++;
    if (withMatrix) run.data.revisions.coefficients++;
    run.version++;
  };
  for (const e of epochsWithMatrix) add(e, true);
  const scope = effectScope();
  const slider = scope.run(() => useSnapshotSlider(run, 'coefficients', coefficientSnapshots, throttleMs))!;
  const slideTo = (i: number) => slider.slide({ target: { value: String(i) } } as unknown as Event);
  const shown = () => [slider.index.value, slider.current.value?.globalEpoch ?? null, slider.snapshots.value.length];
  /** Lets the throttle's trailing update and Vue's watchers run. */
  const settle = async () => {
    await nextTick();
    vi.advanceTimersByTime(throttleMs);
    await nextTick();
  };
  return { run, add, slider, slideTo, shown, settle, stop: () => scope.stop() };
}

describe('useSnapshotSlider', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('starts on the newest snapshot and follows new ones while it sits on the last', async () => {
    const r = liveRun([0, 5, 10]);
    expect(r.shown()).toEqual([2, 10, 3]);
    r.add(15, true);
    await r.settle();
    expect(r.shown()).toEqual([3, 15, 4]);
    expect(r.slider.range.value).toEqual({ type: 'range', min: 0, max: 3, step: 1, value: 3 });
    r.add(20, true);
    await r.settle();
    expect(r.shown()).toEqual([4, 20, 5]);
    r.stop();
  });

  it('re-reads the list only when a snapshot of its kind arrives', async () => {
    const r = liveRun([0, 5]);
    const before = r.slider.revision.value;
    r.add(6, false);
    await r.settle();
    expect(r.slider.revision.value).toBe(before);
    expect(r.shown()).toEqual([1, 5, 2]);
    r.add(10, true);
    await r.settle();
    expect(r.slider.revision.value).not.toBe(before);
    expect(r.shown()).toEqual([2, 10, 3]);
    r.stop();
  });

  it('stays where the user moved it when a snapshot arrives, and follows again once moved back to the end', async () => {
    const r = liveRun([0, 5, 10]);
    r.slideTo(1);
    expect(r.shown()).toEqual([1, 5, 3]);
    expect(r.slider.range.value).toEqual({ type: 'range', min: 0, max: 2, step: 1, value: 1 });
    r.add(15, true);
    await r.settle();
    expect(r.shown()).toEqual([1, 5, 4]);
    r.slideTo(3);
    r.add(20, true);
    await r.settle();
    expect(r.shown()).toEqual([4, 20, 5]);
    r.stop();
  });

  it('pulls the position back inside a shorter list (another run shown), and shows nothing for an empty one', async () => {
    const r = liveRun([0, 5, 10, 15]);
    r.slideTo(2);
    const other = emptyRunData();
    other.instruments.push({ type: 'instruments', phase: 'init', epoch: 0, globalEpoch: 0, coefficients: [[0]] } as unknown as InstrumentsEvent);
    other.instruments.push({ type: 'instruments', phase: 'clean', epoch: 3, globalEpoch: 3, coefficients: [[3]] } as unknown as InstrumentsEvent);
    r.run.data = markRaw(other);
    r.run.version++;
    await r.settle();
    expect(r.shown()).toEqual([1, 3, 2]);
    r.run.data = markRaw(emptyRunData());
    r.run.version++;
    await r.settle();
    expect(r.shown()).toEqual([0, null, 0]);
    r.stop();
  });
});
