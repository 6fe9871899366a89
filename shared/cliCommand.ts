/**
 * An experiment as the command line that runs it: `npm run lab -- run --preset P --set path=value ...`
 * with one `--set` for each field that differs from the preset. The UI's "copy as CLI command" and
 * its Start both go through `configOverrides`, so the command a user copies runs exactly the
 * experiment the UI would start.
 */
import { experimentSchema, type ExperimentInput } from './config.ts';
import { flattenConfig } from './configDiff.ts';
import { setConfigPath } from './configPath.ts';

/** One field that differs from the preset: its dotted path and its value. */
export interface ConfigOverride {
  readonly path: string;
  readonly value: unknown;
}

/** The preset's tree with every default filled in (presets are valid by construction). */
function presetTree(presetConfig: ExperimentInput): Record<string, unknown> {
  return flattenConfig(experimentSchema.parse(presetConfig));
}

/** The discriminators of the tree's unions: a field below one needs its kind named. */
const unionKinds = new Set(['task.kind', 'model.kind']);

/**
 * The fields of `input` whose values differ from the preset's, in the schema's order. `input` is
 * laid over the preset's defaults first, so a partial input names only what it changes; an input
 * that does not parse is compared as it stands (its bad values are then overrides too, which is
 * what a user who copies the command would see refused by the CLI).
 * Arrays are single fields: `eval.epsGrid` and `eval.attacks` are replaced whole, as `--set` does.
 */
export function configOverrides(presetConfig: ExperimentInput, input: unknown): ConfigOverride[] {
  const base = presetTree(presetConfig);
  const parsed = experimentSchema.safeParse(input);
  const current = flattenConfig(parsed.success ? parsed.data : input);
  const out: ConfigOverride[] = [];
  const named = new Set<string>();
  for (const [path, value] of Object.entries(current)) {
    if (path === '' || value === undefined) continue;
    if (JSON.stringify(value) === JSON.stringify(base[path])) continue;
    // `task` and `model` are discriminated unions: a `--set model.width=64` over a preset that
    // leaves `model.kind` to its default would give an object without its discriminator, which
    // the schema refuses. Name the kind first whenever the preset itself does not. Other `kind`
    // fields (the training attack's, the optimiser's) are plain enums with defaults: naming them
    // would make one edit read as two changes.
    const keys = path.split('.');
    for (let i = 1; i < keys.length; i++) {
      const kindPath = `${keys.slice(0, i).join('.')}.kind`;
      if (!unionKinds.has(kindPath)) continue;
      if (kindPath === path || named.has(kindPath) || !(kindPath in base)) continue;
      if (valueAt(presetConfig, kindPath) !== undefined) continue;
      named.add(kindPath);
      out.push({ path: kindPath, value: current[kindPath] ?? base[kindPath] });
    }
    named.add(path);
    out.push({ path, value });
  }
  return out;
}

function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The preset's config with the overrides applied: the smallest input that says the same experiment. */
export function inputFromOverrides(presetConfig: ExperimentInput, overrides: readonly ConfigOverride[]): ExperimentInput {
  let input = structuredClone(presetConfig) as Record<string, unknown>;
  for (const o of overrides) input = setConfigPath(input, o.path, o.value);
  return input as ExperimentInput;
}

/** Characters a POSIX shell word may hold unquoted. */
const SHELL_SAFE = /^[A-Za-z0-9._,:/=+@%-]+$/;

/** One shell word: as is when safe, else single-quoted (a ' inside becomes '\''). */
export function shellWord(text: string): string {
  return SHELL_SAFE.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * A value as the CLI's `parseConfigValue` reads it back: JSON for numbers, booleans, null and
 * arrays; a bare word for strings, unless the word itself parses as JSON ("true", "3"), in
 * which case it is written as a JSON string so it stays a string.
 */
export function cliValue(value: unknown): string {
  if (typeof value === 'string') {
    try {
      JSON.parse(value);
      return JSON.stringify(value);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value);
}

export interface CliCommandArgs {
  readonly preset: string;
  readonly presetConfig: ExperimentInput;
  readonly input: unknown;
  readonly name?: string;
  readonly notes?: string;
}

/**
 * The command line that runs `input`: `npm run lab -- run --preset P [--set path=value]... [--seed N]
 * [--name TEXT] [--notes TEXT]`, each argument quoted for a POSIX shell. The seed, when it differs,
 * is given as `--seed`, the CLI's own flag for it.
 */
export function cliCommand(args: CliCommandArgs): string {
  const words = ['npm', 'run', 'lab', '--', 'run', '--preset', shellWord(args.preset)];
  let seed: unknown;
  for (const o of configOverrides(args.presetConfig, args.input)) {
    if (o.path === 'seed' && typeof o.value === 'number') {
      seed = o.value;
      continue;
    }
    words.push('--set', shellWord(`${o.path}=${cliValue(o.value)}`));
  }
  if (seed !== undefined) words.push('--seed', String(seed));
  if (args.name) words.push('--name', shellWord(args.name));
  if (args.notes) words.push('--notes', shellWord(args.notes));
  return words.join(' ');
}
