// force timezone to UTC to allow tests to work regardless of local timezone
process.env.TZ = 'UTC';
const base = require('./.config/jest.config');
const { grafanaESModules, nodeModulesToTransform } = require('./.config/jest/utils');

// ESM-only packages pulled in by @grafana 13 / scenes / flamegraph that the scaffold's list lacks.
const extraESModules = ['@grafana/i18n', '@react-hookz', '@ver0/deep-equal', 'd3-[a-z-]+', 'internmap', 'delaunator', 'robust-predicates'];

module.exports = {
  ...base,
  // .mjs files must be transformed too (the scaffold's pattern only matches .js/.ts).
  transform: { '^.+\\.m?(t|j)sx?$': base.transform['^.+\\.(t|j)sx?$'] },
  transformIgnorePatterns: [nodeModulesToTransform([...grafanaESModules, ...extraESModules])],
};
