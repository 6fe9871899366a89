/**
 * `npm run lab -- <verb> [options]`: Purification Lab without a window.
 *
 *   run      run an experiment (the flagship preset by default) and print its summary
 *   presets  list the presets
 *   paths    list every config path that --set accepts
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../../shared/config.ts';
import { allConfigPaths } from '../../../shared/configPath.ts';
import { presets } from '../../../shared/presets.ts';
import { BackendError, backendRequests, describeBackend, type BackendRequest } from '../../engine/backend.ts';
import { DeadNetworkError } from '../../engine/experiment.ts';
import { resolveSources } from '../experimentInput.ts';
import { runHeadless } from '../runHeadless.ts';
import { progressView } from './progressBar.ts';
import { summaryTable } from './summaryTable.ts';

const usage = `Usage: npm run lab -- <verb> [options]

Verbs:
  run                 run an experiment and print the clean-vs-final summary
  presets             list the presets
  paths               list every config path that --set accepts

Options of run:
  --preset NAME       flagship (default), scratch, linear, quick
  --config FILE       a JSON config, laid over the preset
  --set PATH=VALUE    set one field, e.g. --set train.attack.eps=0.2 (repeatable)
  --seed N            the run's seed
  --backend NAME      force ${backendRequests.join(' | ')}
  --json FILE         write the full result (config, backend, metrics, instruments, summary)
  --no-fused          use plain tfjs ops even where fused wasm kernels exist
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        preset: { type: 'string' },
        config: { type: 'string' },
        set: { type: 'string', multiple: true },
        seed: { type: 'string' },
        backend: { type: 'string' },
        json: { type: 'string' },
        'no-fused': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const verb = positionals[0] ?? (values.help ? 'help' : 'run');
  if (values.help || verb === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  if (verb === 'presets') {
    for (const p of presets) process.stdout.write(`${p.name.padEnd(10)} ${p.description}\n`);
    return 0;
  }
  if (verb === 'paths') {
    process.stdout.write(allConfigPaths().join('\n') + '\n');
    return 0;
  }
  if (verb !== 'run') throw new UsageError(`Unknown verb "${verb}": expected run, presets or paths`);
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}"`);

  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed "${values.seed}": expected a non-negative integer`);
  }
  if (values.backend !== undefined && !(backendRequests as readonly string[]).includes(values.backend)) {
    throw new UsageError(`--backend "${values.backend}": expected one of ${backendRequests.join(', ')}`);
  }
  if (values.preset !== undefined && !presets.some((p) => p.name === values.preset)) {
    throw new UsageError(`--preset "${values.preset}": expected one of ${presets.map((p) => p.name).join(', ')}`);
  }
  const config = resolveSources({ preset: values.preset, configFile: values.config, sets: values.set, seed });
  const view = progressView(process.stderr);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const result = await runHeadless(config, {
    backend: values.backend as BackendRequest | undefined,
    fused: !values['no-fused'],
    signal: controller.signal,
    onBackend: (info) => process.stdout.write(`${describeBackend(info)}${info.fusedKernels ? ' | hot path: fused wasm kernels' : ''}\n`),
    onEvent: view.onEvent,
  });
  view.clear();
  const final = result.evaluations.find((e) => e.label === 'final');
  process.stdout.write(`\n${summaryTable(config, result.summary, final)}\n\n`);
  process.stdout.write(`seed ${config.seed}, ${result.timing.steps} steps in ${result.timing.seconds.toFixed(1)} s (training ${result.timing.trainSeconds.toFixed(1)} s)\n`);
  if (values.json) {
    writeFileSync(values.json, JSON.stringify(result));
    process.stdout.write(`result written to ${values.json}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${usage}`);
      process.exit(2);
    }
    if (error instanceof ConfigError || error instanceof BackendError || error instanceof DeadNetworkError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(error instanceof DeadNetworkError ? 3 : 2);
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
