/**
 * The request limits on their own: the raw-text nesting scan that runs before JSON.parse, and the
 * value walk that runs before the schemas. Both must find the exact place where the limit is
 * crossed, ignore brackets inside strings, and survive inputs far deeper than V8's stack.
 */
import { describe, expect, it } from 'vitest';
import { jsonTextProblem, jsonValueProblem, maxRequestBytes, maxRequestNesting } from '../../main/lab/requestLimits.ts';

/** `levels` nested objects `{"a":{"a":…1…}}` as text. */
const nestedText = (levels: number, key = 'a') => `${`{"${key}":`.repeat(levels)}1${'}'.repeat(levels)}`;
/** The same as a value, built without recursion. */
function nestedValue(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('jsonTextProblem', () => {
  it('passes 32 levels and refuses the 33rd, naming the path to it', () => {
    expect(maxRequestNesting).toBe(32);
    expect(jsonTextProblem(nestedText(32))).toBeNull();
    const problem = jsonTextProblem(nestedText(33));
    expect(problem).toEqual({ path: Array(32).fill('a').join('.'), message: 'nested deeper than 32 levels of objects and arrays (the limit of one request)' });
  });

  it('follows keys and array indices into the path', () => {
    const text = '{"method":"runs.start","params":{"input":{"eval":{"attacks":[{"eps":[1,2]},{"eps":[[[0]]]}]}}}}';
    expect(jsonTextProblem(text, 9)).toBeNull();
    expect(jsonTextProblem(text, 8)?.path).toBe('params.input.eval.attacks.1.eps.0.0');
    expect(jsonTextProblem(text, 7)).toEqual({ path: 'params.input.eval.attacks.1.eps.0', message: expect.stringMatching(/deeper than 7 levels/) });
    expect(jsonTextProblem('[[1],[2],[[3]]]', 2)).toEqual({ path: '2.0', message: expect.any(String) });
    expect(jsonTextProblem('[]', 0)).toEqual({ path: '(body)', message: expect.any(String) });
  });

  it('does not count brackets inside strings or escaped quotes', () => {
    const quoted = JSON.stringify({ name: '{{{{[[[[\\"{{{{'.repeat(20), notes: 'a"b{' });
    expect(jsonTextProblem(quoted, 1)).toBeNull();
    expect(jsonTextProblem(`{"k\\"{{{{":{"x":{}}}`, 2)).toEqual({ path: 'k\\"{{{{.x', message: expect.any(String) });
  });

  it('cuts long keys short in the path', () => {
    const key = 'k'.repeat(100_000);
    const problem = jsonTextProblem(nestedText(3, key), 2);
    expect(problem?.path).toBe(`${'k'.repeat(40)}….${'k'.repeat(40)}…`);
  });

  it('scans 200,000 levels without overflowing the stack', () => {
    const text = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(jsonTextProblem(text)?.path).toBe(Array(32).fill('0').join('.'));
    expect(() => JSON.stringify(JSON.parse(text))).toThrow(/call stack/); // what the limit protects
  });
});

describe('jsonValueProblem', () => {
  it('counts the envelope: params may nest 31 levels inside it', () => {
    expect(jsonValueProblem(nestedValue(31), { startDepth: 1 })).toBeNull();
    expect(jsonValueProblem(nestedValue(32), { startDepth: 1 })).toEqual({
      path: Array(31).fill('a').join('.'),
      message: 'nested deeper than 32 levels of objects and arrays (the limit of one request)',
    });
    expect(jsonValueProblem({ input: { task: nestedValue(40) } }, { startDepth: 1, root: 'params' })?.path).toBe(`params.input.task.${Array(29).fill('a').join('.')}`);
  });

  it('walks 200,000 levels without overflowing the stack', () => {
    expect(jsonValueProblem(nestedValue(200_000))?.path).toBe(Array(32).fill('a').join('.'));
  });

  it('refuses what JSON cannot carry, naming where', () => {
    expect(jsonValueProblem({ input: { task: new Map() } })).toEqual({ path: 'input.task', message: 'expected JSON data (an object, array, string, number, boolean or null), got a Map' });
    expect(jsonValueProblem({ ids: ['a', new Date(0)] })?.path).toBe('ids.1');
    expect(jsonValueProblem({ n: 10n })).toEqual({ path: 'n', message: expect.stringMatching(/got a bigint/) });
    expect(jsonValueProblem({ x: [1, Number.NaN] })).toEqual({ path: 'x.1', message: 'NaN is not a number JSON can carry (expected a finite number)' });
    expect(jsonValueProblem({ x: -Infinity })?.message).toMatch(/^-Infinity is not/);
    expect(jsonValueProblem(Object.assign(Object.create(null) as object, { a: 1 }))).toBeNull();
    expect(jsonValueProblem({ a: undefined, b: null, c: true, d: -0, e: 1e308 })).toBeNull();
  });

  it('refuses over 1 MB, in strings, keys or members, before walking all of it', () => {
    expect(maxRequestBytes).toBe(1024 * 1024);
    expect(jsonValueProblem({ notes: 'x'.repeat(maxRequestBytes - 100) })).toBeNull();
    expect(jsonValueProblem({ notes: 'x'.repeat(maxRequestBytes) })).toEqual({ path: '(params)', message: `over the limit of ${maxRequestBytes} bytes of one request` });
    expect(jsonValueProblem({ [`k${'x'.repeat(maxRequestBytes)}`]: 1 })?.message).toMatch(/over the limit/);
    expect(jsonValueProblem(new Array(2_000_000).fill(0), { root: 'params' })).toEqual({ path: 'params', message: expect.stringMatching(/over the limit/) });
  });
});
