/**
 * The WebGPU software adapter the webgpu tests run on: SwiftShader's Vulkan driver and the
 * Vulkan loader from Debian's chromium package. Dawn finds it only in a process started with
 * LD_LIBRARY_PATH and VK_ICD_FILENAMES set, so those tests compute in a child process: a driver
 * under test/support that prints its outcome as one JSON line.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { prerequisite } from './prerequisite.ts';

const chromiumLibraries = '/usr/lib/chromium';
const swiftshaderIcd = `${chromiumLibraries}/vk_swiftshader_icd.json`;

export const softwareAdapter = prerequisite(
  "a WebGPU software adapter (SwiftShader's Vulkan driver and the Vulkan loader from Debian's chromium package)",
  existsSync(swiftshaderIcd) && existsSync(`${chromiumLibraries}/libvulkan.so.1`) ? null : `${swiftshaderIcd} or ${chromiumLibraries}/libvulkan.so.1 is missing`,
);

/** The last JSON line of `driver` (a file in test/support), run in a child process that sees the software adapter. */
export async function onSoftwareAdapter<T>(driver: string): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`./${driver}`, import.meta.url))], {
    env: { ...process.env, LD_LIBRARY_PATH: chromiumLibraries, VK_ICD_FILENAMES: swiftshaderIcd },
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}
