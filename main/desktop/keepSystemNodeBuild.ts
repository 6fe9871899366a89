/**
 * `npm run dist` runs electron-builder through this:
 *
 *   tsx main/desktop/keepSystemNodeBuild.ts electron-builder --config electron.config.ts ...
 *
 * better-sqlite3 is a native addon built against one ABI, and it is not N-API. electron-builder
 * rebuilds the app's native dependencies for Electron's ABI (npmRebuild, through
 * @electron/rebuild) before it packs them, and it does so in place, in node_modules: afterwards
 * the CLI and the tests, which run on the system Node, could not load it. So the system Node's
 * build is copied aside first and put back when the command ends, whatever its outcome; the
 * package keeps its copy for Electron. A final check loads it with this Node.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The native builds that must survive electron-builder (better-sqlite3's .node files). */
export function systemNodeBuilds(root: string): string[] {
  const release = join(root, 'node_modules', 'better-sqlite3', 'build', 'Release');
  if (!existsSync(release)) return [];
  return readdirSync(release)
    .filter((name) => name.endsWith('.node'))
    .map((name) => join(release, name));
}

/** Copy `files` aside, run `task`, and put them back afterwards (also when it throws). */
export async function withFilesKept<T>(files: readonly string[], backupDir: string, task: () => Promise<T> | T): Promise<T> {
  rmSync(backupDir, { recursive: true, force: true });
  mkdirSync(backupDir, { recursive: true });
  const kept = files.map((file, index) => ({ file, copy: join(backupDir, `${index}.node`) }));
  for (const { file, copy } of kept) copyFileSync(file, copy);
  try {
    return await task();
  } finally {
    for (const { file, copy } of kept) {
      mkdirSync(dirname(file), { recursive: true }); // a rebuild may have removed the whole build folder
      copyFileSync(copy, file);
    }
    rmSync(backupDir, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command) {
    process.stderr.write('usage: tsx main/desktop/keepSystemNodeBuild.ts COMMAND [ARGS...]\n');
    return 2;
  }
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const local = join(root, 'node_modules', '.bin', command);
  const executable = existsSync(local) ? local : command;
  const files = systemNodeBuilds(root);
  const status = await withFilesKept(files, join(root, 'out', 'native-backup'), () => {
    const result = spawnSync(executable, args, { stdio: 'inherit', cwd: root, shell: process.platform === 'win32' });
    return result.status ?? 1;
  });
  const check = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: root, encoding: 'utf8' });
  if (check.status === 0) process.stderr.write(`kept node_modules' better-sqlite3 built for this Node (${process.version}): the CLI and the tests still load it\n`);
  else process.stderr.write(`better-sqlite3 no longer loads in this Node: run \`npm rebuild better-sqlite3\` (${check.stderr.trim().split('\n')[0] ?? ''})\n`);
  return status;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
