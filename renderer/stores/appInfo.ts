/** What the engine side says about itself: backend (and why others were skipped), store, presets. */
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { AppInfo } from '../../shared/api.ts';
import { useLabApi } from '../api/labApi.ts';

export const useAppInfoStore = defineStore('appInfo', () => {
  const api = useLabApi();
  // Shallow: presets' configs are cloned with structuredClone, which refuses Vue's proxies.
  const info = shallowRef<AppInfo | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  async function load() {
    loading.value = true;
    try {
      info.value = await api.call('app.info', {});
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      loading.value = false;
    }
  }
  return { info, error, loading, load };
});
