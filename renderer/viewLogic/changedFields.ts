/**
 * What the draft changes from its preset: the fields whose value differs from the preset's
 * resolved config (defaults written out), each with the preset's value, so the form can mark a
 * changed field and put it back. One edit is one change: nothing else is counted with it (the CLI
 * line may need more, e.g. a union's kind, which shared/cliCommand.ts adds on its own).
 * Lists (the eps grid, the attacks) are one field each, as `--set` treats them.
 */
import { experimentSchema, type ExperimentInput } from '../../shared/config.ts';
import { flattenConfig } from '../../shared/configDiff.ts';
import type { Draft } from './draft.ts';

export function changedFields(presetConfig: ExperimentInput, draft: Draft): Map<string, unknown> {
  const preset = flattenConfig(experimentSchema.parse(presetConfig));
  const current = flattenConfig(draft);
  const changed = new Map<string, unknown>();
  for (const [path, value] of Object.entries(current)) {
    if (JSON.stringify(value) !== JSON.stringify(preset[path])) changed.set(path, preset[path]);
  }
  return changed;
}
