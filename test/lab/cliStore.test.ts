/**
 * The run store from the command line, as a new user would try it: run, list, show, export the
 * figure set and the data, evaluate the exported weights on the exported dataset (which must
 * reproduce the run's own final numbers), compare, rename, notes, sweep with mean ± std, and
 * delete. The verbs run in-process (runCli); `rm` on a terminal runs as a real process, for the
 * argv, the terminal it asks on and its exit status.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../shared/config.ts';
import type { RunSummary } from '../../shared/events.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { labInProcess } from '../support/labCli.ts';
import { prerequisite } from '../support/prerequisite.ts';

const root = new URL('../../', import.meta.url).pathname;
const store = mkdtempSync(join(tmpdir(), 'lab-cli-store-'));

const lab = (args: string[]) => labInProcess(args, store);

const tiny = ['--preset', 'quick', '--set', 'task.d=24', '--set', 'model.width=16', '--set', 'task.trainSize=600', '--set', 'train.cleanEpochs=3', '--set', 'train.adversarialEpochs=2', '--set', 'eval.testSize=200'];

const terminal = prerequisite("util-linux's `script` (a terminal for `lab rm` to ask on)", spawnSync('script', ['--version']).status === 0 ? null : 'it is not installed');

describe('rm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-cli-rm-'));
  const rm = (args: string[]) => labInProcess(['rm', ...args, '--store', dir], dir);
  /** `lab rm` on a terminal (a pseudo-terminal from util-linux's `script`), typing `answer`. */
  const rmOnTerminal = (prefix: string, answer: string) =>
    spawnSync('script', ['-qec', `${process.execPath} --import tsx main/lab/cli/lab.ts rm ${prefix} --store ${dir}`, '/dev/null'], { cwd: root, encoding: 'utf8', input: `${answer}\n` });
  const create = (name: string) => {
    const store = RunStore.open(dir);
    try {
      const config = resolveExperiment({});
      return store.createRun({ input: {}, config, configHash: 'h', codeVersion: 'test', name }).id;
    } finally {
      store.close();
    }
  };
  const exists = (id: string) => {
    const store = RunStore.open(dir);
    try {
      return store.list().some((r) => r.id === id);
    } finally {
      store.close();
    }
  };

  it('takes a prefix; with no terminal it refuses without --yes, naming the whole ids, and --yes deletes', async () => {
    const id = create('to delete');
    const prefix = id.slice(0, 15);
    const refused = await rm([prefix]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`rm would delete ${id} (to delete): add --yes to confirm (there is no terminal to ask on)`);
    expect(exists(id)).toBe(true);
    const yes = await rm([prefix, '--yes']);
    expect(yes.stdout).toBe(`deleted ${id}\n`);
    expect(exists(id)).toBe(false);
    expect(existsSync(join(dir, 'runs', id))).toBe(false);
  }, 120_000);

  describe.skipIf(terminal.skip)('on a terminal', () => {
    beforeAll(() => terminal.require());

    it('as a process: asks first, naming the whole id a prefix matched: "n" keeps the run (exit 0), "y" deletes it', () => {
      const id = create('asked about');
      const prefix = id.slice(0, 15);
      const declined = rmOnTerminal(prefix, 'n');
      expect(declined.stdout).toContain(`Delete ${id} (asked about) and their folders? [y/N]`);
      expect(declined.stdout).toContain('nothing deleted');
      expect(declined.status).toBe(0);
      expect(exists(id)).toBe(true);
      const accepted = rmOnTerminal(prefix, 'y');
      expect(accepted.stdout).toContain(`deleted ${id}`);
      expect(exists(id)).toBe(false);
    }, 120_000);
  });
});

