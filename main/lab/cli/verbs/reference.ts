/**
 * The reference verbs, each one line, grouped here: `lab presets` (the presets), `lab paths`
 * (every config path --set and --grid accept) and `lab help` (the usage).
 */
import { allConfigPaths } from '../../../../shared/configPath.ts';
import { presets } from '../../../../shared/presets.ts';
import type { Verb } from '../options.ts';
import { usage } from '../usage.ts';

export const presetsVerb: Verb = (_values, _rest, io) => {
  for (const p of presets) io.stdout.write(`${p.name.padEnd(10)} ${p.description}\n`);
  return 0;
};

export const pathsVerb: Verb = (_values, _rest, io) => {
  io.stdout.write(allConfigPaths().join('\n') + '\n');
  return 0;
};

export const helpVerb: Verb = (_values, _rest, io) => {
  io.stdout.write(usage);
  return 0;
};
