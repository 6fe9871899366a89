/**
 * electron-builder's configuration for the desktop app. electron-builder does not find this
 * file by its name: `npm run dist` passes it with `--config electron.config.ts` (it loads
 * TypeScript through jiti and takes the default export).
 *
 *   npm run dist     the renderer (vite), the desktop code (main/desktop/build.ts), then the
 *                    installers for the platform it runs on, in dist/desktop/:
 *                    Linux AppImage and deb, macOS dmg, Windows nsis
 *
 * The package holds out/app (main/ and shared/ compiled, tree shape kept), out/desktop (the
 * preload), renderer/dist and the production node_modules. Native addons and wasm files are
 * unpacked from app.asar (`asarUnpack` below): the OS loads a .node only from a real file, and
 * the wasm files are read by path. better-sqlite3 is rebuilt for Electron's ABI by
 * `npmRebuild`, in place, which is why `npm run dist` puts the system Node's build back
 * afterwards (main/desktop/keepSystemNodeBuild.ts).
 */
import type { Configuration } from 'electron-builder';

/**
 * What is unpacked from app.asar, and why. test/desktop/builderConfig.test.ts checks that each
 * pattern matches real files (an optional package may be absent: then it matches nothing).
 */
export const asarUnpackPatterns: readonly { readonly glob: string; readonly why: string; readonly optionalPackage?: string }[] = [
  { glob: 'node_modules/better-sqlite3/build/Release/*.node', why: 'the run store: SQLite, rebuilt for Electron by npmRebuild' },
  { glob: 'node_modules/@resvg/resvg-js-*/*.node', why: 'PNG export (resvg, one prebuilt package per platform)' },
  { glob: 'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm', why: 'the wasm compute backend' },
  { glob: 'node_modules/webgpu/dist/*/*', why: "the webgpu compute backend: Dawn's Node binding (dawn.node, N-API, and the DLLs it needs on Windows)" },
  { glob: '**/engine/kernels/*.wasm', why: 'the fused SIMD kernels (main/engine/kernels in the sources, out/app/main/engine/kernels in the package)' },
  {
    glob: 'node_modules/@tensorflow/tfjs-node-gpu/{lib,deps}/**',
    why: 'native TensorFlow: its binding (.node) and libtensorflow (.so, .dylib, .dll)',
    optionalPackage: '@tensorflow/tfjs-node-gpu',
  },
];

const config: Configuration = {
  appId: 'org.purification-lab.workbench',
  productName: 'Purification Lab',
  executableName: 'purification-lab',
  copyright: 'Copyright © Purification Lab contributors (MIT)',
  directories: { output: 'dist/desktop', buildResources: 'main/desktop/resources' },
  // package.json and the production node_modules are always added by electron-builder.
  files: ['out/app/**/*', 'out/desktop/**/*', 'renderer/dist/**/*', '!**/*.map', '!out/native-backup/**'],
  // The entry in the package; the checkout's package.json has none (npm start runs the launcher).
  extraMetadata: { main: 'out/app/main/desktop/mainProcess.js' },
  asar: true,
  asarUnpack: asarUnpackPatterns.map((p) => p.glob),
  npmRebuild: true,
  buildDependenciesFromSource: false,
  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  },
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science',
    maintainer: 'Purification Lab contributors <purification-lab@users.noreply.github.com>',
    synopsis: 'A lab workbench for feature purification',
  },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.education',
    hardenedRuntime: true,
  },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  publish: null,
};

export default config;
