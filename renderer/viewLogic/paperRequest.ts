/**
 * The Paper page's settings as the user writes them (a preset, seeds, the ranks of C5's sweep,
 * and changes to the preset as `path=value` lines, exactly what `lab figures --set` takes) and as
 * the paper.* methods take them. Every line is checked here against the schema's paths, so a
 * typo is named at its line before anything is asked of the engine.
 */
import type { ApiParams } from '../../shared/api.ts';
import type { ExperimentInput } from '../../shared/config.ts';
import { ConfigError } from '../../shared/config.ts';
import { parseConfigValue, setConfigPath } from '../../shared/configPath.ts';
import { paperDefaults } from '../../shared/paper.ts';

export interface PaperSettings {
  readonly preset: string;
  readonly seeds: number;
  readonly ranks: readonly number[];
  /** C3 against dimension: the d of each point (empty: none). */
  readonly dimensions: readonly number[];
  /** `path=value`, one change each. */
  readonly sets: readonly string[];
}

export const defaultPaperSettings: PaperSettings = { preset: paperDefaults.preset, seeds: paperDefaults.seeds, ranks: paperDefaults.ranks, dimensions: paperDefaults.dimensions, sets: [] };

export interface SettingProblem {
  /** `seeds`, `ranks`, or `set N` (1-based line of the changes). */
  readonly where: string;
  readonly message: string;
}

/** The changes as an input to lay over the preset, or the lines that are wrong. */
export function inputFromSets(sets: readonly string[]): { input: ExperimentInput; problems: SettingProblem[] } {
  let input: ExperimentInput = {};
  const problems: SettingProblem[] = [];
  sets.forEach((line, i) => {
    const eq = line.indexOf('=');
    if (eq <= 0) {
      problems.push({ where: `change ${i + 1}`, message: `"${line}": expected path=value, e.g. task.d=64` });
      return;
    }
    try {
      input = setConfigPath(input, line.slice(0, eq).trim(), parseConfigValue(line.slice(eq + 1).trim()));
    } catch (error) {
      problems.push({ where: `change ${i + 1}`, message: error instanceof ConfigError ? error.message : String(error) });
    }
  });
  return { input, problems };
}

/** "1, 2, 4, 8" → [1, 2, 4, 8], or what is wrong. */
export function parseRanks(text: string): { ranks: number[] } | { problem: SettingProblem } {
  const parts = text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);
  const ranks = parts.map(Number);
  if (ranks.length === 0 || ranks.some((r) => !Number.isInteger(r) || r < 1)) return { problem: { where: 'ranks', message: `"${text}": expected positive whole numbers, e.g. 1, 2, 4, 8` } };
  if (ranks.length > paperDefaults.maxRanks) return { problem: { where: 'ranks', message: `at most ${paperDefaults.maxRanks} ranks` } };
  return { ranks };
}

/** "64, 128, 256" → [64, 128, 256]; empty → none; or what is wrong. */
export function parseDimensions(text: string): { dimensions: number[] } | { problem: SettingProblem } {
  const dimensions = text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  if (dimensions.some((d) => !Number.isInteger(d) || d < 1)) return { problem: { where: 'dimensions', message: `"${text}": expected positive whole numbers, e.g. 64, 128, 256, 512, 1024 (or nothing)` } };
  if (dimensions.length > paperDefaults.maxDimensions) return { problem: { where: 'dimensions', message: `at most ${paperDefaults.maxDimensions} dimensions` } };
  return { dimensions };
}

/** The params of paper.plan / .start / .figures for these settings (their changes must parse). */
export function paperParams(settings: PaperSettings, input: ExperimentInput): ApiParams<'paper.plan'> {
  return {
    preset: settings.preset,
    seeds: settings.seeds,
    ranks: [...settings.ranks],
    ...(settings.dimensions.length > 0 ? { dimensions: [...settings.dimensions] } : {}),
    ...(Object.keys(input).length > 0 ? { input } : {}),
  };
}

/** Settings from the URL, with the defaults for what it leaves out. */
export function settingsFromRoute(route: { preset?: string; seeds?: number; ranks?: readonly number[]; dimensions?: readonly number[]; sets: readonly string[] }): PaperSettings {
  return {
    preset: route.preset ?? defaultPaperSettings.preset,
    seeds: route.seeds ?? defaultPaperSettings.seeds,
    ranks: route.ranks ?? defaultPaperSettings.ranks,
    dimensions: route.dimensions ?? defaultPaperSettings.dimensions,
    sets: route.sets,
  };
}
