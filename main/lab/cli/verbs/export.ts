/**
 * `lab export ID... --format F --out DIR`: a run's figure set (svg, png, pdf, through the same
 * chart builders as the UI), its metrics as tidy CSV or JSON (one row per run, epoch and metric;
 * `--all` for every run in the store), its weights (safetensors), its dataset (`data`), or its
 * adversarial examples (`adversarial`: safetensors, `adversarial-npz`: NumPy .npz; see
 * ../../export/adversarialFile.ts). With two
 * or more runs, the figures include their comparison (comparison/), as the Compare view draws it.
 * File names are sanitised, so nothing is ever written outside DIR.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sparseCodingOnly } from '../../../../shared/config.ts';
import { figureSet, pictureFigures } from '../../../../shared/charts/index.ts';
import { sparseCodingTask } from '../../../engine/tasks/sparseCoding.ts';
import { encodeAdversarialFile } from '../../export/adversarialFile.ts';
import { comparisonFigures } from '../../export/comparisonFigures.ts';
import { exportFigure, exportSvgDocument, type ExportFormat } from '../../export/render.ts';
import { tidyCsv, tidyRows } from '../../export/tidyMetrics.ts';
import { writeDatasetFile } from '../../formats/datasetFile.ts';
import { fileInside as inside, savedWeights } from '../../runExport.ts';
import { openStore, type Verb } from '../options.ts';
import { UsageError } from '../usage.ts';

const formats = ['svg', 'png', 'pdf', 'csv', 'json', 'safetensors', 'data', 'adversarial', 'adversarial-npz'] as const;
type Format = (typeof formats)[number];

export const exportVerb: Verb = async (values, rest, io) => {
  const requested = (values.format ?? []).flatMap((f) => f.split(','));
  if (requested.length === 0) throw new UsageError(`export needs --format (${formats.join(', ')})`);
  for (const f of requested) if (!(formats as readonly string[]).includes(f)) throw new UsageError(`--format "${f}": expected one of ${formats.join(', ')}`);
  if (!values.out) throw new UsageError('export needs --out DIR');
  if (rest.length === 0 && !values.all) throw new UsageError('export needs run ids, or --all');
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  const store = openStore(values, io);
  try {
    const runs = values.all ? store.list() : rest.map((id) => store.get(id));
    const written: string[] = [];
    for (const format of new Set(requested as Format[])) {
      if (format === 'csv' || format === 'json') {
        const rows = tidyRows(store, runs);
        const name = runs.length === 1 ? `${runs[0]!.id}-metrics.${format}` : `metrics.${format}`;
        const path = inside(out, name);
        if (format === 'csv') writeFileSync(path, tidyCsv(rows));
        else writeFileSync(path, JSON.stringify({ runs: runs.map((r) => ({ id: r.id, name: r.name, notes: r.notes, status: r.status, config: r.config, configHash: r.configHash, codeVersion: r.codeVersion, summary: r.summary })), metrics: rows }, null, 1));
        written.push(path);
        continue;
      }
      if (format === 'svg' || format === 'png' || format === 'pdf') {
        // Two or more runs: their comparison figures too, as the Compare view draws them.
        const compared = comparisonFigures(runs.map((run) => ({ id: run.id, name: run.name, result: store.result(run.id) })));
        for (const figure of compared) written.push(...(await exportFigure(figure.option, inside(out, 'comparison'), figure.name, [format], 'column')));
      }
      for (const run of runs) {
        if (format === 'svg' || format === 'png' || format === 'pdf') {
          const result = store.result(run.id);
          const dir = inside(out, run.id);
          for (const figure of figureSet(result)) {
            written.push(...(await exportFigure(figure.option, dir, figure.name, [format as ExportFormat], figure.size ?? 'column')));
          }
          for (const picture of pictureFigures(result)) {
            written.push(...(await exportSvgDocument(picture.svg, dir, picture.name, [format as ExportFormat], picture.size)));
          }
        } else if (format === 'safetensors') {
          const weights = savedWeights(run);
          for (const w of weights) {
            const path = inside(out, `${run.id}-weights-${w.label}.safetensors`);
            copyFileSync(w.path, path);
            written.push(path);
          }
          if (weights.length === 0) io.stderr.write(`run ${run.id} has no saved weights yet (status ${run.status})\n`);
        } else if (format === 'adversarial' || format === 'adversarial-npz') {
          const examples = run.status === 'finished' ? store.result(run.id).adversarial : undefined;
          if (!examples) {
            io.stderr.write(`run ${run.id} has no adversarial examples (${run.status !== 'finished' ? `status ${run.status}: they are made when a run finishes` : 'eval.pictures asked for none, no gradient attack ran, or the run predates them'})\n`);
            continue;
          }
          const kind = format === 'adversarial' ? 'safetensors' : 'npz';
          const path = inside(out, `${run.id}-adversarial.${kind}`);
          writeFileSync(path, encodeAdversarialFile(examples, kind, path));
          written.push(path);
        } else if (format === 'data') {
          // The task is deterministic in (config, seed): regenerate it rather than store it.
          const task = sparseCodingTask(sparseCodingOnly(run.config, '--format data').task, run.config.seed, run.config.eval.testSize);
          for (const [part, set] of [['train', task.train], ['test', task.test]] as const) {
            const path = inside(out, `${run.id}-data-${part}.safetensors`);
            writeDatasetFile(path, { x: set.x, y: set.y, n: set.n, d: set.d, labelKind: 'binary', classes: 2, dictionary: task.dictionary, teacher: task.teacher, atoms: task.atoms });
            written.push(path);
          }
        }
      }
    }
    for (const path of written) io.stdout.write(`${path}\n`);
    return 0;
  } finally {
    store.close();
  }
};
