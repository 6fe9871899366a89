/**
 * Where runs live. One function for the CLI, browser mode and the desktop app, so all three see
 * the same runs: `--store DIR`, else $PURIFICATION_LAB_STORE, else the platform's user-data
 * directory (XDG_DATA_HOME or ~/.local/share on Linux, ~/Library/Application Support on macOS,
 * %APPDATA% on Windows).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const storeEnvironmentVariable = 'PURIFICATION_LAB_STORE';

export function resolveStoreDir(
  options: { flag?: string | undefined; env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform; home?: string } = {},
): string {
  const env = options.env ?? process.env;
  if (options.flag) return resolve(options.flag);
  const fromEnv = env[storeEnvironmentVariable];
  if (fromEnv) return resolve(fromEnv);
  const home = options.home ?? homedir();
  switch (options.platform ?? process.platform) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'Purification Lab');
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Purification Lab');
    default:
      return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'purification-lab');
  }
}
