/**
 * Where the user is, in the URL's hash: a reload or a shared link opens the same view, and the
 * back button works. Hash routes need nothing from the server (which serves one page).
 *
 *   #/setup                          experiment setup (the default)
 *   #/runs                           the runs list
 *   #/runs/<id>                      one run, live while it trains
 *   #/compare?runs=<id>,<id>,...     two or more runs; one fine-tuning run: after-clean vs final
 */
import { computed, ref } from 'vue';

export type Route =
  | { readonly name: 'setup' }
  | { readonly name: 'runs' }
  | { readonly name: 'run'; readonly id: string }
  | { readonly name: 'compare'; readonly ids: readonly string[] };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === 'runs' && parts[1]) return { name: 'run', id: parts[1] };
  if (parts[0] === 'runs') return { name: 'runs' };
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
