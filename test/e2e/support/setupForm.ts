/** The setup form, as the browser tests reach into it. */
import type { Page } from 'playwright-core';

/** The setup form's input for a config path (`task.d`, `model.width`). */
export const field = (page: Page, path: string) => page.locator(`[name="${path}"]`);
