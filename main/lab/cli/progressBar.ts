/**
 * What a headless run prints while it trains, read from the event stream. On a terminal: one
 * progress bar redrawn in place (phase, epoch, bar, rate, ETA). Elsewhere (a pipe, a CI log):
 * plain lines, one per epoch, that read well in a file.
 */
import type { MetricsEvent, RunEvent } from '../../../shared/events.ts';
import type { CliWriter } from './cliIo.ts';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

function formatAccuracy(a: { estimate: number; lower: number; upper: number } | null): string {
  // NaN (or null once through JSON): not measured here, e.g. the mixture direction on images.
  if (!a || a.estimate === null || !Number.isFinite(a.estimate)) return '  -  ';
  return a.estimate.toFixed(3);
}

/** One plain line per epoch. */
export function metricsLine(m: MetricsEvent): string {
  const where = m.phase === 'init' ? 'init' : `${m.phase} ${m.epoch}`;
  const loss = Number.isFinite(m.loss) ? m.loss.toFixed(4) : '  -   ';
  return (
    `[${where.padEnd(16)}] loss ${loss}  clean ${formatAccuracy(m.cleanAccuracy)}  ` +
    `robust ${formatAccuracy(m.robustAccuracy)}  ` +
    (Number.isFinite(m.mixtureDirectionAccuracy.estimate) ? `mixture-dir ${formatAccuracy(m.mixtureDirectionAccuracy)}  ` : '') +
    `silent ${(100 * m.silentFraction).toFixed(0)}%  ${formatDuration(m.elapsedSeconds)}`
  );
}

export interface ProgressView {
  readonly onEvent: (event: RunEvent) => void;
  /** Clear the bar before other output. */
  readonly clear: () => void;
}

/** A progress display writing to `out` (a TTY gets the bar; anything else gets lines). */
export function progressView(out: CliWriter): ProgressView {
  const tty = Boolean(out.isTTY);
  let drawn = false;
  let lastMetrics = '';
  const clear = () => {
    if (tty && drawn) {
      out.write('\r\x1b[2K');
      drawn = false;
    }
  };
  return {
    clear,
    onEvent(event) {
      switch (event.type) {
        case 'phase-changed':
          clear();
          out.write(`phase: ${event.phase}, ${event.epochs} epochs\n`);
          break;
        case 'progress': {
          if (!tty) return;
          const width = Math.max(10, Math.min(30, (out.columns ?? 100) - 80));
          const fraction = event.total > 0 ? event.done / event.total : 0;
          const filled = Math.round(fraction * width);
          const eta = event.rate > 0 ? (event.total - event.done) / event.rate : NaN;
          const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
          const line =
            `${event.phase.padEnd(11)} epoch ${String(event.epoch).padStart(3)}/${event.epochs} ${bar} ${(100 * fraction).toFixed(0).padStart(3)}%` +
            `  ${event.rate.toFixed(0)} steps/s  ETA ${formatDuration(eta)}` +
            (lastMetrics ? `  ${lastMetrics}` : '');
          out.write(`\r\x1b[2K${line.slice(0, (out.columns ?? 160) - 1)}`);
          drawn = true;
          break;
        }
        case 'metrics':
          lastMetrics = `clean ${formatAccuracy(event.cleanAccuracy)} mix-dir ${formatAccuracy(event.mixtureDirectionAccuracy)}`;
          if (!tty) out.write(metricsLine(event) + '\n');
          break;
        case 'warning':
          clear();
          out.write(`warning: ${event.message}\n`);
          break;
        case 'evaluation':
          clear();
          out.write(
            `evaluated ${event.evaluation.label}: clean ${event.evaluation.cleanAccuracy.estimate.toFixed(3)}, ` +
              `robust ${event.evaluation.robustAccuracy.estimate.toFixed(3)} (${event.evaluation.attacks[0] ?? ''})\n`,
          );
          break;
        default:
          break;
      }
    },
  };
}
