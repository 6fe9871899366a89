/**
 * What the device kit holds and how a GPU machine runs it (issue 14, "Performance"): the pure
 * part of `npm run bench:device-kit` (./buildKit.ts), kept apart so a test can check it without
 * the network.
 *
 * The GPU machine this project may be lent has no Node.js and no internet, takes at most 64 MiB
 * of files a call (the repository's working tree plus the ignored folders named in `carry`) and
 * one bash command of at most 2,000 characters, and returns what the command writes under $OUT.
 * So the kit carries a Node runtime, one esbuild bundle per GPU bench with the files those read,
 * Dawn's `dawn.node`, the Vulkan loader's Debian package and ./run.sh, which runs them there.
 */

/**
 * The benches that measure on webgpu, in the order run.sh runs them. A bench that reaches the
 * webgpu backend belongs here (the test greps bench/ with `reachesWebgpu`): adding one is one line.
 */
export const gpuBenchEntries: readonly string[] = ['bench/webgpuSteps.ts', 'bench/stackedWebgpu.ts'];

/** The folder (at the repository's root, ignored by git) that the builder fills and a device call carries. */
export const kitFolder = '.device';

/** What a device call may carry in all: the working tree and every carried path. */
export const carryLimitBytes = 64 * 1024 * 1024;

/** The longest command a device call takes. */
export const deviceCommandLimit = 2000;

/**
 * Seconds the benches may take in all on the device (run.sh gives each its share of what is
 * left), and the call's limit: the benches' budget plus a minute for unpacking the kit, the
 * driver checks and the logs. The issue asks for the step benchmarks in about 5 minutes, so that
 * a 15-minute lease has room for the machine's start and one rerun.
 */
export const benchBudgetSeconds = 300;
export const deviceTimeoutSeconds = benchBudgetSeconds + 60;

/** The device call a session lent a GPU makes, after `npm run bench:device-kit`. */
export const deviceCall = {
  command: `KIT_BUDGET_S=${benchBudgetSeconds} bash ${kitFolder}/run.sh`,
  carry: [kitFolder],
  timeout_s: deviceTimeoutSeconds,
} as const;

/** The bundle's name for an entry: bench/webgpuSteps.ts -> webgpuSteps (run.sh runs webgpuSteps.mjs). */
export function bundleName(entry: string): string {
  const match = /^bench\/([A-Za-z0-9_-]+)\.ts$/.exec(entry);
  if (!match) throw new Error(`gpu bench entry ${JSON.stringify(entry)}: expected bench/<name>.ts (letters, digits, _ and -)`);
  return match[1]!;
}

/**
 * Whether a bench's source reaches the webgpu backend: it imports a module of
 * main/engine/backend/webgpu/, or asks for the backend by name (`backend: 'webgpu'`). A bench
 * that only starts another one as a child process (bench.ts) does neither.
 */
export function reachesWebgpu(source: string): boolean {
  return /\bfrom\s+['"][^'"]*\/backend\/webgpu\/[^'"]+['"]/.test(source) || /\bbackend\s*:\s*['"]webgpu['"]/.test(source);
}

/**
 * Files a bundled module reads with `new URL('./relative', import.meta.url)`. In a bundle,
 * `import.meta.url` is the bundle's own, so each such file is copied to the same relative path
 * beside the bundle.
 */
export function urlAssetsOf(source: string): string[] {
  return [...source.matchAll(/new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g)].map((m) => m[1]!);
}

/**
 * The bundle's first lines: the CommonJS names that tfjs's Node builds use inside an ES module.
 * tfjs-backend-wasm finds its .wasm files at `__dirname`, which is then the bundle's folder.
 */
export const bundleBanner = [
  "import { createRequire as kitCreateRequire } from 'node:module';",
  "import { fileURLToPath as kitFileURLToPath } from 'node:url';",
  "import { dirname as kitDirname } from 'node:path';",
  'const require = kitCreateRequire(import.meta.url);',
  'const __filename = kitFileURLToPath(import.meta.url);',
  'const __dirname = kitDirname(__filename);',
].join('\n');

/** MiB with one decimal, for the builder's lines. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
