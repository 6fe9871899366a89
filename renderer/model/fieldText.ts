/**
 * What each field of the experiment tree is called in the form, and a line of help: the symbol
 * SCIENCE.md uses and what it does. Paths with `*` stand for any array element. A field missing
 * here still appears in the form, under its key.
 */
export interface FieldText {
  readonly label: string;
  readonly help?: string;
  /** What null means, for nullable fields ("= d"). */
  readonly nullMeans?: string;
}

const texts: Readonly<Record<string, FieldText>> = {
  seed: { label: 'seed', help: 'Every random stream (data, init, shuffles, attack starts) derives from it.' },
  task: { label: 'Task: sparse coding', help: 'x = M z + ξ, y = sign(⟨w*, z⟩)' },
  'task.kind': { label: 'kind' },
  'task.d': { label: 'input dimension d' },
  'task.atoms': { label: 'dictionary size D', help: 'Orthonormal columns, so D ≤ d.', nullMeans: 'D = d' },
  'task.k': { label: 'non-zeros k', help: 'Active atoms per sample.' },
  'task.sparsity': { label: 'sparsity', help: 'exactly k, or each atom with probability k/D' },
  'task.magnitude': { label: 'code magnitude', help: 'Signs are always ±1.' },
  'task.noise': { label: 'noise σ', help: 'ξ ~ N(0, σ²/d I)' },
  'task.trainSize': { label: 'training samples' },
  model: { label: 'Model: two-layer network', help: 'f(x) = Σ aᵢ s_b(⟨wᵢ, x⟩), only W trains' },
  'model.kind': { label: 'kind' },
  'model.width': { label: 'hidden neurons m' },
  'model.outputWeight': { label: 'output weights aᵢ', help: '1, or 1/√m' },
  'model.threshold': { label: 'threshold b' },
  'model.threshold.mode': { label: 'mode', help: 'relative: bᵢ = ρ‖wᵢ‖; fixed b; learned bᵢ ≥ 0' },
  'model.threshold.ratio': { label: 'ratio ρ', help: 'Relative mode. 0 makes the network linear; ρ must shrink as d grows.' },
  'model.threshold.value': { label: 'value b', help: 'Fixed b, or the start of a learned b.' },
  'model.initScale': { label: 'init scale s₀', help: 'wᵢ ~ N(0, s₀²/d I)' },
  train: { label: 'Training' },
  'train.protocol': { label: 'protocol', help: 'fine-tune: clean, then adversarial from the clean weights (the paper’s)' },
  'train.cleanEpochs': { label: 'clean epochs' },
  'train.adversarialEpochs': { label: 'adversarial epochs' },
  'train.batchSize': { label: 'batch size' },
  'train.optimizer': { label: 'optimiser', help: 'A fresh one at each phase.' },
  'train.optimizer.kind': { label: 'kind' },
  'train.optimizer.lr': { label: 'learning rate' },
  'train.optimizer.momentum': { label: 'momentum', help: 'SGD only' },
  'train.optimizer.beta1': { label: 'β₁', help: 'Adam only' },
  'train.optimizer.beta2': { label: 'β₂', help: 'Adam only' },
  'train.optimizer.epsilon': { label: 'ε (Adam)', help: 'Adam only' },
  'train.schedule': { label: 'learning-rate schedule', help: 'Restarts at each phase.' },
  'train.schedule.kind': { label: 'kind' },
  'train.schedule.every': { label: 'every (epochs)', help: 'step schedule' },
  'train.schedule.gamma': { label: 'factor γ', help: 'step schedule' },
  'train.schedule.minLr': { label: 'final rate', help: 'cosine schedule' },
  'train.attack': { label: 'training attack', help: 'Makes the training batches adversarial.' },
  'train.attack.kind': { label: 'attack' },
  'train.attack.norm': { label: 'norm' },
  'train.attack.eps': { label: 'radius ε' },
  'train.attack.steps': { label: 'PGD steps T' },
  'train.attack.stepSize': { label: 'step size α', nullMeans: '2.5 ε / T' },
  'train.attack.randomStart': { label: 'random start' },
  'train.attack.clip': { label: 'clip to data range', help: 'Where the task has one (images).' },
  'train.mix': { label: 'batch mixing' },
  'train.mix.mode': { label: 'mode', help: 'replace the batch, or (1 − λ) clean + λ adversarial' },
  'train.mix.lambda': { label: 'λ' },
  'train.lowRank': { label: 'low-rank fine-tuning', help: 'W′ = W + U Vᵀ, W frozen at the clean weights (fine-tune protocol).' },
  'train.lowRank.rank': { label: 'rank r', nullMeans: 'full W trains' },
  'train.lowRank.initScale': { label: 'init scale of V', help: 'U starts at 0, so W′ = W at first.' },
  eval: { label: 'Evaluation' },
  'eval.noiseDraws': { label: 'random-noise draws', help: 'Random points per sample on each ε-sphere (0: no check).' },
  'eval.testSize': { label: 'test samples', help: 'Intervals are about ±0.01 at 2000.' },
  'eval.eps': { label: 'headline radius ε', nullMeans: 'the training ε' },
  'eval.norm': { label: 'norm', nullMeans: 'the training norm' },
  'eval.attacks': { label: 'attacks', help: 'The first is “the evaluation attack”; all go into the worst case.' },
  'eval.attacks.*.steps': { label: 'steps' },
  'eval.attacks.*.stepSize': { label: 'step size', nullMeans: '2.5 ε / steps' },
  'eval.attacks.*.randomStart': { label: 'random start' },
  'eval.attacks.*.restarts': { label: 'restarts' },
  'eval.attacks.*.clip': { label: 'clip' },
  'eval.epsGrid': { label: 'ε grid', help: 'Radii of the robust-accuracy curves, after each phase.' },
  'eval.every': { label: 'robust accuracy every (epochs)', help: '0: at phase ends only' },
  instruments: { label: 'Instruments' },
  'instruments.every': { label: 'snapshot every (epochs)', help: 'Per-neuron distributions.' },
  'instruments.coefficientsEvery': { label: 'coefficients every (epochs)', help: 'Neuron × atom matrices; 0: init and phase ends only.' },
  'instruments.principalAtoms': { label: 'principal atoms s', help: 'Size of a neuron’s principal part.' },
  'instruments.deadNetwork': { label: 'dead network', help: 'Stop before training, or warn.' },
};

/** The text of a field, by its path (array indices match `*`). */
export function fieldText(path: string, key: string): FieldText {
  return texts[path] ?? texts[path.replace(/\.\d+(?=\.|$)/g, '.*')] ?? { label: key };
}
