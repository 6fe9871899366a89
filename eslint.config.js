// Lint: typescript-eslint's recommended rules, plus the layering rule of ../shared/DESIGN.md
// (VS Code's common/node/browser idea): shared/ imports nothing else of the project and no
// Node or Electron; main/engine and main/lab never import electron or the renderer; renderer/ imports
// only shared/ of the project (never main/) and no Node built-ins: it runs in a page.
import tseslint from 'typescript-eslint';

const electron = { group: ['electron', 'electron/*'], message: 'main/engine and main/lab never import electron: the engine runs without a window.' };
const renderer = { group: ['**/renderer/**', '../renderer/*'], message: 'Only the renderer imports the renderer.' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'renderer/dist/**', 'main/engine/kernels/assembly/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../main/**', '../renderer/**', '../../**', '**/main/**', '**/renderer/**'], message: 'shared/ imports nothing else of the project.' },
            { group: ['node:*', 'electron', 'electron/*'], message: 'shared/ runs anywhere: no Node built-ins, no electron.' },
          ],
          paths: ['fs', 'path', 'os', 'child_process', 'crypto', 'util', 'url'].map((name) => ({ name, message: 'shared/ runs anywhere: no Node built-ins.' })),
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../main/**', '../../main/**', '../../../main/**', '**/main/**'], message: 'renderer/ imports only shared/ of the project, never main/: it talks to the engine through LabApi.' },
            { group: ['node:*', 'electron', 'electron/*'], message: 'renderer/ runs in a page: no Node built-ins, no electron (the preload exposes LabApi).' },
          ],
          paths: ['fs', 'path', 'os', 'child_process', 'crypto', 'util', 'url'].map((name) => ({ name, message: 'renderer/ runs in a page: no Node built-ins.' })),
        },
      ],
    },
  },
  {
    files: ['main/engine/**/*.ts', 'main/lab/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electron, renderer] }] },
  },
);
