/**
 * The CLI as a user runs it: plain lines when not on a terminal, the backend on the first line, a
 * summary table, the JSON result, and clear errors with exit code 2. The verbs run in-process
 * (runCli, test/support/labCli.ts); one test runs the real process, for its argv and exit status.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { usage } from '../../main/lab/cli/usage.ts';
import { allConfigPaths } from '../../shared/configPath.ts';
import { presets } from '../../shared/presets.ts';
import { labInProcess } from '../support/labCli.ts';

const root = new URL('../../', import.meta.url).pathname;
// Every CLI test writes to its own store, never to the user's.
const store = mkdtempSync(join(tmpdir(), 'lab-cli-store-'));

const lab = (args: string[]) => labInProcess(args, store);

/** `lab` as its own process, as `npm run lab` starts it. */
function labProcess(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/lab.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, PURIFICATION_LAB_STORE: store },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Whether the optional native package is there to load (it is not on a machine without internet at install). */
const nativePackageInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu');
    return true;
  } catch {
    return false;
  }
})();

const tiny = ['--preset', 'quick', '--set', 'task.d=24', '--set', 'model.width=16', '--set', 'task.trainSize=600', '--set', 'train.cleanEpochs=3', '--set', 'train.adversarialEpochs=2', '--set', 'eval.testSize=200'];

describe('lab run', () => {
  it('prints the backend first, epoch lines, the side-by-side table, and writes the JSON result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    const json = join(dir, 'result.json');
    const { code, stdout, stderr } = await lab(['run', ...tiny, '--seed', '3', '--json', json]);
    expect(code, stderr).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^backend: (wasm|tensorflow \((GPU|CPU)\)|cpu)/);
    expect(stderr).toMatch(/\[clean 1 +\] loss/); // not a TTY: plain lines
    expect(stdout).toMatch(/after clean +after fine-tuning/);
    expect(stdout).toMatch(/robust accuracy, PGD-20/);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.config.seed).toBe(3);
    expect(result.config.task.d).toBe(24);
    expect(result.config.eval.eps).toBe(0.3); // resolved, defaults included
    expect(result.backend.name).toBeTruthy();
    // The JSON holds the numbers the table printed: each accuracy a count over the 200 test
    // samples inside its interval, the mixture ratio a share, the participation ratio at least 1.
    const cells = (label: string) =>
      stdout
        .split('\n')
        .find((line) => line.startsWith(label))!
        .slice(label.length)
        .trim()
        .split(/ {3,}/);
    const rows = { cleanAccuracy: 'clean accuracy', robustAccuracy: 'robust accuracy, PGD-20 (l2, step 2.5·eps/20) at eps 0.3', mixtureDirectionAccuracy: 'mixture-direction accuracy' } as const;
    [result.summary.afterClean, result.summary.final].forEach((model, column) => {
      for (const [key, label] of Object.entries(rows)) {
        const v = model[key];
        const [lower, upper] = model.intervals[key];
        expect(Number.isInteger(Math.round(v * 200 * 1e6) / 1e6), `${key} = ${v}`).toBe(true);
        expect(v).toBeGreaterThanOrEqual(lower);
        expect(v).toBeLessThanOrEqual(upper);
        expect(cells(label)[column]).toBe(`${v.toFixed(3)} [${lower.toFixed(3)}, ${upper.toFixed(3)}]`);
      }
      expect(model.cleanAccuracy).toBeGreaterThan(0.6); // learned: chance is 0.5
      expect(model.mixtureRatioMedian).toBeGreaterThan(0);
      expect(model.mixtureRatioMedian).toBeLessThan(1);
      expect(cells('mixture ratio, median over neurons')[column]).toBe(model.mixtureRatioMedian.toFixed(3));
      expect(model.participationRatioMedian).toBeGreaterThanOrEqual(1);
      expect(cells('participation ratio, median')[column]).toBe(model.participationRatioMedian.toFixed(2));
    });
    expect(result.timing.seconds).toBeGreaterThan(0);
    expect(result.metrics.length).toBe(1 + 3 + 2);
    expect(result.instruments[0].mixtureRatio.values).toHaveLength(16);
  }, 300_000);

  it('reads a config file, and names a bad field in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ train: { attack: { eps: 'big' } } }));
    const { code, stderr } = await lab(['run', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(file);
    expect(stderr).toMatch(/train\.attack\.eps = "big": expected a finite number/);
  });

  it('an invalid --set path names the closest valid one', async () => {
    const { code, stderr } = await lab(['run', '--set', 'train.atack.eps=0.2']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown config path "train\.atack\.eps": did you mean "train\.attack\.eps"\?/);
  });

  it('a forced backend runs on it, or, where it cannot load, fails clearly before any work', async () => {
    const { code, stderr, stdout } = await lab(['run', ...tiny, '--backend', 'tensorflow']);
    if (nativePackageInstalled && code === 0) {
      // A machine with the native package, and it loads: the run is on it.
      expect(stdout.split('\n')[0]).toMatch(/^backend: tensorflow \((GPU|CPU)\)/);
    } else {
      expect(code).toBe(2);
      expect(stderr).toMatch(
        nativePackageInstalled
          ? /The tensorflow backend was requested with --backend but cannot load: (@tensorflow\/tfjs-node-gpu failed to load: |the tensorflow backend failed to initialise)/
          : /The tensorflow backend was requested with --backend but cannot load: the optional package @tensorflow\/tfjs-node-gpu is not installed/,
      );
      expect(stdout).toBe('');
    }
  });

  it('as a process: an unknown option or verb gets the usage and exit status 2; a good verb exits 0; the store verbs too', () => {
    const option = labProcess(['run', '--epochs', '3']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/Unknown option '--epochs'[\s\S]*Usage: npm run lab/);
    expect(option.stdout).toBe('');
    const verb = labProcess(['train']);
    expect(verb.code).toBe(2);
    expect(verb.stderr).toMatch(/^Unknown verb "train": see the list below\n\nUsage: npm run lab/);
    const presets = labProcess(['presets']);
    expect(presets.code).toBe(0);
    expect(presets.stdout).toMatch(/^flagship {3}The paper's protocol/);
    // The store's verbs: a folder with no index checks with exit 1 and the way out; a file that is
    // not there exits 2 naming it.
    const empty = mkdtempSync(join(tmpdir(), 'lab-cli-empty-store-'));
    const check = labProcess(['store', 'check', '--store', empty]);
    expect(check.code).toBe(1);
    expect(check.stdout).toBe(`store ${empty}: unknown run(s) indexed, 0 run folder(s)\n1 problem(s):\n- ${empty}/runs.sqlite does not exist: \`npm run lab -- store rebuild\` rebuilds it from the run folders\n`);
    const missing = join(empty, 'absent.safetensors');
    const added = labProcess(['files', 'add', missing, '--store', empty]);
    expect(added.code).toBe(2);
    expect(added.stderr).toContain(missing);
  }, 120_000);

  it('lists presets and paths; help, and --help on any verb, print the usage', async () => {
    expect((await lab(['presets'])).stdout.split('\n').map((line) => line.split(' ')[0])).toEqual([...presets.map((p) => p.name), '']);
    const paths = await lab(['paths']);
    expect(paths.stdout).toBe(allConfigPaths().join('\n') + '\n');
    expect(paths.stdout).toMatch(/^train\.attack\.eps$/m);
    for (const args of [['help'], ['--help'], ['figures', '--help']]) {
      const help = await lab(args);
      expect(help.code).toBe(0);
      expect(help.stdout).toBe(usage);
    }
  });
});
