/**
 * The device kit's pure parts (bench/device/kitPlan.ts) and run.sh's report when NVIDIA's Vulkan
 * driver is missing. Building the kit itself needs the npm registry and apt, so no test does it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleName, deviceCall, deviceCommandLimit, gpuBenchEntries, kitFolder, reachesWebgpu, urlAssetsOf } from '../../bench/device/kitPlan.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('the device kit plan', () => {
  it('bundles every bench that reaches the webgpu backend, and only benches that exist', () => {
    const benches = readdirSync(new URL('bench/', root)).filter((f) => f.endsWith('.ts')).map((f) => `bench/${f}`);
    const reaching = benches.filter((file) => reachesWebgpu(read(file)));
    expect(reaching).toContain('bench/webgpuSteps.ts');
    expect(reaching.filter((file) => !gpuBenchEntries.includes(file))).toEqual([]);
    expect(gpuBenchEntries.filter((entry) => !benches.includes(entry))).toEqual([]);
    expect(new Set(gpuBenchEntries.map(bundleName)).size).toBe(gpuBenchEntries.length);
  });

  it('tells a bench that imports or asks for the webgpu backend from one that only starts another', () => {
    expect(reachesWebgpu("import { GpuKernels } from '../main/engine/backend/webgpu/gpuKernels.ts';")).toBe(true);
    expect(reachesWebgpu("await prepareBackend({ backend: 'webgpu', fused: true });")).toBe(true);
    expect(reachesWebgpu("await prepareBackend({ backend: 'wasm', fused: true });")).toBe(false);
    expect(reachesWebgpu("type Backend = 'wasm' | 'webgpu';\nspawnSync(process.execPath, ['--import', 'tsx', 'webgpuSteps.ts']);")).toBe(false);
    expect(reachesWebgpu(read('bench/bench.ts'))).toBe(false);
  });

  it('names bundles after their bench and refuses other paths', () => {
    expect(bundleName('bench/webgpuSteps.ts')).toBe('webgpuSteps');
    expect(() => bundleName('bench/device/run.sh')).toThrow(/bench\/<name>\.ts/);
    expect(() => bundleName('main/engine/x.ts')).toThrow(/main\/engine\/x\.ts/);
  });

  it('finds the files a module reads beside itself', () => {
    expect(urlAssetsOf(read('main/engine/kernels/fusedKernels.ts'))).toEqual(['./fused.wasm']);
    expect(urlAssetsOf("const a = new URL('../data/x.bin', import.meta.url); new URL('https://example.org')")).toEqual(['../data/x.bin']);
  });

  it('gives a device call that fits the tool, runs the kit it carries, and is the one the README prints', () => {
    expect(deviceCall.command.length).toBeLessThan(deviceCommandLimit);
    expect(deviceCall.command).toBe('KIT_BUDGET_S=300 bash .device/run.sh');
    expect(deviceCall.carry).toEqual([kitFolder]);
    expect(deviceCall.timeout_s).toBe(360);
    expect(read('.gitignore').split('\n')).toContain(`/${kitFolder}/`);
    const readme = read('README.md');
    expect(readme).toContain(`command: ${deviceCall.command}`);
    expect(readme).toContain(`carry: ${JSON.stringify(deviceCall.carry)}`);
    expect(readme).toContain(`timeout_s: ${deviceCall.timeout_s}`);
  });
});

describe('run.sh without NVIDIA\'s Vulkan driver', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'device-kit-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('prints exactly what is missing, writes it to missing.txt and stops before running anything', () => {
    const kit = join(scratch, 'kit');
    const out = join(scratch, 'out');
    mkdirSync(kit);
    copyFileSync(new URL('bench/device/run.sh', root), join(kit, 'run.sh'));
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], OUT: out, KIT_ICD_CANDIDATES: '/nonexistent/icd.d/nvidia_icd.json', TMPDIR: scratch };
    const result = spawnSync('bash', [join(kit, 'run.sh')], { env, encoding: 'utf8' });
    expect(result.status).toBe(3);
    const missing = readFileSync(join(out, 'missing.txt'), 'utf8');
    expect(missing).toContain("MISSING, so WebGPU can see no GPU here:\n");
    expect(missing).toContain("  - NVIDIA's Vulkan ICD (none of: /nonexistent/icd.d/nvidia_icd.json)\n");
    for (const command of ['$ ls -la /usr/local/nvidia/share/vulkan/icd.d', '$ nvidia-smi', '$ ldconfig -p | grep -i vulkan']) expect(missing).toContain(`${command}\n`);
    expect(result.stdout).toContain(missing.split('\n')[1]!);
    // Nothing was unpacked or run, and the scratch folder it made is gone.
    expect(readdirSync(out).sort()).toEqual(['missing.txt', 'run.log']);
    expect(readdirSync(scratch).sort()).toEqual(['kit', 'out']);
  });

  it("names the ICD's library when the ICD is there but its library is not", () => {
    const kit = join(scratch, 'kit2');
    const out = join(scratch, 'out2');
    mkdirSync(kit);
    copyFileSync(new URL('bench/device/run.sh', root), join(kit, 'run.sh'));
    const icd = join(scratch, 'nvidia_icd.json');
    writeFileSync(icd, JSON.stringify({ file_format_version: '1.0.1', ICD: { library_path: 'libGLX_nvidia_absent.so.0', api_version: '1.4.312' } }, null, 2));
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], OUT: out, KIT_ICD_CANDIDATES: `/nonexistent/nvidia_icd.json ${icd}`, TMPDIR: scratch };
    const result = spawnSync('bash', [join(kit, 'run.sh')], { env, encoding: 'utf8' });
    expect(result.status).toBe(3);
    expect(result.stdout).toContain(`Vulkan driver: ${icd} (library_path libGLX_nvidia_absent.so.0)\n`);
    const missing = readFileSync(join(out, 'missing.txt'), 'utf8');
    expect(missing).toContain("  - the ICD's library libGLX_nvidia_absent.so.0 (not in ldconfig's cache, /usr/local/nvidia/lib64, /usr/local/nvidia/lib or /usr/lib/x86_64-linux-gnu)\n");
    expect(missing).not.toContain("NVIDIA's Vulkan ICD (none of");
    expect(missing).toContain(`VK_DRIVER_FILES=${icd} VK_ICD_FILENAMES=${icd}\n`);
  });

  it("goes on to unpack the kit once ldconfig's cache has the loader and the ICD's library, however long the cache", () => {
    const kit = join(scratch, 'kit3');
    const out = join(scratch, 'out3');
    const bin = join(scratch, 'bin');
    mkdirSync(kit);
    mkdirSync(bin);
    copyFileSync(new URL('bench/device/run.sh', root), join(kit, 'run.sh'));
    // A stand-in ldconfig whose cache lists both libraries first, then far more than a pipe holds
    // (a GPU machine's cache, CUDA's libraries in it, is long): a search that stops at the first
    // match must not turn ldconfig's SIGPIPE into "not found".
    const ldconfig = join(bin, 'ldconfig');
    writeFileSync(
      ldconfig,
      [
        '#!/bin/sh',
        'echo "2 libs found in cache"',
        'printf "\\tlibvulkan.so.1 (libc6,x86-64) => /cache/libvulkan.so.1\\n"',
        'printf "\\tlibGLX_nvidia_cached.so.0 (libc6,x86-64) => /cache/libGLX_nvidia_cached.so.0\\n"',
        'yes "\tlibfiller.so.1 (libc6,x86-64) => /usr/lib/libfiller.so.1" | head -n 20000',
      ].join('\n') + '\n',
    );
    chmodSync(ldconfig, 0o755);
    const icd = join(scratch, 'found_icd.json');
    writeFileSync(icd, JSON.stringify({ file_format_version: '1.0.1', ICD: { library_path: 'libGLX_nvidia_cached.so.0' } }));
    const env: NodeJS.ProcessEnv = { PATH: `${bin}:${process.env['PATH']}`, OUT: out, KIT_ICD_CANDIDATES: icd, TMPDIR: scratch };
    const result = spawnSync('bash', [join(kit, 'run.sh')], { env, encoding: 'utf8' });
    expect(result.stdout).toContain('Vulkan loader: /cache/libvulkan.so.1\n');
    expect(result.stdout).toContain(`Vulkan driver: ${icd} (library_path libGLX_nvidia_cached.so.0)\n`);
    expect(result.stdout).not.toContain('MISSING');
    // This kit has no node.gz: the first step after the checks says so.
    expect(result.stdout).toContain(`could not unpack ${kit}/node.gz\n`);
    expect(result.status).toBe(4);
    expect(readdirSync(out)).toEqual(['run.log']);
  });
});
