/**
 * A job host's worker: its own tfjs instance, loaded once, running one task at a time for the
 * parent (jobHost.ts) off the parent's event loop. It never touches the run store: events,
 * checkpoints, weight files' bytes and results go back as messages, and the parent writes them.
 * A cancel arrives as a message, which the engine sees between epochs: after each, the worker
 * waits for the parent's `continue`, so a cancel the parent asked for while handling that epoch's
 * events is seen before the next epoch starts, exactly as in-process. A task that never yields
 * is stopped from outside (Worker.terminate).
 *
 * It runs as a worker_threads Worker (see jobHost.ts for why a thread and not a process).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sparseCodingOnly, type ImageExperiment } from '../../../shared/config.ts';
import { inputDim } from '../../../shared/modelSize.ts';
import { runBaselines } from '../../engine/baselines.ts';
import { runExperiment, RunCancelledError } from '../../engine/experiment.ts';
import type { ModelWeights } from '../../engine/testbeds/testbed.ts';
import { prepareBackend } from '../../engine/backend/prepareBackend.ts';
import { loadFusedKernels } from '../../engine/kernels/fusedKernels.ts';
import { kernelThreadPool } from '../../engine/kernels/threadPool.ts';
import { StackedProgram } from '../../engine/training/stackedProgram.ts';
import { WebgpuStackedProgram } from '../../engine/backend/webgpu/stackedWebgpuProgram.ts';
import type { BackendInfo } from '../../../shared/events.ts';
import { stacksOnKernels } from '../stacks.ts';
import { initialWeightsOf } from '../initialWeights.ts';
import { measureThroughput } from '../throughput.ts';
import { readDatasetFile } from '../formats/datasetFile.ts';
import { readInputFile } from '../formats/inputFile.ts';
import { decodePytorchMlp, readWeightTensors } from '../formats/pytorchMlp.ts';
import { evaluateMlpFile } from '../mlpEvaluation.ts';
import { encodeImageWeights, encodeWeights, imageModelCard, modelCard } from '../weightsFile.ts';
import { toWireError } from './wireError.ts';
import { stuckJobSeedVariable, workerExitSeedVariable, type FromWorker, type ToWorker, type WorkerSetup, type WorkerTask } from './messages.ts';

if (!parentPort) throw new Error('jobWorker.ts runs as a worker thread of the job host, not on its own');
const port = parentPort;
const setup = workerData as WorkerSetup;

const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/**
 * Test hooks, at a run's second epoch's metrics: spin without yielding, as a numerical routine
 * that never converges would (stuckJobSeedVariable); end this thread (workerExitSeedVariable).
 */
function faultIfAsked(seed: number): void {
  const asked = (variable: string) => process.env[variable] !== undefined && Number(process.env[variable]) === seed;
  if (asked(workerExitSeedVariable)) process.exit(1);
  if (!asked(stuckJobSeedVariable)) return;
  for (;;) {
    // deliberately endless and synchronous: only Worker.terminate ends it
  }
}

const controllers = new Map<number, AbortController>();

/**
 * The members of a stack (several experiment tasks posted together, jobHost.ts's startStack)
 * start one after another: each once the one before has finished its first epoch or ended, and
 * after the messages that came meanwhile are read. A member cancelled before its turn then ends
 * at once, instead of computing its data, its initial measurements and an epoch first (the
 * engine sees a cancel only between epochs). A lone task's turn comes at once.
 */
let nextTurn: Promise<void> = Promise.resolve();

async function takeTurn(signal: AbortSignal): Promise<() => void> {
  const turn = nextTurn;
  let release!: () => void;
  nextTurn = new Promise((resolve) => (release = resolve));
  await turn;
  await new Promise<void>((resolve) => setImmediate(resolve)); // read the messages that came meanwhile
  if (signal.aborted) {
    release();
    throw new RunCancelledError('The run was cancelled');
  }
  return release;
}

/** Per task: resolves the engine's wait at an epoch's end when the parent's `continue` arrives. */
const continuations = new Map<number, () => void>();

type Prepared = Awaited<ReturnType<typeof prepareBackend>>;

/** The backend and hot path per thread count, prepared once each (the backend itself loads once). */
const preparedByThreads = new Map<number, Promise<Prepared>>();
function preparedFor(threads: number): Promise<Prepared> {
  let prepared = preparedByThreads.get(threads);
  if (!prepared) {
    prepared = prepareBackend({ backend: setup.backend, ...(setup.fused === false ? { fused: false } : {}), threads });
    preparedByThreads.set(threads, prepared);
  }
  return prepared;
}

/**
 * Per thread count, the program a stack's members train in (the stack's kernels): one per worker,
 * since a worker runs one stack at a time and its members share their calls.
 */
