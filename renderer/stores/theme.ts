/**
 * Light or dark, chosen by the user and remembered in localStorage; the first visit follows the
 * system's preference. The name is also what the chart builders take, so a chart and the page
 * around it always agree.
 */
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import type { ThemeName } from '../../shared/charts/palette.ts';

const storageKey = 'purification-lab.theme';

function initialTheme(): ThemeName {
  try {
    const saved = window.localStorage.getItem(storageKey);
    if (saved === 'light' || saved === 'dark') return saved;
  } catch {
    // Storage can be disabled; the system preference still applies.
  }
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export const useThemeStore = defineStore('theme', () => {
  const name = ref<ThemeName>(initialTheme());
  const apply = (theme: ThemeName) => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.style.colorScheme = theme;
  };
  apply(name.value);
  watch(name, (theme) => {
    apply(theme);
    try {
      window.localStorage.setItem(storageKey, theme);
    } catch {
      // Not remembered, but still applied.
    }
  });
  function toggle() {
    name.value = name.value === 'light' ? 'dark' : 'light';
  }
  return { name, toggle };
});
