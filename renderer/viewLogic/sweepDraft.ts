/**
 * The setup form's sweep section as data: grid rows typed as text ("train.attack.eps" and
 * "0.1, 0.2, 0.3"), turned into the API's grid. Values are read as JSON where they parse (numbers,
 * true, null, "quoted text") and as plain text otherwise, as `--grid` reads them; each problem
 * names its row.
 */
export interface GridRowDraft {
  path: string;
  values: string;
}

export type GridValue = number | string | boolean | null;

export interface SweepGridResult {
  readonly grid: { path: string; values: GridValue[] }[];
  readonly problems: string[];
}

function parseValue(text: string): GridValue {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || ['number', 'string', 'boolean'].includes(typeof value)) return value as GridValue;
  } catch {
    // plain text, as the CLI's --grid takes it
  }
  return text;
}

export function sweepGrid(rows: readonly GridRowDraft[], knownPath: (path: string) => boolean): SweepGridResult {
  const problems: string[] = [];
  const grid = rows.map((row, i) => {
    const path = row.path.trim();
    const values = row.values.split(',').map((v) => v.trim()).filter((v) => v !== '').map(parseValue);
    if (!path) problems.push(`grid row ${i + 1}: name a config field, such as train.attack.eps`);
    else if (!knownPath(path)) problems.push(`grid row ${i + 1}: "${path}" is not a config field`);
    if (values.length === 0) problems.push(`grid row ${i + 1}: give at least one value, separated by commas`);
    return { path, values };
  });
  if (rows.length === 0) problems.push('add at least one grid row');
  return { grid, problems };
}
