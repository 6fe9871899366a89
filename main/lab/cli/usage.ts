/** The CLI's help text and its usage error. */
import { backendRequests } from '../../engine/backend/chooseBackend.ts';
import { defaultJobs } from '../jobCount.ts';
import { defaultThreads } from '../threadCount.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const usage = `Usage: npm run lab -- <verb> [options]

Run experiments
  run                 run an experiment, record it in the store, print the clean-vs-final summary
  sweep               run a grid over config fields x seeds; print mean ± std over seeds
  sweep ... --slurm DIR  write the sweep as a Slurm job array folder instead (--submit: sbatch it too)
  sweep status DIR    each member of a Slurm sweep: queued, running (last epoch), finished, failed, interrupted
  sweep resubmit DIR  submit again the failed and interrupted members; they continue from their checkpoints
  import SOURCE       bring run folders into the store: a Slurm job folder, a store, a run folder, or a .tar.gz
  resume ID           continue an interrupted run from its last checkpoint
  eval                evaluate a saved two-layer model on a dataset file
  figures --out DIR   one figure per claim of the paper (C1-C5), mean ± std over --seeds N (3, at most 10),
                      SVG/PNG/PDF + CSV + summary.html; --preset quick by default, --set as for run,
                      --ranks 1,2,4,8 the low-rank sweep of C5; reuses finished runs (the Paper page's too);
                      --dimensions 64,128,256,512,1024 adds C3 against d (m = d, rho auto; one seed above 512)
  baselines [ID]      C4: linear, quadratic, random-features and tangent baselines (clean and adversarial) beside the network ([run options], or a stored run)

Look at runs
  runs                list runs (--status S, --sweep ID, --grep TEXT)
  show ID             one run: config, provenance, summary
  compare ID ID...    config diff (only fields that differ) and metrics side by side
  export ID...        --format svg|png|pdf|csv|json|safetensors|data|adversarial|adversarial-npz --out DIR (or --all for csv/json)
                      adversarial: x, delta, x + delta, y and both models' predictions as safetensors;
                      adversarial-npz: the same arrays as a NumPy .npz
  rename ID NAME      rename a run
  notes ID TEXT       set a run's notes
  rm ID...            delete runs (asks first unless --yes)

The store
  store check         check the database against the run folders; lists every problem (exit 1 if any)
  store rebuild       rebuild the database from the run folders (the old file is kept aside)
  files               list the weights and datasets added to the store
  files add FILE...   check weights (.safetensors) or datasets (.safetensors, .npz) and copy them into the store

Other
  presets             list the presets
  paths               list every config path that --set accepts

Options of run and sweep
  --preset NAME       flagship (default), scratch, linear, quick
  --config FILE       a JSON config, laid over the preset
  --set PATH=VALUE    set one field, e.g. --set train.attack.eps=0.2 (repeatable)
  --seed N            the run's seed
  --init-weights FILE start from these weights (model.init.file; run only): two-layer W, or a PyTorch MLP
  --name TEXT         the run's name; --notes TEXT its notes
  --backend NAME      force ${backendRequests.join(' | ')}
  --json FILE         write the full result (config, backend, metrics, instruments, summary)
  --checkpoint-every N  epochs between checkpoints (default 5)
  --jobs N, -j N      runs (and baseline sets) computing at once, each in its own worker: sweep, figures,
                      baselines (default: one per physical core, here ${defaultJobs({ uiOpen: false })})
  --threads N         kernel threads per run, which split each batch (two-layer net and image MLP on
                      wasm; default: the physical cores shared among the jobs at once, floor(cores /
                      jobs), here ${defaultThreads({ jobs: defaultJobs({ uiOpen: false }) })}); resume keeps a run's own count
  --no-fused          use plain tfjs ops even where fused wasm kernels exist
  sweep: --grid PATH=V1,V2,... (repeatable) --seeds N; --no-stack runs every member alone (by default
                      members of the same shapes compute as stacks, one per job, each member its own run)
  sweep --slurm DIR: --profile FILE (JSON of the options below), --partition P, --time T, --mem M,
                      --cpus-per-task N, --gres G, --max-parallel N, --sbatch LINE, --setup LINE (e.g.
                      'module load nodejs/20'), --project DIR (the checkout on the cluster), --submit

Options of eval
  --weights FILE      a .safetensors written by export (or any W [m, d] with a, b)
  --data FILE         a dataset (.safetensors or .npz with x, y, and optionally M, wstar)
  --set, --json       as for run (the model card, when present, sets the model)

Every verb that touches runs takes --store DIR (default: $PURIFICATION_LAB_STORE, else the
user data directory).
`;
