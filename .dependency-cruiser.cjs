// Import cycles, anywhere in the project, type-only imports included (tsPreCompilationDeps:
// TypeScript's `import type` is kept in the graph, where ESLint's import plugins skip it). The
// layering itself is checked by ESLint (eslint.config.js).
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'A module may not import, directly or through others, a module that imports it: split the shared part out.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', 'renderer/dist', 'out', 'dist', 'main/engine/kernels/assembly'] },
    // Resolve the TypeScript sources by their written names (`./x.ts`) and the .vue components.
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.vue', '.json'] },
  },
};
