// The browser harness: the plugin's real front end (src/) on @grafana/runtime services implemented
// here instead of by a Grafana server. Unlike the plugin build (.config/webpack), nothing is external:
// @grafana/*, React and scenes are bundled, because no Grafana provides them at run time.
// Built to tests/browser/dist by `npm run build:harness`; served by tests/grafanashim or bench/flamerender.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import CopyWebpackPlugin from 'copy-webpack-plugin';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const srcDir = path.join(root, 'src');
const fromRoot = (...p) => path.join(root, ...p);

// src/panel is written alongside this harness; until it exists the harness still builds, and the
// panel route says what is missing instead of rendering a flame graph.
const panelModule = ['module.tsx', 'module.ts'].map((f) => fromRoot('src/panel', f)).find((f) => fs.existsSync(f));
const panelJson = fromRoot('src/panel/plugin.json');

// One copy of @emotion/css for everything (@grafana/ui, scenes and flamegraph each carry 11.13, the
// plugin 11.10): Grafana shares one, and two caches with the key "css" fight over the same class names.
const emotionCss = fromRoot('node_modules/@grafana/ui/node_modules/@emotion/css');

const ICONS = fromRoot('node_modules/@grafana/ui/dist/public/img/icons');
const PLACEHOLDER_ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><title>harness placeholder icon</title>' +
  '<rect x="5" y="5" width="14" height="14" rx="3" fill="none" stroke="currentColor" stroke-width="2"/></svg>';

/** public/build/img/icons/<dir>/<name>.svg for the icon names of @grafana/data that @grafana/ui lacks. */
function missingIconFiles() {
  const index = fs.readFileSync(fromRoot('node_modules/@grafana/data/dist/esm/types/icon.mjs'), 'utf8');
  const names = [...index.matchAll(/^\s*"([a-z0-9-]+)": true/gm)].map((m) => m[1]);
  names.push('spinner'); // asked for by LoadingPlaceholder, not in the index
  const files = [];
  for (const name of names) {
    const dirs = name.startsWith('gf-') ? ['custom'] : ['unicons', 'mono', 'solid'];
    for (const dir of dirs) {
      if (!fs.existsSync(path.join(ICONS, dir, `${name}.svg`))) {
        files.push(`public/build/img/icons/${dir}/${name}.svg`);
      }
    }
  }
  return files;
}

export default (env = {}) => ({
  context: here,
  // Unminified: a page error in a test run should point at readable code; React's production build is
  // still used (mode production), which is what the render benchmark must measure. `--env development`
  // builds React's development version, for its full error messages when debugging the harness.
  mode: env.development ? 'development' : 'production',
  optimization: { minimize: false, moduleIds: 'named', chunkIds: 'named' },
  devtool: env.sourcemap ? 'source-map' : false,
  cache: {
    type: 'filesystem',
    cacheDirectory: fromRoot('node_modules/.cache/webpack-harness'),
    buildDependencies: { config: [fileURLToPath(import.meta.url)] },
  },
  entry: { boot: './boot.ts' },
  output: {
    path: path.resolve(here, '../dist'),
    publicPath: '/',
    filename: '[name].js',
    chunkFilename: 'chunks/[name].[contenthash:8].js',
    assetModuleFilename: 'assets/[name].[contenthash:8][ext]',
    clean: true,
  },
  performance: { hints: false },
  ignoreWarnings: [
    // @grafana/ui's Link imports react-router-dom-v5-compat, whose CompatRouter (unused here) wants
    // react-router-dom 5's useHistory; Link itself only needs react-router 6, which is what resolves.
    { module: /react-router-dom-v5-compat/, message: /useHistory/ },
  ],
  resolve: {
    extensions: ['.js', '.jsx', '.ts', '.tsx', '.mjs'],
    // src/ imports "plugin.json"-style paths relative to src, as the scaffold allows.
    modules: [srcDir, 'node_modules'],
    alias: {
      '@emotion/css$': emotionCss,
      'tusk-harness-panel-module$': panelModule ?? path.join(here, 'panels/missingPanel.ts'),
      'tusk-harness-panel-json$': fs.existsSync(panelJson) ? panelJson : path.join(here, 'panels/missingPanel.json'),
      // setPluginPage is not exported by @grafana/runtime (Grafana core reaches it by source path);
      // the harness sets its page chrome through the same module instance.
      'tusk-harness-runtime-plugin-page$': fromRoot('node_modules/@grafana/runtime/dist/esm/components/PluginPage.mjs'),
    },
  },
  module: {
    rules: [
      // Some ESM dependencies import without file extensions. And @grafana/ui's .mjs files import
      // CommonJS packages' default exports (react-custom-scrollbars-2, …): as javascript/esm, webpack would
      // hand them module.exports instead of exports.default; javascript/auto honours __esModule.
      { test: /\.m?js$/, type: 'javascript/auto', resolve: { fullySpecified: false } },
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2020',
              parser: { syntax: 'typescript', tsx: true, decorators: false, dynamicImport: true },
            },
          },
        },
      },
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.s[ac]ss$/, use: ['style-loader', 'css-loader', 'sass-loader'] },
      { test: /\.(png|jpe?g|gif|svg|woff2?|eot|ttf|otf)$/, type: 'asset/resource' },
    ],
  },
  plugins: [
    // @grafana/ui's Icon fetches SVGs from <public path>build/img/icons/ (boot.ts sets the public path
    // to /public/); @grafana/ui ships them.
    new CopyWebpackPlugin({
      patterns: [{ from: ICONS, to: 'public/build/img/icons' }],
    }),
    {
      // index.html is static; copy it rather than pulling in html-webpack-plugin. And a placeholder for
      // every icon @grafana/ui may ask for but does not ship (Grafana serves those from its own public/).
      apply(compiler) {
        compiler.hooks.thisCompilation.tap('HarnessStatic', (compilation) => {
          compilation.hooks.processAssets.tap({ name: 'HarnessStatic', stage: 0 }, () => {
            const { RawSource } = compiler.webpack.sources;
            compilation.emitAsset('index.html', new RawSource(fs.readFileSync(path.join(here, 'index.html'))));
            for (const file of missingIconFiles()) {
              compilation.emitAsset(file, new RawSource(PLACEHOLDER_ICON));
            }
          });
        });
      },
    },
  ],
});