const programs = new Map<number, Promise<StackedProgram | null>>();
function stackedProgram(threads: number): Promise<StackedProgram | null> {
  let program = programs.get(threads);
  if (!program) {
    program = loadFusedKernels().then((kernels) => (kernels ? new StackedProgram(kernelThreadPool(threads), kernels) : null));
    programs.set(threads, program);
  }
  return program;
}

/** The webgpu stack's program (the stacked WGSL kernels on tfjs's device), one per worker. */
let webgpuProgram: WebgpuStackedProgram | null = null;

/** The program a stack's member trains in on `backend`: the stacked WGSL kernels on webgpu, the kernel threads' stack on wasm. */
async function programFor(backend: BackendInfo, threads: number): Promise<Pick<StackedProgram, 'makeTrainer'> | null> {
  if (backend.name === 'webgpu') return (webgpuProgram ??= new WebgpuStackedProgram());
  return stackedProgram(threads);
}

async function run(taskId: number, task: WorkerTask, signal: AbortSignal, oneThread: Prepared): Promise<unknown> {
  switch (task.kind) {
    case 'experiment': {
      const config = task.config;
      const prepared = task.threads && task.threads > 1 ? await preparedFor(task.threads) : oneThread;
      const about = (label: string) => ({ configHash: task.weights?.configHash ?? '', codeVersion: task.weights?.codeVersion ?? '', checkpoint: label });
      const weightsFile = (label: string, weights: ModelWeights): Uint8Array =>
        weights.kind === 'two-layer'
          ? encodeWeights(modelCard(sparseCodingOnly(config, 'two-layer weights').model, inputDim(config), about(label)), weights.W, weights.b)
          : encodeImageWeights(imageModelCard(config as ImageExperiment, about(label)), weights.tensors);
      const program = task.stacked && stacksOnKernels(prepared.info, config) ? await programFor(prepared.info, task.threads ?? 1) : null;
      const alone = prepared.hooks.makeTrainer;
      const endTurn = await takeTurn(signal);
      try {
        const initialWeights = task.resume ? undefined : initialWeightsOf(config);
        return await runExperiment(config, prepared.info, {
          ...prepared.hooks,
          ...(program && alone ? { makeTrainer: (net, c) => program.makeTrainer(net, c) ?? alone(net, c) } : {}),
          ...(initialWeights ? { initialWeights } : {}),
          signal,
          afterEpoch: () =>
            new Promise<void>((resolve) => {
              endTurn(); // the next member of a stack may start
              continuations.set(taskId, resolve);
              send({ type: 'epoch-end', taskId });
            }),
          checkpointEvery: task.checkpointEvery,
          ...(task.resume ? { resume: task.resume } : {}),
          onCheckpoint: (checkpoint) => send({ type: 'checkpoint', taskId, checkpoint }),
          ...(task.weights
            ? {
                onWeights: (label: 'init' | 'after-clean' | 'final', weights: ModelWeights) => {
                  const bytes = weightsFile(label, weights);
                  send({ type: 'weights', taskId, label, bytes }, [bytes.buffer as ArrayBuffer]);
                },
              }
            : {}),
          onEvent: (event) => {
            send({ type: 'event', taskId, event });
            if (event.type === 'metrics' && event.globalEpoch >= 2) faultIfAsked(config.seed);
          },
        });
      } finally {
        endTurn();
      }
    }
    case 'baselines':
      return runBaselines(task.config, { signal, onEpoch: (epoch) => send({ type: 'baseline-epoch', taskId, epoch }) });
    case 'throughput':
      // On the thread count the queue's runs compute on, so the estimate is of the runs it starts.
      if (task.threads && task.threads > 1) {
        const prepared = await preparedFor(task.threads);
        return measureThroughput(prepared.info, task.steps, task.threads);
      }
      return measureThroughput(oneThread.info, task.steps);
    case 'evaluate-mlp': {
      const weights = decodePytorchMlp(readWeightTensors(readInputFile(task.weights, 'the weights'), task.names.weights), task.names.weights);
      return evaluateMlpFile(weights, readDatasetFile(task.data), task.input, task.names);
    }
  }
}

async function main(): Promise<void> {
  let prepared: Prepared;
  try {
    prepared = await preparedFor(1);
  } catch (error) {
    send({ type: 'setup-failed', error: toWireError(error) });
    return;
  }
  port.on('message', (message: ToWorker) => {
    if (message.type === 'cancel') {
      controllers.get(message.taskId)?.abort();
      return;
    }
    if (message.type === 'continue') {
      continuations.get(message.taskId)?.();
      continuations.delete(message.taskId);
      return;
    }
    const controller = new AbortController();
    controllers.set(message.taskId, controller);
    run(message.taskId, message.task, controller.signal, prepared).then(
      (result) => send({ type: 'done', taskId: message.taskId, result: result as never }),
      (error: unknown) => send({ type: 'failed', taskId: message.taskId, error: toWireError(error) }),
    ).finally(() => controllers.delete(message.taskId));
  });
  send({ type: 'ready', backend: prepared.info });
}

void main();
