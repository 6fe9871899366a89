/**
 * Open a URL in the user's default browser with the platform's own opener (`open` on macOS,
 * `cmd /c start` on Windows, `xdg-open` elsewhere), detached so the browser outlives nothing of
 * ours and ours never waits on it. A machine without a browser or opener (a server, a container)
 * is normal: the failure becomes a hint, never an error.
 */
import { spawn } from 'node:child_process';

export function openerCommand(url: string, platform: NodeJS.Platform = process.platform): { command: string; args: string[]; verbatim: boolean } {
  if (platform === 'darwin') return { command: 'open', args: [url], verbatim: false };
  // `start` takes its first quoted argument as a window title: give it an empty one.
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', `"${url}"`], verbatim: true };
  return { command: 'xdg-open', args: [url], verbatim: false };
}

/** Try to open `url`; `onFailure` gets a sentence when that visibly did not work. */
export function openBrowser(url: string, onFailure: (message: string) => void): void {
  const { command, args, verbatim } = openerCommand(url);
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore', windowsVerbatimArguments: verbatim });
    child.on('error', (error) => onFailure(`could not open a browser (${command}: ${error.message})`));
    child.on('exit', (code) => {
      if (code !== null && code !== 0) onFailure(`could not open a browser (${command} exited with ${code})`);
    });
    child.unref();
  } catch (error) {
    onFailure(`could not open a browser (${(error as Error).message})`);
  }
}
