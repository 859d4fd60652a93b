#!/usr/bin/env node
// Runs the browser scenarios against the browser harness served by --base (tests/grafanashim in front
// of the real plugin backend, an agent and WordPress): each scenario opens a page, waits for its real
// content, checks what a person sees, saves DIR/<name>.png (1440×900, full page) and fails on any
// console.error or page error not in allowlist.mjs.
//
//   node tests/browser/run.mjs --base http://127.0.0.1:PORT --out DIR [--only name[,name]] [--chromium PATH]
//
// Prints one line per scenario and exits non-zero if any failed. DIR/report.json has the details.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { allowed } from './allowlist.mjs';
import { Api, ScenarioError } from './lib.mjs';
import { appScenarios } from './scenarios/app.mjs';
import { dashboardPhpOverview } from './scenarios/dashboard.mjs';
import { flamePanel } from './scenarios/flamePanel.mjs';
import { queryEditorSearch, queryEditorTracePaste } from './scenarios/queryEditor.mjs';

const SCENARIOS = [queryEditorSearch, queryEditorTracePaste, flamePanel, ...appScenarios, dashboardPhpOverview];
const VIEWPORT = { width: 1440, height: 900 };
const SCENARIO_TIMEOUT_MS = 120_000;

function parseArgs(argv) {
  const opts = { base: '', out: '', only: [], chromium: '/usr/bin/chromium' };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) {
        throw new Error(`${argv[i]} needs a value`);
      }
      return argv[++i];
    };
    switch (argv[i]) {
      case '--base':
        opts.base = value().replace(/\/$/, '');
        break;
      case '--out':
        opts.out = value();
        break;
      case '--only':
        opts.only.push(...value().split(','));
        break;
      case '--chromium':
        opts.chromium = value();
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!opts.base || !opts.out) {
    throw new Error('usage: run.mjs --base http://127.0.0.1:PORT --out DIR [--only name] [--chromium PATH]');
  }
  const unknown = opts.only.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) {
    throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  return opts;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new ScenarioError(`${what} took longer than ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function runScenario(browser, scenario, opts, api) {
  const started = Date.now();
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  const problems = [];
  const tolerated = [];
  const record = (kind, text) => {
    const allow = allowed(scenario.name, text);
    (allow ? tolerated : problems).push(allow ? `${kind}: ${text} [allowed: ${allow.reason}]` : `${kind}: ${text}`);
  };
  page.on('console', (m) => {
    if (m.type() === 'error') {
      const where = m.location()?.url ? ` (${m.location().url})` : '';
      record('console.error', m.text() + where);
    }
  });
  page.on('pageerror', (e) => record('pageerror', e.stack ?? e.message));

  const notes = [];
  const file = path.join(opts.out, `${scenario.name}.png`);
  let shot = false;
  const ctx = {
    page,
    api,
    base: opts.base,
    note: (text) => notes.push(text),
    // A scenario that navigates away at its end saves the page at its telling moment itself.
    screenshot: async () => {
      // Icons arrive as separate SVG requests after the content the scenario waited for; until
      // then @grafana/ui draws a placeholder square.
      await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
      await page.screenshot({ path: file, fullPage: true });
      shot = true;
    },
  };
  let failure;
  try {
    await withTimeout(scenario.run(ctx), SCENARIO_TIMEOUT_MS, scenario.name);
  } catch (err) {
    failure = err instanceof ScenarioError ? err.message : (err.stack ?? String(err));
  }
  if (!shot || failure) {
    await page.screenshot({ path: file, fullPage: true }).catch((err) => notes.push(`no screenshot: ${err.message}`));
  }
  await context.close();
  const failures = [...(failure ? [failure] : []), ...problems];
  return {
    name: scenario.name,
    ok: failures.length === 0,
    seconds: (Date.now() - started) / 1000,
    failures,
    tolerated,
    notes,
    screenshot: file,
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.out, { recursive: true });
  const api = new Api(opts.base);
  const browser = await chromium.launch({
    executablePath: opts.chromium,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
  const results = [];
  try {
    for (const scenario of SCENARIOS.filter((s) => !opts.only.length || opts.only.includes(s.name))) {
      const r = await runScenario(browser, scenario, opts, api);
      results.push(r);
      const head = `${r.ok ? 'PASS' : 'FAIL'} ${r.name} (${r.seconds.toFixed(1)} s)`;
      console.log(r.ok ? `${head}: ${r.notes.join('; ')}` : `${head}: ${r.failures[0].split('\n')[0]}`);
      for (const f of r.failures.slice(1)) {
        console.log(`     also: ${f.split('\n')[0]}`);
      }
    }
  } finally {
    await browser.close();
  }
  fs.writeFileSync(path.join(opts.out, 'report.json'), JSON.stringify(results, null, 2));
  const failed = results.filter((r) => !r.ok);
  console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
  if (failed.length) {
    console.log(`failed: ${failed.map((r) => r.name).join(', ')} (details in ${path.join(opts.out, 'report.json')})`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(`browser tests: ${err.message}`);
  process.exitCode = 2;
});
