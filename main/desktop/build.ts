/**
 * The desktop build: the TypeScript the Electron processes run, as JavaScript in out/ (see
 * paths.ts for the layout). `npm start` runs it before opening the window and `npm run dist`
 * before electron-builder; on its own:
 *
 *   tsx main/desktop/build.ts
 *
 * Why a build at all: Electron runs JavaScript. Its Node can strip types, but not this
 * project's (parameter properties need a transform), and a sandboxed preload cannot import
 * anything but electron. So:
 *
 * - main process and engine: every module reachable from main/desktop/mainProcess.ts,
 *   engineProcess.ts and the job host's worker (main/lab/jobHost/jobWorker.ts, which the engine
 *   starts by its file, not by an import) is transpiled on its own by esbuild (as tsx runs it for the CLI; no type
 *   check: `npm test` does that) into out/app/<same path>.js, with its relative `.ts` imports,
 *   which TypeScript's parser lists, rewritten to `.js`. Keeping the tree's shape means every
 *   `new URL('./file', import.meta.url)` still finds its file; those files (the fused kernels'
 *   wasm, package.json) are copied beside the output. Packages stay in node_modules, where
 *   electron-builder rebuilds the native ones for Electron.
 * - the preload: one CommonJS file bundled by esbuild (a dependency of tsx), whose only require
 *   is electron. The build checks that.
 *
 * It takes about a second, so `npm start` always runs it: no stale main process.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { codeIdentity } from '../lab/provenance.ts';
import { outLayout } from './paths.ts';

export const desktopEntries = ['main/desktop/mainProcess.ts', 'main/desktop/engineProcess.ts', 'main/lab/jobHost/jobWorker.ts'] as const;
export const preloadEntry = 'main/desktop/preload.ts';

/** The relative modules a file imports at run time (type-only imports and exports excluded). */
export function runtimeImports(source: string, fileName: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) found.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found.filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'));
}

/** Files a module reaches with `new URL('./relative', import.meta.url)` (assets to copy beside it). */
export function urlAssets(source: string): string[] {
  return [...source.matchAll(/new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g)].map((m) => m[1]!);
}

/** Rewrite the relative `.ts` specifiers of esbuild's output (which prints them `from "./x.ts"`, `import("./x.ts")`). */
export function rewriteTsSpecifiers(code: string): string {
  return code.replace(/(\bfrom\s*|\bimport\s*\(?\s*)"(\.\.?\/[^"\n]*?)\.ts"/g, '$1"$2.js"');
}

export interface DesktopBuild {
  readonly modules: readonly string[];
  readonly assets: readonly string[];
  readonly preload: string;
}

/** Build out/app and out/desktop from the sources under `root`. */
export async function buildDesktop(options: { root: string; out?: string; log?: (line: string) => void }): Promise<DesktopBuild> {
  const root = resolve(options.root);
  const out = resolve(options.out ?? join(root, 'out'));
  const appOut = join(out, relative('out', outLayout.app));
  const desktopOut = join(out, relative('out', outLayout.desktop));
  const inRoot = (path: string) => {
    const rel = relative(root, path);
    if (rel.startsWith('..') || rel.includes(`node_modules${sep}`)) throw new Error(`the desktop build reaches outside the project: ${path}`);
    return rel;
  };
  rmSync(appOut, { recursive: true, force: true });
  rmSync(desktopOut, { recursive: true, force: true });

  // 1. Every module the entries reach, transpiled in place of its source.
  const queue = desktopEntries.map((entry) => join(root, entry));
  const seen = new Set<string>();
  const modules: string[] = [];
  const assets = new Set<string>();
  const { build, transform } = await import('esbuild');
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const specifier of runtimeImports(source, file)) {
      const target = resolve(dirname(file), specifier);
      if (target.endsWith('.ts')) queue.push(target);
      else assets.add(target);
    }
    for (const asset of urlAssets(source)) {
      const target = resolve(dirname(file), asset);
      if (existsSync(target) && statSync(target).isFile() && !target.endsWith('.ts')) assets.add(target);
    }
    const output = await transform(source, {
      loader: 'ts',
      format: 'esm',
      target: 'node22',
      sourcefile: inRoot(file),
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } },
    });
    const code = rewriteTsSpecifiers(output.code);
    const left = /(\bfrom\s*|\bimport\s*\(?\s*)["']\.\.?\/[^"'\n]*\.ts["']/.exec(code);
    if (left) throw new Error(`${inRoot(file)}: a .ts import survived the build (${left[0]})`);
    const target = join(appOut, inRoot(file).replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, code);
    modules.push(inRoot(file));
  }

  // 2. Their files (the wasm kernels, package.json for "type": "module" and the version).
  assets.add(join(root, 'package.json'));
  for (const asset of assets) {
    const target = join(appOut, inRoot(asset));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(asset, target);
  }
  const identity = codeIdentity();
  writeFileSync(join(appOut, 'build-info.json'), JSON.stringify({ version: identity.version, commit: identity.commit, dirty: identity.dirty }, null, 2) + '\n');

  // 3. The preload, one CommonJS file for the sandbox.
  const preload = join(desktopOut, relative(outLayout.desktop, outLayout.preload));
  await build({
    entryPoints: [join(root, preloadEntry)],
    outfile: preload,
    bundle: true,
    format: 'cjs',
    platform: 'browser',
    target: 'chrome130',
    external: ['electron'],
    logLevel: 'silent',
    legalComments: 'none',
  });
  const requires = [...readFileSync(preload, 'utf8').matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
  const foreign = requires.filter((name) => name !== 'electron');
  if (foreign.length > 0) throw new Error(`the preload bundle requires ${foreign.join(', ')}: a sandboxed preload can require only electron`);

  options.log?.(`desktop build: ${modules.length} modules and ${assets.size} files in ${relative(root, appOut) || appOut}, preload ${relative(root, preload)}`);
  return { modules, assets: [...assets].map(inRoot), preload };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  buildDesktop({ root, log: (line) => process.stdout.write(`${line}\n`) }).catch((error: unknown) => {
    process.stderr.write(`the desktop build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
