// Tests of scripts/check-dist.mjs: node --test scripts/check-dist.test.mjs (scripts/test.sh runs them).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkDist } from './check-dist.mjs';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'check-dist.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'check-dist-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const info = (extra = {}) => ({
  keywords: ['php'],
  logos: { small: 'img/logo.svg', large: 'img/logo.svg' },
  version: '1.0.0',
  updated: '2026-11-26',
  ...extra,
});

const APP = {
  type: 'app',
  name: 'Tusk',
  id: 'tusk-php-app',
  backend: true,
  executable: 'gpx_php',
  info: info(),
  includes: [
    { type: 'datasource', name: 'Tusk PHP traces' },
    { type: 'panel', name: 'PHP flame graph' },
    { type: 'page', name: 'Configuration', path: '/plugins/tusk-php-app', role: 'Admin', addToNav: true },
  ],
  dependencies: { grafanaDependency: '>=12.3.0', plugins: [] },
  buildMode: 'production',
};
const DATASOURCE = {
  type: 'datasource',
  name: 'Tusk PHP traces',
  id: 'tusk-php-datasource',
  backend: true,
  executable: '../gpx_php',
  tracing: true,
  metrics: true,
  alerting: true,
  info: info(),
  dependencies: { grafanaDependency: '>=12.3.0' },
};
const PANEL = {
  type: 'panel',
  name: 'PHP flame graph',
  id: 'tusk-phpflame-panel',
  info: info(),
  dependencies: { grafanaDependency: '>=12.3.0' },
};

let count = 0;
/**
 * A dist/ as npm run build writes it (app, nested datasource and panel, backend binaries), with change applied to
 * the tree of files before it is written: { 'panel/plugin.json': undefined } leaves a file out.
 */
