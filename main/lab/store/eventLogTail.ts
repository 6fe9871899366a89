/**
 * The latest `metrics` event of a run's event log, read from the end of the file: a running run's
 * last epoch and numbers without reading (or parsing) the whole log, whose instrument snapshots
 * can make it megabytes long. Chunks are read backwards until a complete metrics line is found.
 * A last line without its newline (a write in progress, or one cut short) is not an event yet.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsEvent } from '../../../shared/events.ts';
import { eventLogName } from './runFolder.ts';

const chunkBytes = 64 * 1024;

/** The last complete metrics event in the folder's events.jsonl, or null (no log, no epoch yet). */
export function lastMetricsEvent(folder: string): MetricsEvent | null {
  let fd: number;
  try {
    fd = openSync(join(folder, eventLogName), 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    let end = size;
    // Bytes after the last newline seen so far (the start of a line that continues to the right).
    let carry = Buffer.alloc(0);
    let complete = false; // whether `carry` is known to end at a newline
    while (end > 0) {
      const start = Math.max(0, end - chunkBytes);
      const chunk = Buffer.alloc(end - start);
      readSync(fd, chunk, 0, chunk.length, start);
      let buffer = Buffer.concat([chunk, carry]);
      let cut = buffer.length;
      for (let i = buffer.length - 1; i >= 0; i--) {
        if (buffer[i] !== 0x0a) continue;
        if (i + 1 < cut && (complete || cut < buffer.length)) {
          const event = metricsLine(buffer.subarray(i + 1, cut));
          if (event) return event;
        }
        complete = true;
        cut = i;
      }
      buffer = buffer.subarray(0, cut);
      carry = buffer;
      end = start;
    }
    // The first line of the file has no newline before it.
    return complete && carry.length > 0 ? metricsLine(carry) : null;
  } finally {
    closeSync(fd);
  }
}

function metricsLine(bytes: Buffer): MetricsEvent | null {
  // Cheap test before parsing: instrument snapshots, the long lines, are skipped unparsed.
  if (bytes.indexOf('"type":"metrics"') < 0) return null;
  try {
    const event = JSON.parse(bytes.toString('utf8')) as MetricsEvent;
    return event.type === 'metrics' ? event : null;
  } catch {
    return null;
  }
}
