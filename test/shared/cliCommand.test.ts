/** "Copy as CLI command": the command names only what differs from the preset, and runs the same experiment. */
import { describe, expect, it } from 'vitest';
import { experimentInput } from '../../main/lab/experimentInput.ts';
import { cliCommand, cliValue, configOverrides, inputFromOverrides, shellWord } from '../../shared/cliCommand.ts';
import { experimentSchema, resolveExperiment } from '../../shared/config.ts';
import { mergeConfig } from '../../shared/configPath.ts';
import { presetByName } from '../../shared/presets.ts';

/** Split a POSIX command line the way a shell would (single quotes only, as shellWord writes). */
function shellSplit(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quoted = false;
  let inWord = false;
  let escaped = false;
  for (const ch of line) {
    if (escaped) {
      word += ch;
      escaped = false;
    } else if (quoted) {
      if (ch === "'") quoted = false;
      else word += ch;
    } else if (ch === "'") {
      quoted = true;
      inWord = true;
    } else if (ch === '\\') {
      escaped = true;
      inWord = true;
    } else if (ch === ' ') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** What the CLI would run for these words (`npm run lab -- run` stripped). */
function cliInput(words: string[]) {
  const rest = words.slice(5);
  let preset: string | undefined;
  let seed: number | undefined;
  const sets: string[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i]!, rest[i + 1]!];
    if (flag === '--preset') preset = value;
    else if (flag === '--set') sets.push(value);
    else if (flag === '--seed') seed = Number(value);
  }
  return experimentInput({ preset, sets, seed });
}

/** What the UI holds: the preset with every default filled in, then the user's edits. */
function draft(presetName: string, change: object) {
  return mergeConfig(experimentSchema.parse(presetByName(presetName).config), change);
}

describe('cliCommand', () => {
  const quick = presetByName('quick');

  it('is the bare preset when nothing differs', () => {
    expect(cliCommand({ preset: 'quick', presetConfig: quick.config, input: quick.config })).toBe('npm run lab -- run --preset quick');
    // Defaults written out explicitly are not differences.
    const explicit = resolveExperiment(quick.config);
    expect(configOverrides(quick.config, { ...explicit, eval: { ...explicit.eval, eps: null, norm: null } })).toEqual([]);
  });

  it('names each differing field with --set, the seed with --seed', () => {
    const input = draft('quick', { seed: 3, train: { cleanEpochs: 5, optimizer: { kind: 'adam' } } });
    expect(cliCommand({ preset: 'quick', presetConfig: quick.config, input })).toBe(
      'npm run lab -- run --preset quick --set train.cleanEpochs=5 --set train.optimizer.kind=adam --seed 3',
    );
  });

  it('replaces arrays whole and quotes what a shell would split', () => {
    const flagship = presetByName('flagship');
    const input = draft('flagship', {
      eval: { epsGrid: [0, 0.25, 0.5], attacks: [{ kind: 'fgm' }, { kind: 'mixture-direction' }] },
      task: { atoms: 64 },
    });
    const command = cliCommand({ preset: 'flagship', presetConfig: flagship.config, input, name: "Tom's run", notes: 'k = 5' });
    // The flagship preset leaves task.kind to its default: the command names it, or --set would refuse.
    expect(command).toContain('--set task.kind=sparse-coding --set task.atoms=64');
    expect(command).toContain("--set 'eval.epsGrid=[0,0.25,0.5]'");
    expect(command).toContain(`--set 'eval.attacks=[{"kind":"fgm","clip":true},{"kind":"mixture-direction"}]'`);
    expect(command).toContain(`--name 'Tom'\\''s run' --notes 'k = 5'`);
    const words = shellSplit(command);
    expect(words).toContain("Tom's run");
  });

  it('runs in the CLI exactly the experiment the UI holds', () => {
    const cases = [
      { preset: 'quick', change: { train: { cleanEpochs: 5 }, eval: { every: 2 } } },
      { preset: 'flagship', change: { seed: 7, model: { threshold: { mode: 'learned', value: 0.1 } }, eval: { eps: 0.2, norm: 'linf' } } },
      { preset: 'scratch', change: { train: { attack: { kind: 'fgm', stepSize: 0.05 } }, eval: { epsGrid: [0, 0.3] } } },
      { preset: 'linear', change: {} },
    ];
    for (const c of cases) {
      const preset = presetByName(c.preset);
      const input = draft(c.preset, c.change);
      const words = shellSplit(cliCommand({ preset: c.preset, presetConfig: preset.config, input }));
      expect(resolveExperiment(cliInput(words)), c.preset).toEqual(resolveExperiment(input));
      // And the smallest input the UI sends resolves to the same experiment.
      const minimal = inputFromOverrides(preset.config, configOverrides(preset.config, input));
      expect(resolveExperiment(minimal), c.preset).toEqual(resolveExperiment(input));
    }
  });

  it('keeps strings that look like JSON as strings', () => {
    expect(cliValue('adam')).toBe('adam');
    expect(cliValue('true')).toBe('"true"');
    expect(cliValue(0.5)).toBe('0.5');
    expect(cliValue(null)).toBe('null');
    expect(shellWord('train.lr=0.5')).toBe('train.lr=0.5');
    expect(shellWord('a b')).toBe("'a b'");
  });

  it('reports a bad value as an override, so the copied command fails the same way', () => {
    const input = draft('quick', { train: { cleanEpochs: -3 } });
    expect(configOverrides(quick.config, input)).toContainEqual({ path: 'train.cleanEpochs', value: -3 });
  });
});