describe('the store from the CLI', () => {
  it('run, runs, show, export, eval, compare, rename, notes, sweep, rm', async () => {
    const first = await lab(['run', ...tiny, '--name', 'first tiny', '--notes', 'a note']);
    expect(first.code, first.stderr).toBe(0);
    const id = /run (\d{8}-\d{6}-[0-9a-f]{4}):/.exec(first.stdout)![1]!;

    const list = await lab(['runs']);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+finished\\s+first tiny`));
    const shown = (await lab(['show', id.slice(0, 15)])).stdout;
    expect(shown).toMatch(/notes\s+a note[\s\S]*config hash\s+[0-9a-f]{64}[\s\S]*"codeVersion"/);
    const { decomposition } = JSON.parse(readFileSync(join(store, 'runs', id, 'summary.json'), 'utf8')) as RunSummary;
    expect(shown).toContain(`clean -> robust: share of neurons with ||beta w'|| > ||v|| ${decomposition!.shareAboveOne.toFixed(3)}  (median ratio ${decomposition!.normRatio.summary.median.toFixed(3)})`);

    const out = mkdtempSync(join(tmpdir(), 'lab-export-'));
    const exported = await lab(['export', id, '--format', 'svg,png,csv,safetensors,data', '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const figures = readdirSync(join(out, id));
    for (const name of ['mixture-accumulation', 'mixture-ratio', 'accuracy-over-training', 'robust-accuracy-final', 'coefficient-heatmap', 'participation-coherence']) {
      expect(figures).toContain(`${name}.svg`);
      expect(figures).toContain(`${name}.png`);
    }
    expect(readFileSync(join(out, id, 'mixture-accumulation.svg'), 'utf8')).toMatch(/<svg[\s\S]*coherent mixture share/);
    expect(readFileSync(join(out, id, 'mixture-ratio.svg'), 'utf8')).toMatch(/<svg[\s\S]*mixture ratio[\s\S]*init median/);
    const csv = readFileSync(join(out, `${id}-metrics.csv`), 'utf8').split('\n');
    expect(csv[0]).toBe('run_id,run_name,preset,seed,sweep_id,global_epoch,phase,epoch,metric,value,lower,upper');
    expect(csv.filter((l) => l.includes(',clean_accuracy,'))).toHaveLength(6);

    // The exported weights on the exported test set reproduce the run's own final evaluation.
    const json = join(out, 'eval.json');
    const evaluated = await lab(['eval', '--weights', join(out, `${id}-weights-final.safetensors`), '--data', join(out, `${id}-data-test.safetensors`), '--json', json]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const runResult = JSON.parse((await lab(['export', id, '--format', 'json', '--out', out])).code === 0 ? readFileSync(join(out, `${id}-metrics.json`), 'utf8') : '{}');
    const evalResult = JSON.parse(readFileSync(json, 'utf8'));
    for (const key of ['cleanAccuracy', 'robustAccuracy', 'mixtureDirectionAccuracy', 'mixtureRatioMedian', 'participationRatioMedian']) {
      expect(evalResult.summary.final[key]).toBeCloseTo(runResult.runs[0].summary.final[key], 6);
    }

    const second = await lab(['run', ...tiny, '--seed', '1']);
    const id2 = /run (\d{8}-\d{6}-[0-9a-f]{4}):/.exec(second.stdout)![1]!;
    const compared = await lab(['compare', id, id2]);
    expect(compared.stdout).toMatch(/config field[\s\S]*^seed\s+0\s+1$/m);
    expect(compared.stdout).not.toMatch(/^task\.d/m); // only the fields that differ
    expect(compared.stdout).toMatch(/robust accuracy, final/);

    // rename and notes take an id prefix and the words after it; show and runs see the change.
    const renamed = await lab(['rename', id2.slice(0, 15), 'second', 'tiny']);
    expect([renamed.code, renamed.stdout]).toEqual([0, `${id2}: renamed\n`]);
    const noted = await lab(['notes', id2, 'seed', 'one']);
    expect([noted.code, noted.stdout]).toEqual([0, `${id2}: notes saved\n`]);
    expect((await lab(['show', id2])).stdout).toMatch(new RegExp(`^${id2}  second tiny\nstatus +finished\nnotes +seed one\n`));
    expect((await lab(['runs', '--grep', 'second'])).stdout.split('\n').slice(1)).toEqual([expect.stringMatching(new RegExp(`^${id2}  finished  second tiny `)), '']);
    expect((await lab(['rename', id2])).code).toBe(2);

    // files add checks a weights file and copies it into the store; files lists it.
    const added = await lab(['files', 'add', join(out, `${id}-weights-final.safetensors`)]);
    expect(added.code, added.stderr).toBe(0);
    const copied = added.stdout.split('\n')[0]!;
    expect(copied.startsWith(join(store, 'imports'))).toBe(true);
    expect(existsSync(copied)).toBe(true);
    const files = await lab(['files']);
    expect(files.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(` kB  ${copied.replaceAll('.', '\\.')}$`))]);

    const sweep = await lab(['sweep', ...tiny, '--grid', 'train.attack.eps=0.2,0.3', '--seeds', '2', '--jobs', '2']);
    expect(sweep.code, sweep.stderr).toBe(0);
    // Four members of one shape, two jobs: two stacks of two (stacks.ts).
    expect(sweep.stderr).toMatch(/: 4 runs \(2 grid points x 2 seeds\) in 2 stacks of runs computing together\n/);
    expect(sweep.stdout).toMatch(/^0\.2\s+2\s+\d\.\d{3} ± \d\.\d{3}/m);
    expect(sweep.stdout).toMatch(/^0\.3\s+2\s+/m);

    const refused = await lab(['rm', id2]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    expect((await lab(['rm', id2, '--yes'])).stdout).toContain(`deleted ${id2}`);
    expect((await lab(['show', id2])).stderr).toMatch(/No run/);
    expect(existsSync(join(store, 'runs', id))).toBe(true);

    // The index agrees with the run folders: first, the sweep's four; the second was deleted.
    const check = await lab(['store', 'check']);
    expect([check.code, check.stdout]).toEqual([0, `store ${store}: 5 run(s) indexed, 5 run folder(s)\nno problems found\n`]);
  }, 300_000);

  it('export refuses an unknown format and a missing --out, naming them', async () => {
    expect((await lab(['export', 'x', '--format', 'gif', '--out', '/tmp'])).stderr).toMatch(/--format "gif": expected one of svg, png, pdf/);
    expect((await lab(['export', 'x', '--format', 'svg'])).stderr).toMatch(/--out DIR/);
  });
});
