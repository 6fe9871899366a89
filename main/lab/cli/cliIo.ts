/**
 * Where a verb reads and writes: the process's own streams for `npm run lab`, or collecting
 * writers when a test runs the CLI in-process (test/support/labCli.ts). Verbs never touch
 * process.stdout, process.stderr, process.stdin or process.env themselves; only Ctrl-C, which is
 * the process's own, is heard (and a second one ends the process) in runDriver.ts.
 */

/** A text sink: what the verbs and the progress display need of a stream. */
export interface CliWriter {
  write(text: string): unknown;
  /** A terminal gets the redrawn progress bar; anything else gets plain lines. */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  readonly stdout: CliWriter;
  readonly stderr: CliWriter;
  /** Where `rm` asks for its confirmation; without a terminal it refuses instead. */
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  /** The environment ($PURIFICATION_LAB_STORE, npm's variables). */
  readonly env: NodeJS.ProcessEnv;
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}