function makeDist(change = {}) {
  const dist = path.join(tmp, `dist${++count}`);
  const files = {
    'plugin.json': APP,
    'module.js': 'define([], {})',
    'img/logo.svg': '<svg/>',
    'datasource/plugin.json': DATASOURCE,
    'datasource/module.js': 'define([], {})',
    'datasource/img/logo.svg': '<svg/>',
    'panel/plugin.json': PANEL,
    'panel/module.js': 'define([], {})',
    'panel/img/logo.svg': '<svg/>',
    gpx_php_linux_amd64: '\x7fELF',
    gpx_php_linux_arm64: '\x7fELF',
    ...change,
  };
  for (const [name, content] of Object.entries(files)) {
    if (content === undefined) {
      continue;
    }
    const file = path.join(dist, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    if (name.startsWith('gpx_')) {
      fs.chmodSync(file, 0o755);
    }
  }
  return dist;
}

const problemsOf = (dist, options = {}) => checkDist({ dist, ...options }).problems;

/** Asserts that some problem matches each pattern. */
function assertProblems(problems, ...patterns) {
  for (const pattern of patterns) {
    assert.ok(
      problems.some((p) => pattern.test(p)),
      `no problem matches ${pattern}; problems:\n  ${problems.join('\n  ') || '(none)'}`
    );
  }
}

describe('check-dist', () => {
  it('passes a complete dist', () => {
    const result = checkDist({ dist: makeDist() });
    assert.deepEqual(result.problems, []);
    assert.equal(result.plugins.length, 3);
    assert.match(
      result.plugins[0].line,
      /^ok {3}dist\d+\/plugin\.json: tusk-php-app 1\.0\.0 app; module\.js; logos; backend/
    );
    assert.match(result.plugins[0].line, /includes datasource "Tusk PHP traces", panel "PHP flame graph"/);
  });

  it('fails a plugin.json without an id', () => {
    const { id: _, ...noId } = DATASOURCE;
    assertProblems(problemsOf(makeDist({ 'datasource/plugin.json': noId })), /datasource\/plugin\.json: missing id$/);
  });

  it('fails ids that break the naming convention', () => {
    const problems = problemsOf(
      makeDist({
        'datasource/plugin.json': { ...DATASOURCE, id: 'Tusk_PHP-datasource' },
        'panel/plugin.json': { ...PANEL, id: 'tusk-flame-app' },
      })
    );
    assertProblems(
      problems,
      /datasource\/plugin\.json: id "Tusk_PHP-datasource" does not match \^\[0-9a-z\]/,
      /panel\/plugin\.json: id "tusk-flame-app" does not match -panel\$ \(a panel's id ends in -panel\)/
    );
  });

  it('fails a plugin without module.js', () => {
    assertProblems(
      problemsOf(makeDist({ 'panel/module.js': undefined })),
      /panel\/plugin\.json: has no module\.js next to it: no src\/panel\/module\.ts was built/
    );
  });

  it('fails a missing logo', () => {
    assertProblems(
      problemsOf(makeDist({ 'panel/img/logo.svg': undefined })),
      /panel\/plugin\.json: info\.logos\.small names img\/logo\.svg, which is not in dist\d+\/panel\//
    );
  });

  it('fails placeholders the build left', () => {
    const problems = problemsOf(
      makeDist({ 'plugin.json': { ...APP, info: info({ version: '%VERSION%', updated: '%TODAY%' }) } })
    );
    assertProblems(
      problems,
      /plugin\.json: info\.version still holds %VERSION%: the build did not replace it/,
      /plugin\.json: info\.updated still holds %TODAY%/
    );
  });

  it('fails an app whose includes miss a nested plugin, or name one that is not there', () => {
    const problems = problemsOf(
      makeDist({
        'plugin.json': {
          ...APP,
          includes: [APP.includes[0], { type: 'panel', name: 'Old panel' }],
        },
      })
    );
    assertProblems(
      problems,
      /^dist\d+\/plugin\.json: includes no panel named "PHP flame graph" \(dist\d+\/panel\/plugin\.json\)/,
      /includes\.1 is the panel "Old panel", but no nested plugin\.json in dist has that type and name/
    );
  });

  it('fails a backend without its Linux binaries', () => {
    assertProblems(
      problemsOf(makeDist({ gpx_php_linux_arm64: undefined })),
      /^dist\d+\/plugin\.json: backend: gpx_php_linux_arm64 is missing/,
      /datasource\/plugin\.json: backend: \.\.\/gpx_php_linux_arm64 is missing/
    );
  });

  it('fails a data source that names its own binary instead of the app’s', () => {
    assertProblems(
      problemsOf(makeDist({ 'datasource/plugin.json': { ...DATASOURCE, executable: 'gpx_php' } })),
      /datasource\/plugin\.json: backend: gpx_php_linux_amd64 is missing/
    );
  });

  it('fails a plugin that is not the backend plugin asked for', () => {
    const { backend: _, executable: __, alerting: ___, ...frontendOnly } = DATASOURCE;
    const backends = { '.': 'gpx_php', datasource: '../gpx_php' };
    assert.deepEqual(problemsOf(makeDist(), { backends }), []);
    assertProblems(
      problemsOf(makeDist({ 'datasource/plugin.json': frontendOnly }), { backends }),
      /datasource\/plugin\.json: should be a backend plugin run by \.\.\/gpx_php \("backend": true, "executable": "\.\.\/gpx_php"\), not \{\}/
    );
    assertProblems(
      problemsOf(makeDist({ 'datasource/plugin.json': undefined }), { backends }),
      /^dist\d+\/datasource\/plugin\.json is missing: it should be the backend plugin run by \.\.\/gpx_php/
    );
  });

  it('fails what the schema refuses', () => {
    const problems = problemsOf(
      makeDist({
        'datasource/plugin.json': {
          ...DATASOURCE,
          backend: false,
          exectuable: 'gpx_php',
          dependencies: { grafanaDependency: 'twelve' },
          info: info({ version: 'v1', logos: { small: 'img/logo.svg' } }),
        },
        'panel/plugin.json': { ...PANEL, type: 'widget', tracing: true },
      })
    );
    assertProblems(
      problems,
      /datasource\/plugin\.json: unknown property exectuable/,
      /datasource\/plugin\.json: missing info\.logos\.large/,
      /datasource\/plugin\.json: backend is false: want true \(alerting needs a backend\)/,
      /datasource\/plugin\.json: info\.version "v1" is not a SemVer version/,
      /datasource\/plugin\.json: dependencies\.grafanaDependency "twelve" is not a version range/,
      /panel\/plugin\.json: type is "widget": want one of app, datasource, panel, renderer, secretsmanager/,
      /panel\/plugin\.json: alerting, annotations, .* are for data sources only/
    );
  });

  it('fails a page include without a path and a dashboard that is not there', () => {
    const problems = problemsOf(
      makeDist({
        'plugin.json': {
          ...APP,
          includes: [
            ...APP.includes.slice(0, 2),
            { type: 'page', name: 'Fleet' },
            { type: 'dashboard', name: 'Overview', path: 'dashboards/overview.json' },
          ],
        },
      })
    );
    assertProblems(
      problems,
      /plugin\.json: missing includes\.2\.path \(a page is opened at its path\)/,
      /includes\.3 is the dashboard dashboards\/overview\.json, which is not in dist/
    );
  });

  it('fails a dist that lacks a plugin of src, or its root plugin.json', () => {
    const src = path.join(tmp, 'src');
    for (const dir of ['', 'datasource', 'panel']) {
      fs.mkdirSync(path.join(src, dir), { recursive: true });
      fs.writeFileSync(path.join(src, dir, 'plugin.json'), '{}');
    }
    const problems = problemsOf(makeDist({ 'plugin.json': undefined, 'panel/plugin.json': undefined }), { src });
    assertProblems(
      problems,
      /^dist\d+\/plugin\.json is missing: run npm run build/,
      /^dist\d+\/panel\/plugin\.json is missing: src\/panel\/plugin\.json was not built/
    );
  });

  it('fails JSON that does not parse', () => {
    assertProblems(problemsOf(makeDist({ 'panel/plugin.json': '{"id": ' })), /panel\/plugin\.json: is not valid JSON/);
  });

  it('prints one line per plugin and exits 1 on problems', () => {
    const dist = makeDist({ 'panel/module.js': undefined });
    const run = spawnSync(process.execPath, [SCRIPT, '--dist', dist, '--src', ''], { encoding: 'utf8' });
    assert.equal(run.status, 1, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0], /^ok {3}dist\d+\/plugin\.json: tusk-php-app/);
    assert.match(lines[1], /^ok {3}dist\d+\/datasource\/plugin\.json: tusk-php-datasource/);
    assert.match(lines[2], /^FAIL dist\d+\/panel\/plugin\.json: tusk-phpflame-panel 1\.0\.0 panel; logos$/);
    assert.match(lines[3], /^ {7}has no module\.js next to it/);
    assert.equal(lines.at(-1), 'dist: 1 problem in 3 plugins');
  });

  it('exits 0 on a complete dist', () => {
    const run = spawnSync(process.execPath, [SCRIPT, '--dist', makeDist(), '--src', ''], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(run.stdout.trim().split('\n').at(-1), 'dist: 3 plugins, all loadable');
  });
});
