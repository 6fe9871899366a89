// Lint: typescript-eslint's recommended rules, Vue's essential rules for the .vue files, and the
// layering of docs/architecture.md (VS Code's common/node/browser/electron-main idea), checked on
// resolved paths so that no spelling of a relative import slips past:
//   shared/        imports nothing of the project, no Node built-ins, no electron: it runs anywhere;
//   renderer/      imports shared/ only, and no Node built-ins: it runs in a page;
//   main/engine/   imports shared/ only (of the project);
//   main/lab/      imports main/engine/ and shared/;
//   main/web/ and main/desktop/ import main/lab/, main/engine/ and shared/, never each other and
//                  never renderer/;
//   main/start/    the `npm start` launcher, which picks a transport: the one module allowed to
//                  import both main/web/ and main/desktop/.
// No import cycles anywhere, type-only imports included: dependency-cruiser checks those
// (.dependency-cruiser.cjs; import-x's no-cycle skips type-only imports).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import pluginVue from 'eslint-plugin-vue';

const electron = { group: ['electron', 'electron/*'], message: 'main/engine and main/lab never import electron: the engine runs without a window.' };
const nodeBuiltins = ['fs', 'path', 'os', 'child_process', 'crypto', 'util', 'url'];

/** One zone of import-x/no-restricted-paths: files under `target` may not import from `from`. */
const zone = (target, from, message) => ({ target, from, message });

/** The layering, as zones over resolved paths (see the header). */
export const layerZones = [
  zone('./shared', ['./main', './renderer', './test', './bench'], 'shared/ imports nothing else of the project: it runs anywhere.'),
  zone('./renderer', ['./main', './test', './bench'], 'renderer/ imports only shared/ of the project, never main/: it talks to the engine through LabApi.'),
  zone('./main/engine', ['./main/lab', './main/web', './main/desktop', './main/start', './renderer'], 'main/engine imports only shared/ of the project: science knows nothing of runs, stores or transports.'),
  zone('./main/lab', ['./main/web', './main/desktop', './main/start', './renderer'], 'main/lab imports only main/engine and shared/: runs know nothing of their transport.'),
  zone('./main/web', ['./main/desktop', './main/start', './renderer'], 'main/web never imports main/desktop or renderer/: the two transports share main/lab, not each other.'),
  zone('./main/desktop', ['./main/web', './main/start', './renderer'], 'main/desktop never imports main/web or renderer/: the two transports share main/lab, not each other; contracts live in shared/.'),
];

export default tseslint.config(
  // Generated or foreign code: builds, the AssemblyScript kernels (their own compiler checks them),
  // and the device kit's esbuild bundles (`npm run bench:device-kit`, ignored by git too).
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'renderer/dist/**', 'main/engine/kernels/assembly/**', '.device/**'] },
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/essential'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' } },
  },
  {
    files: ['**/*.ts', '**/*.vue'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js', '.vue', '.json'] })],
      'import-x/extensions': ['.ts', '.js', '.vue'],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['node:*', 'electron', 'electron/*'], message: 'shared/ runs anywhere: no Node built-ins, no electron.' }],
          paths: nodeBuiltins.map((name) => ({ name, message: 'shared/ runs anywhere: no Node built-ins.' })),
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.vue'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['node:*', 'electron', 'electron/*'], message: 'renderer/ runs in a page: no Node built-ins, no electron (the preload exposes LabApi).' }],
          paths: nodeBuiltins.map((name) => ({ name, message: 'renderer/ runs in a page: no Node built-ins.' })),
        },
      ],
    },
  },
  {
    files: ['main/engine/**/*.ts', 'main/lab/**/*.ts', 'main/web/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electron] }] },
  },
);
