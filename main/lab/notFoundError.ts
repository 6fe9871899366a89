/** A call that names something that does not exist (a run id, a figure): transports answer 404. */
import { ApiError } from '../../shared/api.ts';

export class NotFoundError extends ApiError {
  constructor(message: string, problems: readonly { path: string; message: string }[] = []) {
    super(message, problems);
    this.name = 'NotFoundError';
  }
}
