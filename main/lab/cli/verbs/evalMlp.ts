/**
 * `lab eval` of an MLP saved from PyTorch (../../mlpEvaluation.ts) on a dataset file of
 * class-index labels: clean accuracy, every gradient attack of the config over its eps grid and the
 * per-sample worst case, as for a run's image MLP; `--json` adds the robust curves, the hidden
 * units as pictures, the adversarial pictures and the logits. The shapes decide the model; a model
 * card, or `--set model.activation=...`, says what the tensors cannot (the activation: ReLU by
 * default, as `torch.nn.ReLU`). The dataset carries no data range, so attacks are not clipped to one.
 */
import { writeFileSync } from 'node:fs';
import type { BackendRequest } from '../../../engine/backend/chooseBackend.ts';
import { experimentInput } from '../../experimentInput.ts';
import type { DatasetFile } from '../../formats/datasetFile.ts';
import type { PytorchMlpWeights } from '../../formats/pytorchMlp.ts';
import { evaluateMlpFile } from '../../mlpEvaluation.ts';
import { prepareBackend } from '../../../engine/backend/prepareBackend.ts';
import type { CliIo } from '../cliIo.ts';
import { backendLine, type CliValues } from '../options.ts';
import { summaryTable } from '../summaryTable.ts';

export { pictureOf } from '../../mlpEvaluation.ts';

export async function evalMlp(values: CliValues, io: CliIo, weights: PytorchMlpWeights, data: DatasetFile): Promise<number> {
  const names = { weights: values.weights!, data: values.data! };
  const { info } = await prepareBackend({ backend: values.backend as BackendRequest | undefined, fused: false });
  io.stdout.write(backendLine(info));
  const result = evaluateMlpFile(weights, data, experimentInput({ sets: values.set }), names, { logits: Boolean(values.json) });
  io.stdout.write(`\n${summaryTable(result.config, result.summary, result.evaluation, 'model')}\n`);
  for (const u of result.unavailable) io.stdout.write(`unavailable: ${u}\n`);
  if (values.json) {
    const { config, evaluation, ...rest } = result;
    writeFileSync(values.json, JSON.stringify({ ...rest, model: config.model, eval: config.eval, backend: info, evaluations: [evaluation] }));
    io.stdout.write(`result written to ${values.json}\n`);
  }
  return 0;
}
