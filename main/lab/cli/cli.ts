/**
 * `npm run lab -- <verb> [options]`, as a function: parse the arguments, load the verb's module
 * on demand (`lab runs` should not pay for the chart renderer), run it, and turn an error into
 * one clear message and an exit code (exitCode.ts). Runs nothing when imported, so tests call the
 * verbs in-process; lab.ts is the process around it.
 */
import { parseArgs } from 'node:util';
import type { CliIo } from './cliIo.ts';
import { exitCodeOf, isExpectedError } from './exitCode.ts';
import { cliOptions, type Verb } from './options.ts';
import { usage, UsageError } from './usage.ts';

/** Each verb's module, imported when the verb is used. */
const verbs: Readonly<Record<string, () => Promise<Verb>>> = {
  run: async () => (await import('./verbs/run.ts')).runVerb,
  sweep: async () => (await import('./verbs/sweep.ts')).sweepVerb,
  resume: async () => (await import('./verbs/resume.ts')).resumeVerb,
  eval: async () => (await import('./verbs/eval.ts')).evalVerb,
  baselines: async () => (await import('./verbs/baselines.ts')).baselinesVerb,
  figures: async () => (await import('./verbs/figures.ts')).figuresVerb,
  runs: async () => (await import('./verbs/runs.ts')).runsVerb,
  show: async () => (await import('./verbs/show.ts')).showVerb,
  compare: async () => (await import('./verbs/compare.ts')).compareVerb,
  export: async () => (await import('./verbs/export.ts')).exportVerb,
  rename: async () => (await import('./verbs/rename.ts')).renameVerb,
  notes: async () => (await import('./verbs/notes.ts')).notesVerb,
  rm: async () => (await import('./verbs/rm.ts')).rmVerb,
  store: async () => (await import('./verbs/store.ts')).storeVerb,
  files: async () => (await import('./verbs/files.ts')).filesVerb,
  import: async () => (await import('./verbs/slurm.ts')).importVerb,
  presets: async () => (await import('./verbs/reference.ts')).presetsVerb,
  paths: async () => (await import('./verbs/reference.ts')).pathsVerb,
  help: async () => (await import('./verbs/reference.ts')).helpVerb,
};

/** A full disk met outside the store (an --out or --json file), said in one sentence. */
function diskFullMessage(error: unknown): string | null {
  const e = error as NodeJS.ErrnoException | null;
  if (e?.code !== 'ENOSPC' && e?.code !== 'EDQUOT' && e?.code !== 'SQLITE_FULL') return null;
  return `No space left on the disk${e.path ? ` writing ${e.path}` : ''}: free some space and try again`;
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: cliOptions });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  // `lab figures --help` asks for help, not for a figures run without its --out.
  const verb = values.help ? 'help' : (positionals[0] ?? 'run');
  const load = Object.hasOwn(verbs, verb) ? verbs[verb] : undefined;
  if (!load) throw new UsageError(`Unknown verb "${verb}": see the list below`);
  return (await load())(values, positionals.slice(1), io);
}

/** Run the CLI on `argv` (the words after `lab`); resolves with the exit status, never rejects. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\n\n${usage}`);
      return 2;
    }
    if (isExpectedError(error)) {
      io.stderr.write(`${error.message}\n`);
      return exitCodeOf(error.name);
    }
    const diskFull = diskFullMessage(error);
    io.stderr.write(`${diskFull ?? (error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
    return 1;
  }
}
