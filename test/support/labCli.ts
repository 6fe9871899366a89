/**
 * The CLI in-process: runCli with collecting writers, no terminal, and an environment of its own
 * (the test's store in $PURIFICATION_LAB_STORE, never the user's), so a verb's test pays for no
 * child process. What it returns matches a child's: the exit status, stdout and stderr.
 */
import { Readable } from 'node:stream';
import { runCli } from '../../main/lab/cli/cli.ts';
import type { CliWriter } from '../../main/lab/cli/cliIo.ts';
import { storeEnvironmentVariable } from '../../main/lab/store/location.ts';

export interface LabResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function collector(): CliWriter & { text: string } {
  return {
    text: '',
    isTTY: false,
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

/** `lab ARGS` with `store` as the default store (npm's variables left out, as when run directly). */
export async function labInProcess(args: readonly string[], store: string, env: NodeJS.ProcessEnv = {}): Promise<LabResult> {
  const stdout = collector();
  const stderr = collector();
  const environment: NodeJS.ProcessEnv = { ...process.env, [storeEnvironmentVariable]: store, ...env };
  for (const key of Object.keys(environment)) if (key.startsWith('npm_')) delete environment[key];
  const code = await runCli(args, { stdout, stderr, stdin: Readable.from([]), env: environment });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
