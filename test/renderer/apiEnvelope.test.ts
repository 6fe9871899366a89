/**
 * The answer envelope both clients read (renderer/api/apiEnvelope.ts): the result of an ok
 * answer, the engine's error with the problems it named, and an answer outside the contract
 * refused with who gave it and to what.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api.ts';
import { envelopeResult } from '../../renderer/api/apiEnvelope.ts';
import { thrownBy } from '../support/thrown.ts';

const thrown = (read: () => unknown) => thrownBy(ApiError, read);

describe('an answer envelope', () => {
  it('gives the result of an ok answer', () => {
    expect(envelopeResult({ ok: true, result: [{ id: 'r1' }] }, 'The engine', 'runs.list')).toEqual([{ id: 'r1' }]);
  });

  it('throws the error the engine sent, with the problems it named', () => {
    const error = thrown(() =>
      envelopeResult({ ok: false, error: { message: 'Invalid config', problems: [{ path: 'task.d', message: 'at least 1' }] } }, 'The lab server', 'config.validate'),
    );
    expect(error.message).toBe('Invalid config');
    expect(error.problems).toEqual([{ path: 'task.d', message: 'at least 1' }]);
  });

  it('refuses an answer outside the contract, naming who answered what', () => {
    expect(thrown(() => envelopeResult({ ok: 'yes' }, 'The engine', 'runs.get')).message).toBe("The engine's answer to runs.get is outside the API contract.");
    expect(thrown(() => envelopeResult(null, 'The lab server', 'the upload of w.safetensors')).message).toBe(
      "The lab server's answer to the upload of w.safetensors is outside the API contract.",
    );
  });
});
