/**
 * An answer's envelope, as both transports receive it (the lab server's HTTP body, the engine's
 * message over the desktop bridge), checked with the contract's own schema: its result, or an
 * ApiError carrying the problems the engine named. A malformed answer is an error here, never a
 * half-read object deeper in the UI.
 */
import { ApiError, apiResponseSchema } from '../../shared/api.ts';

/** The result in `envelope`, the answer of `answeredBy` ("The engine") to `what` (a method, "the upload of w.safetensors"). */
export function envelopeResult<T>(envelope: unknown, answeredBy: string, what: string): T {
  const checked = apiResponseSchema.safeParse(envelope);
  if (!checked.success) throw new ApiError(`${answeredBy}'s answer to ${what} is outside the API contract.`);
  if (checked.data.ok) return checked.data.result as T;
  throw new ApiError(checked.data.error.message, checked.data.error.problems ?? []);
}
