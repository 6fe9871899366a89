/**
 * Errors across the worker boundary: a worker sends its error's class name and message, and the
 * parent rebuilds the classes that callers tell apart (the CLI's exit codes, the queue's
 * cancelled-or-failed), so a run in a worker fails exactly as it failed in-process.
 */
import { BackendError } from '../../engine/backend/chooseBackend.ts';
import { DeadNetworkError, RunCancelledError } from '../../engine/experiment.ts';
import type { WireError } from './messages.ts';

export function toWireError(error: unknown): WireError {
  return error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { name: 'Error', message: String(error) };
}

const known: Record<string, new (message: string) => Error> = { BackendError, DeadNetworkError, RunCancelledError };

export function fromWireError(wire: WireError): Error {
  const Kind = known[wire.name];
  const error = Kind ? new Kind(wire.message) : new Error(wire.message);
  if (!Kind) error.name = wire.name;
  if (wire.stack) error.stack = wire.stack;
  return error;
}

/**
 * A task whose worker stopped before the task ended: terminated after a cancel it did not honour
 * within the grace period (`reason` 'unresponsive'), gone on its own (an uncaught error, out of
 * memory: 'crashed'), or closed with the host. Only that task is affected; the host starts a
 * fresh worker for the next one. The message completes "The run ...".
 */
export class WorkerStoppedError extends Error {
  override name = 'WorkerStoppedError';
  constructor(
    message: string,
    readonly reason: 'unresponsive' | 'crashed' | 'closed',
  ) {
    super(message);
  }
}
