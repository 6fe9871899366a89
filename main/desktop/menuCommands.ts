/**
 * What a native menu command does in the window. The preload carries it out (it shares the
 * page's location), so the menus work whatever the page does with them: the views are hash
 * routes (renderer/router.ts: #/setup, #/runs, #/runs/<id>, #/compare?runs=<id>,<id>).
 *
 *   new-experiment   go to the experiment setup
 *   open-run         go to that run (File > Open run folder…, after the main process checked it)
 *   compare          compare the runs in view (none: the comparison view, to pick them)
 *   export           export the runs in view, all runs when none is (the main process asks where)
 *   paper            the paper's five claims (#/paper)
 */
export type MenuCommand = 'new-experiment' | 'open-run' | 'export' | 'compare' | 'paper';

export type MenuAction = { readonly navigate: string } | { readonly exportRuns: readonly string[] } | null;

/** The run ids the current view shows. */
export function runIdsInView(hash: string): string[] {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  if (parts[0] === 'runs' && parts[1]) return [decode(parts[1])];
  if (parts[0] === 'compare') return (new URLSearchParams(query).get('runs') ?? '').split(',').filter(Boolean).map(decode);
  return [];
}

export function menuAction(command: MenuCommand, hash: string, runId?: string): MenuAction {
  switch (command) {
    case 'new-experiment':
      return { navigate: '#/setup' };
    case 'open-run':
      return runId ? { navigate: `#/runs/${encodeURIComponent(runId)}` } : null;
    case 'compare': {
      const ids = runIdsInView(hash);
      return { navigate: ids.length > 0 ? `#/compare?runs=${ids.map(encodeURIComponent).join(',')}` : '#/compare' };
    }
    case 'export':
      return { exportRuns: runIdsInView(hash) };
    case 'paper':
      return { navigate: '#/paper' };
    default:
      return null;
  }
}
