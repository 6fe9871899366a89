/**
 * What the window and the user are told about the engine. Pure, so the crash path is tested end
 * to end without a window: the supervisor's events become shell events for the page (the
 * desktop client turns them into the stream's state and `interrupted` status messages), and a
 * crash followed by the restart becomes one native notice that offers to resume the runs.
 */
import type { ShellEvent } from '../../shared/desktopBridge.ts';
import type { EngineEvent } from './engineSupervisor.ts';

/** The shell event the page gets for an engine event (none for the quiet ones). */
export function shellEventFor(event: EngineEvent): ShellEvent | null {
  switch (event.type) {
    case 'starting':
      return event.restart ? null : { type: 'engine', state: 'starting' };
    case 'ready':
      return { type: 'engine', state: 'ready', interrupted: event.interrupted };
    case 'crashed':
      return { type: 'engine', state: event.willRestart ? 'restarting' : 'failed', message: `${event.message} ${event.detail.split('\n')[0] ?? ''}`.trim() };
    case 'failed':
      return { type: 'engine', state: 'failed', message: event.message };
    case 'stopped':
      return null;
  }
}

export interface Notice {
  readonly type: 'warning' | 'error' | 'info';
  readonly message: string;
  readonly detail: string;
  readonly buttons: readonly string[];
  /** Runs to resume when the first button is chosen (empty: the buttons only close the notice). */
  readonly resumeIds: readonly string[];
}

/** After a crash and the restart: what happened, and the offer to resume what it interrupted. */
export function crashNotice(crash: EngineEvent & { type: 'crashed' }, interrupted: readonly string[]): Notice {
  const runs = [...new Set(interrupted)];
  const offer =
    runs.length === 0
      ? ''
      : `\n\n${runs.length === 1 ? `Run ${runs[0]} is` : `Runs ${runs.join(', ')} are`} marked interrupted in the run store. Resume ${runs.length === 1 ? 'it' : 'them'} now from the last checkpoint, or later from the runs list (or with \`npm run lab -- resume ID\`).`;
  return {
    type: 'warning',
    message: `${crash.message} It has been restarted.`,
    detail: `${crash.detail.replace('The engine is restarting; the window and the run store are unaffected.', 'The window and the run store were not affected.')}${offer}`,
    buttons: runs.length === 0 ? ['OK'] : [runs.length === 1 ? 'Resume run' : 'Resume runs', 'Not now'],
    resumeIds: runs,
  };
}

/** When the engine cannot run at all (a store that cannot be opened, or crash after crash). */
export function failureNotice(message: string): Notice {
  return {
    type: 'error',
    message: 'The compute engine is not running.',
    detail: `${message}\n\nThe window stays open, but nothing can run until the engine starts. Try again, or quit and check the message above.`,
    buttons: ['Try again', 'Close'],
    resumeIds: [],
  };
}
