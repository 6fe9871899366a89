/**
 * Assemble a user's experiment from the ways the CLI and the UI can state it, in order
 * of precedence: a preset, then a JSON config file, then each `--set path=value`, then `--seed`.
 * The result is resolved against the schema, so every error names its field.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, resolveExperiment, type ExperimentInput, type ResolvedExperiment } from '../../shared/config.ts';
import { mergeConfig, parseConfigValue, setConfigPath } from '../../shared/configPath.ts';
import { defaultPresetName, presetByName } from '../../shared/presets.ts';

export interface ExperimentSources {
  readonly preset?: string | undefined;
  readonly configFile?: string | undefined;
  readonly sets?: readonly string[] | undefined;
  readonly seed?: number | undefined;
}

/** Read a JSON config file, with errors that name the file. */
export function readConfigFile(path: string): ExperimentInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : ((error as NodeJS.ErrnoException).code ?? String(error));
    throw new ConfigError(`Cannot read the config file ${path}: ${reason}`, [{ path, message: reason }]);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected a JSON object at the top level');
    return value as ExperimentInput;
  } catch (error) {
    throw new ConfigError(`The config file ${path} is not a valid config: ${(error as Error).message}`, [{ path, message: (error as Error).message }]);
  }
}

/** Apply one `path=value` assignment. */
export function applySet(config: ExperimentInput, assignment: string): ExperimentInput {
  const eq = assignment.indexOf('=');
  if (eq <= 0) {
    const message = `--set "${assignment}": expected path=value, for example --set train.attack.eps=0.2`;
    throw new ConfigError(message, [{ path: assignment, message }]);
  }
  return setConfigPath(config, assignment.slice(0, eq).trim(), parseConfigValue(assignment.slice(eq + 1).trim()));
}

/** The user's input before resolution (what "copy as CLI command" and run records keep). */
export function experimentInput(sources: ExperimentSources): ExperimentInput {
  let config: ExperimentInput = structuredClone(presetByName(sources.preset ?? defaultPresetName).config);
  if (sources.configFile) config = mergeConfig(config, readConfigFile(sources.configFile));
  for (const assignment of sources.sets ?? []) config = applySet(config, assignment);
  if (sources.seed !== undefined) config = { ...config, seed: sources.seed };
  return config;
}

/** Assemble and resolve; errors name the source and the field. */
export function resolveSources(sources: ExperimentSources): ResolvedExperiment {
  const source = sources.configFile ? `config (from ${sources.configFile} and the command line)` : 'config';
  return resolveExperiment(experimentInput(sources), source);
}
