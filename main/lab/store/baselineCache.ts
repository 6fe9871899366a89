/**
 * C4's lower-bound baselines, kept beside the runs: `<store>/baselines/<config hash>.json`. They
 * are not runs (no event stream, no checkpoints, no weights worth keeping), but training them
 * takes as long as a run or two, so the Paper page and `lab figures` compute them once per config
 * and code version, like the runs they reuse by config hash. A file written by other code, or one
 * that cannot be read, is a miss: the baselines are trained again and the file replaced.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaselineResult } from '../../engine/baselines.ts';
import { writeFileAtomic } from './runStore.ts';

interface BaselineFile {
  readonly configHash: string;
  readonly codeVersion: string;
  readonly createdAt: string;
  readonly results: readonly BaselineResult[];
}

export class BaselineCache {
  private readonly dir: string;

  constructor(storeDir: string) {
    this.dir = join(storeDir, 'baselines');
  }

  private file(configHash: string): string {
    if (!/^[0-9a-f]{16,128}$/.test(configHash)) throw new Error(`Not a config hash: "${configHash}"`);
    return join(this.dir, `${configHash}.json`);
  }

  /** The baselines trained for this config by this code, or null. */
  get(configHash: string, codeVersion: string): readonly BaselineResult[] | null {
    const file = this.file(configHash);
    if (!existsSync(file)) return null;
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as BaselineFile;
      return stored.configHash === configHash && stored.codeVersion === codeVersion && Array.isArray(stored.results) ? stored.results : null;
    } catch {
      return null;
    }
  }

  has(configHash: string, codeVersion: string): boolean {
    return this.get(configHash, codeVersion) !== null;
  }

  put(configHash: string, codeVersion: string, results: readonly BaselineResult[]): void {
    mkdirSync(this.dir, { recursive: true });
    const stored: BaselineFile = { configHash, codeVersion, createdAt: new Date().toISOString(), results };
    writeFileAtomic(this.file(configHash), JSON.stringify(stored));
  }
}
