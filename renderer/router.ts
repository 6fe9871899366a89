/**
 * Where the user is, in the URL's hash: a reload or a shared link opens the same view, and the
 * back button works. Hash routes need nothing from the server (which serves one page).
 *
 *   #/setup                          experiment setup (the default)
 *   #/runs                           the runs list
 *   #/runs/<id>                      one run, live while it trains
 *   #/compare?runs=<id>,<id>,...     two or more runs; one fine-tuning run: after-clean vs final
 *   #/paper?preset=P&seeds=N&ranks=1,2&set=path%3Dvalue...
 *                                    the paper's five claims (a reload keeps the settings)
 *   #/glossary, #/glossary/<term>    the glossary, scrolled to a term (the hash is the route, so a
 *                                    term is a path segment rather than an #anchor)
 */
import { computed, ref } from 'vue';

export type Route =
  | { readonly name: 'setup' }
  | { readonly name: 'runs' }
  | { readonly name: 'run'; readonly id: string }
  | { readonly name: 'compare'; readonly ids: readonly string[] }
  | { readonly name: 'glossary'; readonly term?: string }
  | {
      readonly name: 'paper';
      /** Absent: the page's defaults (flagship, 3 seeds, ranks 1, 2, 4, 8). */
      readonly preset?: string;
      readonly seeds?: number;
      readonly ranks?: readonly number[];
      /** C3 against dimension (absent: none). */
      readonly dimensions?: readonly number[];
      /** Changes to the preset, `path=value` as `lab figures --set` takes them. */
      readonly sets: readonly string[];
    };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === 'runs' && parts[1]) return { name: 'run', id: parts[1] };
  if (parts[0] === 'runs') return { name: 'runs' };
  if (parts[0] === 'glossary') return parts[1] ? { name: 'glossary', term: parts[1] } : { name: 'glossary' };
  if (parts[0] === 'paper') {
    const seeds = Number(params.get('seeds'));
    const ranks = (params.get('ranks') ?? '').split(',').filter(Boolean).map(Number);
    const dimensions = (params.get('dimensions') ?? '').split(',').filter(Boolean).map(Number);
    return {
      name: 'paper',
      ...(params.get('preset') ? { preset: params.get('preset')! } : {}),
      ...(params.has('seeds') && Number.isInteger(seeds) ? { seeds } : {}),
      ...(ranks.length > 0 && ranks.every(Number.isInteger) ? { ranks } : {}),
      ...(dimensions.length > 0 && dimensions.every(Number.isInteger) ? { dimensions } : {}),
      sets: params.getAll('set'),
    };
  }
  if (parts[0] === 'compare') {
    const ids = (params.get('runs') ?? '').split(',').filter(Boolean);
    return { name: 'compare', ids };
  }
  return { name: 'setup' };
}

export function routeHref(route: Route): string {
  switch (route.name) {
    case 'setup':
      return '#/setup';
    case 'runs':
      return '#/runs';
    case 'run':
      return `#/runs/${encodeURIComponent(route.id)}`;
    case 'compare':
      return `#/compare?runs=${route.ids.map(encodeURIComponent).join(',')}`;
    case 'glossary':
      return route.term ? `#/glossary/${encodeURIComponent(route.term)}` : '#/glossary';
    case 'paper': {
      const params = new URLSearchParams();
      if (route.preset) params.set('preset', route.preset);
      if (route.seeds !== undefined) params.set('seeds', String(route.seeds));
      if (route.ranks) params.set('ranks', route.ranks.join(','));
      if (route.dimensions && route.dimensions.length > 0) params.set('dimensions', route.dimensions.join(','));
      for (const set of route.sets) params.append('set', set);
      const query = params.toString();
      return `#/paper${query ? `?${query}` : ''}`;
    }
  }
}

const hash = ref(window.location.hash);
window.addEventListener('hashchange', () => {
  hash.value = window.location.hash;
});

export const currentRoute = computed(() => parseRoute(hash.value));

export function navigate(route: Route): void {
  window.location.hash = routeHref(route);
}

/** Show `route` in the URL without a new history entry (settings being edited, not a new place). */
export function replaceRoute(route: Route): void {
  const href = routeHref(route);
  if (href === window.location.hash) return;
  window.history.replaceState(window.history.state, '', href);
  hash.value = window.location.hash;
}
