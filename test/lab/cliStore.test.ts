/**
 * The run store from the command line, as a new user would try it: run, list, show, export the
 * figure set and the data, evaluate the exported weights on the exported dataset (which must
 * reproduce the run's own final numbers), compare, sweep with mean ± std, and delete.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../shared/config.ts';
import { RunStore } from '../../main/lab/store/runStore.ts';
import { prerequisite } from '../support/prerequisite.ts';

const root = new URL('../../', import.meta.url).pathname;
const store = mkdtempSync(join(tmpdir(), 'lab-cli-store-'));

function lab(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, PURIFICATION_LAB_STORE: store },
    input: '',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tiny = ['--preset', 'quick', '--set', 'task.d=24', '--set', 'model.width=16', '--set', 'task.trainSize=600', '--set', 'train.cleanEpochs=3', '--set', 'train.adversarialEpochs=2', '--set', 'eval.testSize=200'];

const terminal = prerequisite("util-linux's `script` (a terminal for `lab rm` to ask on)", spawnSync('script', ['--version']).status === 0 ? null : 'it is not installed');

describe('rm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-cli-rm-'));
  const rm = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', 'rm', ...args, '--store', dir], { cwd: root, encoding: 'utf8', input: '' });
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

  it('takes a prefix; with no terminal it refuses without --yes, naming the whole ids, and --yes deletes', () => {
    const id = create('to delete');
    const prefix = id.slice(0, 15);
    const refused = rm([prefix]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`rm would delete ${id} (to delete): add --yes to confirm (there is no terminal to ask on)`);
    expect(exists(id)).toBe(true);
    const yes = rm([prefix, '--yes']);
    expect(yes.stdout).toBe(`deleted ${id}\n`);
    expect(exists(id)).toBe(false);
    expect(existsSync(join(dir, 'runs', id))).toBe(false);
  }, 120_000);

  describe.skipIf(terminal.skip)('on a terminal', () => {
    beforeAll(() => terminal.require());

    it('asks first, naming the whole id a prefix matched: "n" keeps the run, "y" deletes it', () => {
      const id = create('asked about');
      const prefix = id.slice(0, 15);
      const declined = rmOnTerminal(prefix, 'n');
      expect(declined.stdout).toContain(`Delete ${id} (asked about) and their folders? [y/N]`);
      expect(declined.stdout).toContain('nothing deleted');
      expect(exists(id)).toBe(true);
      const accepted = rmOnTerminal(prefix, 'y');
      expect(accepted.stdout).toContain(`deleted ${id}`);
      expect(exists(id)).toBe(false);
    }, 120_000);
  });
});

describe('the store from the CLI', () => {
  it('run, runs, show, export, eval, compare, sweep, rm', () => {
    const first = lab(['run', ...tiny, '--name', 'first tiny', '--notes', 'a note']);
    expect(first.code, first.stderr).toBe(0);
    const id = /run (\d{8}-\d{6}-[0-9a-f]{4}):/.exec(first.stdout)![1]!;

    const list = lab(['runs']);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+finished\\s+first tiny`));
    expect(lab(['show', id.slice(0, 15)]).stdout).toMatch(/notes\s+a note[\s\S]*config hash\s+[0-9a-f]{64}[\s\S]*"codeVersion"/);

    const out = mkdtempSync(join(tmpdir(), 'lab-export-'));
    const exported = lab(['export', id, '--format', 'svg,png,csv,safetensors,data', '--out', out]);
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
    const evaluated = lab(['eval', '--weights', join(out, `${id}-weights-final.safetensors`), '--data', join(out, `${id}-data-test.safetensors`), '--json', json]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const runResult = JSON.parse(lab(['export', id, '--format', 'json', '--out', out]).code === 0 ? readFileSync(join(out, `${id}-metrics.json`), 'utf8') : '{}');
    const evalResult = JSON.parse(readFileSync(json, 'utf8'));
    for (const key of ['cleanAccuracy', 'robustAccuracy', 'mixtureDirectionAccuracy', 'mixtureRatioMedian', 'participationRatioMedian']) {
      expect(evalResult.summary.final[key]).toBeCloseTo(runResult.runs[0].summary.final[key], 6);
    }

    const second = lab(['run', ...tiny, '--seed', '1']);
    const id2 = /run (\d{8}-\d{6}-[0-9a-f]{4}):/.exec(second.stdout)![1]!;
    const compared = lab(['compare', id, id2]);
    expect(compared.stdout).toMatch(/config field[\s\S]*^seed\s+0\s+1$/m);
    expect(compared.stdout).not.toMatch(/^task\.d/m); // only the fields that differ
    expect(compared.stdout).toMatch(/robust accuracy, final/);

    const sweep = lab(['sweep', ...tiny, '--grid', 'train.attack.eps=0.2,0.3', '--seeds', '2']);
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(sweep.stdout).toMatch(/^0\.2\s+2\s+\d\.\d{3} ± \d\.\d{3}/m);
    expect(sweep.stdout).toMatch(/^0\.3\s+2\s+/m);

    const refused = lab(['rm', id2]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    expect(lab(['rm', id2, '--yes']).stdout).toContain(`deleted ${id2}`);
    expect(lab(['show', id2]).stderr).toMatch(/No run/);
    expect(existsSync(join(store, 'runs', id))).toBe(true);
  }, 300_000);

  it('export refuses an unknown format and a missing --out, naming them', () => {
    expect(lab(['export', 'x', '--format', 'gif', '--out', '/tmp']).stderr).toMatch(/--format "gif": expected one of svg, png, pdf/);
    expect(lab(['export', 'x', '--format', 'svg']).stderr).toMatch(/--out DIR/);
  });
});
