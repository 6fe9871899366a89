/**
 * The CLI as a user runs it: a child process, plain lines when not on a terminal, the backend on
 * the first line, a summary table, the JSON result, and clear errors with exit code 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
// Every CLI test writes to its own store, never to the user's.
const store = mkdtempSync(join(tmpdir(), 'lab-cli-store-'));

function lab(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'main/lab/cli/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, PURIFICATION_LAB_STORE: store },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const tiny = ['--preset', 'quick', '--set', 'task.d=24', '--set', 'model.width=16', '--set', 'task.trainSize=600', '--set', 'train.cleanEpochs=3', '--set', 'train.adversarialEpochs=2', '--set', 'eval.testSize=200'];

describe('lab run', () => {
  it('prints the backend first, epoch lines, the side-by-side table, and writes the JSON result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    const json = join(dir, 'result.json');
    const { code, stdout, stderr } = lab(['run', ...tiny, '--seed', '3', '--json', json]);
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
    for (const model of [result.summary.afterClean, result.summary.final]) {
      for (const key of ['cleanAccuracy', 'robustAccuracy', 'mixtureDirectionAccuracy', 'mixtureRatioMedian', 'participationRatioMedian']) {
        expect(typeof model[key]).toBe('number');
      }
    }
    expect(result.timing.seconds).toBeGreaterThan(0);
    expect(result.metrics.length).toBe(1 + 3 + 2);
    expect(result.instruments[0].mixtureRatio.values).toHaveLength(16);
  }, 300_000);

  it('reads a config file, and names a bad field in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ train: { attack: { eps: 'big' } } }));
    const { code, stderr } = lab(['run', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(file);
    expect(stderr).toMatch(/train\.attack\.eps = "big": expected number/);
  });

  it('an invalid --set path names the closest valid one', () => {
    const { code, stderr } = lab(['run', '--set', 'train.atack.eps=0.2']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown config path "train\.atack\.eps": did you mean "train\.attack\.eps"\?/);
  });

  it('a forced backend that cannot load fails clearly before any work', () => {
    const { code, stderr, stdout } = lab(['run', '--preset', 'quick', '--backend', 'tensorflow']);
    if (code === 0) return; // a machine with the native package: nothing to refuse
    expect(code).toBe(2);
    expect(stderr).toMatch(/The tensorflow backend was requested with --backend but cannot load: /);
    expect(stdout).toBe('');
  });

  it('an unknown option or verb gets the usage', () => {
    expect(lab(['run', '--epochs', '3']).stderr).toMatch(/Unknown option '--epochs'[\s\S]*Usage: npm run lab/);
    expect(lab(['train']).code).toBe(2);
  });

  it('lists presets and paths', () => {
    expect(lab(['presets']).stdout).toMatch(/^flagship/m);
    expect(lab(['paths']).stdout).toMatch(/^train\.attack\.eps$/m);
  });
});
