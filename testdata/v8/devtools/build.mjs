// Bundles DevTools' heap snapshot worker (front_end/entrypoints/heap_snapshot_worker of the
// chrome-devtools-frontend npm package) into one ES module that Node runs:
//   node build.mjs NODE_MODULES OUT.mjs
// DevTools' own build generates core/i18n/locales.js; the worker only needs its English defaults, which a
// small virtual module gives here.
import { createRequire } from 'node:module';
import path from 'node:path';

const [nodeModules, out] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(nodeModules), 'noop.js'));
const esbuild = require('esbuild');
const frontEnd = path.join(path.resolve(nodeModules), 'chrome-devtools-frontend', 'front_end');

const locales = {
  name: 'devtools-locales',
  setup(build) {
    build.onResolve({ filter: /^\.\/locales\.js$/ }, (args) =>
      args.importer.endsWith(path.join('core', 'i18n', 'i18nImpl.ts'))
        ? { path: 'locales', namespace: 'devtools-locales' }
        : undefined);
    build.onLoad({ filter: /.*/, namespace: 'devtools-locales' }, () => ({
      contents: `export const LOCALES = ['en-US'];
export const BUNDLED_LOCALES = ['en-US'];
export const DEFAULT_LOCALE = 'en-US';
export const REMOTE_FETCH_PATTERN = '';
export const LOCAL_FETCH_PATTERN = '';`,
      loader: 'js',
    }));
  },
};

await esbuild.build({
  entryPoints: [path.join(frontEnd, 'entrypoints', 'heap_snapshot_worker', 'heap_snapshot_worker.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: out,
  logLevel: 'warning',
  plugins: [locales],
});
