import CopyWebpackPlugin from 'copy-webpack-plugin';
import path from 'path';
import type { Configuration } from 'webpack';
import { merge } from 'webpack-merge';
import grafanaConfig, { type Env } from './.config/webpack/webpack.config';

// The scaffold copies the logos of src/plugin.json only; the nested data
// source's and panel's plugin.json point at their own img/.
const config = async (env: Env): Promise<Configuration> =>
  merge(await grafanaConfig(env), {
    cache: {
      type: 'filesystem',
      buildDependencies: { config: [path.resolve(process.cwd(), 'webpack.config.ts')] },
    },
    plugins: [
      new CopyWebpackPlugin({
        patterns: [
          { from: 'datasource/img', to: 'datasource/img' },
          { from: 'panel/img', to: 'panel/img' },
        ],
      }),
    ],
  });

export default config;
