/**
 * `npm run lab -- <verb> [options]`: Purification Lab without a window. Each verb lives in its
 * own module; this file parses the arguments, opens the store, and turns errors into one clear
 * message and an exit code (2: bad input, 3: dead network, 1: anything else).
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../../../shared/config.ts';
import { allConfigPaths } from '../../../shared/configPath.ts';
import { presets } from '../../../shared/presets.ts';
import { BackendError } from '../../engine/backend.ts';
import { DeadNetworkError } from '../../engine/experiment.ts';
import { FormatError } from '../formats/formatError.ts';
import { DiskFullError, StoreError } from '../store/runStore.ts';
import { cliOptions, openStore } from './options.ts';
import { usage, UsageError } from './usage.ts';

// Verbs load their modules on demand: `lab runs` should not pay for the chart renderer.
const runVerbs = () => import('./runCommand.ts');
const runsVerbs = () => import('./runsCommand.ts');

/** A full disk met outside the store (an --out or --json file), said in one sentence. */
function diskFullMessage(error: unknown): string | null {
  const e = error as NodeJS.ErrnoException | null;
  if (e?.code !== 'ENOSPC' && e?.code !== 'EDQUOT' && e?.code !== 'SQLITE_FULL') return null;
  return `No space left on the disk${e.path ? ` writing ${e.path}` : ''}: free some space and try again`;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: cliOptions });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const verb = positionals[0] ?? (values.help ? 'help' : 'run');
  const rest = positionals.slice(1);
  // `lab figures --help` asks for help, not for a figures run without its --out.
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  switch (verb) {
    case 'help':
      process.stdout.write(usage);
      return 0;
    case 'presets':
      for (const p of presets) process.stdout.write(`${p.name.padEnd(10)} ${p.description}\n`);
      return 0;
    case 'paths':
      process.stdout.write(allConfigPaths().join('\n') + '\n');
      return 0;
    case 'run':
      return (await runVerbs()).runCommand(values, rest);
    case 'sweep':
      if (rest.length > 0) return (await import('./slurmCommand.ts')).slurmSweepVerb(values, rest);
      return (await runVerbs()).sweepCommand(values, rest);
    case 'import':
      return (await import('./slurmCommand.ts')).importVerb(values, rest);
    case 'resume':
      return (await runVerbs()).resumeCommand(values, rest);
    case 'eval':
      return (await import('./evalCommand.ts')).evalCommand(values, rest);
    case 'baselines':
      return (await import('./baselinesCommand.ts')).baselinesCommand(values, rest);
    case 'runs':
      return (await runsVerbs()).listCommand(values, rest);
    case 'show':
      return (await runsVerbs()).showCommand(values, rest);
    case 'compare':
      return (await runsVerbs()).compareCommand(values, rest);
    case 'figures':
      return (await import('./figuresCommand.ts')).figuresCommand(values, rest);
    case 'export':
      return (await import('./exportCommand.ts')).exportCommand(values, rest);
    case 'rm':
      return (await runsVerbs()).removeCommand(values, rest);
    case 'files':
      return (await import('./filesCommand.ts')).filesCommand(values, rest);
    case 'store':
      return (await import('./storeCommand.ts')).storeCommand(values, rest);
    case 'rename':
    case 'notes': {
      if (rest.length < 2) throw new UsageError(`${verb} needs an id and the new ${verb === 'rename' ? 'name' : 'notes'}`);
      const store = openStore(values);
      try {
        const run = store.get(rest[0]!);
        if (verb === 'rename') store.rename(run.id, rest.slice(1).join(' '));
        else store.setNotes(run.id, rest.slice(1).join(' '));
        process.stdout.write(`${run.id}: ${verb === 'rename' ? 'renamed' : 'notes saved'}\n`);
      } finally {
        store.close();
      }
      return 0;
    }
    default:
      throw new UsageError(`Unknown verb "${verb}": see the list below`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${usage}`);
      process.exit(2);
    }
    if (['JobFolderError', 'SlurmSetupError', 'SubmitError', 'ImportError'].includes((error as Error | null)?.name ?? '')) {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(2);
    }
    if (error instanceof ConfigError || error instanceof BackendError || error instanceof StoreError || error instanceof FormatError || error instanceof DeadNetworkError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(error instanceof DeadNetworkError ? 3 : error instanceof DiskFullError ? 1 : 2);
    }
    const diskFull = diskFullMessage(error);
    process.stderr.write(`${diskFull ?? (error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
    process.exit(1);
  },
);
