/**
 * A field's problem in plain words, as the form shows it next to the field: "at least 0", "a
 * whole number", "one of relative, fixed, learned", rather than the validator's "-1: Too small:
 * expected number to be >=0". The schema's messages (shared/config.ts, zod) start with the refused
 * value as JSON; the value is in the field already, so only what is expected is said.
 */
import type { FieldProblem } from './draft.ts';

const rules: readonly [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^Too small: expected number to be >=(.+)$/, (m) => `at least ${m[1]}`],
  [/^Too small: expected number to be >(.+)$/, (m) => `more than ${m[1]}`],
  [/^Too big: expected number to be <=(.+)$/, (m) => `at most ${m[1]}`],
  [/^Too big: expected number to be <(.+)$/, (m) => `less than ${m[1]}`],
  [/^expected int, received number$/, () => 'a whole number'],
  [/^expected number, received null$/, () => 'required: a number'],
  [/^expected number, received .*$/, () => 'a number'],
  [/^expected string, received .*$/, () => 'a text'],
  [/^expected boolean, received .*$/, () => 'yes or no'],
  [/^Too small: expected array to have >=(\d+) items?$/, (m) => (m[1] === '1' ? 'at least one value' : `at least ${m[1]} values`)],
  [/^Too big: expected array to have <=(\d+) items?$/, (m) => `at most ${m[1]} values`],
  [/^Invalid option: expected one of (.+)$/, (m) => `one of ${m[1]!.replace(/"/g, '').split('|').join(', ')}`],
  // The schema's own words, with what adds nothing dropped: the 32-bit ceiling no one types
  // into a seed, "finite" (the field takes text, so what was typed was no number at all).
  [/^expected a whole number from (\S+) to 2147483647$/, (m) => `a whole number, at least ${m[1]}`],
  [/^expected a finite number$/, () => 'a number'],
  [/^expected (.+)$/, (m) => m[1]!],
];

/** The part of a schema message after the refused value ("-1: Too small: ..." → "Too small: ..."). */
function withoutValue(message: string): string {
  // The value is JSON: a number, a quoted string, null, true/false, or an array/object.
  const m = /^(-?[\d.eE+-]+|"(?:[^"\\]|\\.)*"|null|true|false|\[.*?\]|\{.*?\}): (.+)$/s.exec(message);
  return m ? m[2]! : message;
}

/** One problem's message in plain words. */
export function plainMessage(message: string): string {
  const rest = withoutValue(message).trim();
  for (const [pattern, words] of rules) {
    const m = rest.match(pattern);
    if (m) return words(m);
  }
  return rest;
}

/**
 * Problems of list elements (`eval.epsGrid.2`) moved onto the list's own field (`eval.epsGrid`),
 * which is the input the user typed them in, naming the value by its place: "3rd value (-1): at
 * least 0". `lists` are the paths of the form's list fields.
 */
export function onListFields(problems: readonly FieldProblem[], lists: ReadonlySet<string>): FieldProblem[] {
  return problems.map((p) => {
    const m = /^(.*)\.(\d+)$/.exec(p.path);
    if (!m || !lists.has(m[1]!)) return p;
    const index = Number(m[2]);
    const value = /^(-?[\d.eE+-]+|"(?:[^"\\]|\\.)*"|null): /.exec(p.message)?.[1];
    return { path: m[1]!, message: `${ordinal(index + 1)} value${value !== undefined ? ` (${value.replace(/^"|"$/g, '')})` : ''}: ${plainMessage(p.message)}` };
  });
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
