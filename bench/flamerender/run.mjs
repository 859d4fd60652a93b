#!/usr/bin/env node
// The flame graph render benchmark: how long the Tusk flame panel (src/panel, on @grafana/flamegraph)
// takes to show a 50k-node profile, against a 1k-node control in the same run.
//
// It serves the browser harness (tests/browser/dist, `npm run build:harness`) itself, opens its panel
// route in headless Chromium and times window.__tuskRenderFlame(frame): from setting the panel's data
// to the first paint of the canvas drawn with it (React commit, the library's draw effect, then the
// frame's paint). No backend: the frames are generated here (profile.mjs, fixed seed).
//
//   node bench/flamerender/run.mjs [--reps 10] [--nodes 50000] [--control 1000] [--seed 1]
//                                  [--screenshot FILE] [--json]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { generateProfile } from './profile.mjs';
import { serveStatic } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const GOAL_MS = 300;
const VIEWPORT = { width: 1440, height: 900 };

function parseArgs(argv) {
  const opts = {
    reps: 10,
    nodes: 50_000,
    control: 1_000,
    seed: 1,
    json: false,
    screenshot: '',
    chromium: '/usr/bin/chromium',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) {
        throw new Error(`${a} needs a value`);
      }
      return argv[++i];
    };
    switch (a) {
      case '--reps':
        opts.reps = Number(next());
        break;
      case '--nodes':
        opts.nodes = Number(next());
        break;
      case '--control':
        opts.control = Number(next());
        break;
      case '--seed':
        opts.seed = Number(next());
        break;
      case '--screenshot':
        opts.screenshot = next();
        break;
      case '--chromium':
        opts.chromium = next();
        break;
      case '--json':
        opts.json = true;
        break;
      case '-h':
      case '--help':
        console.log(
          fs
            .readFileSync(fileURLToPath(import.meta.url), 'utf8')
            .split('\n')
            .slice(1, 11)
            .join('\n')
        );
        process.exit(0);
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  return opts;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summarize(samples) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const commit = samples.map((s) => s.commitMs).sort((a, b) => a - b);
  return {
    n: ms.length,
    medianMs: percentile(ms, 50),
    p95Ms: percentile(ms, 95),
    minMs: ms[0],
    maxMs: ms[ms.length - 1],
    commitMedianMs: percentile(commit, 50),
    drawsPerRender: [...new Set(samples.map((s) => s.draws))].sort((a, b) => a - b),
    samplesMs: samples.map((s) => round(s.ms)),
  };
}

const round = (x) => Math.round(x * 10) / 10;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dist = path.join(root, 'tests/browser/dist');
  const server = await serveStatic(dist);
  const browser = await chromium.launch({
    executablePath: opts.chromium,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));

    const params = new URLSearchParams({ width: String(VIEWPORT.width - 40), height: String(VIEWPORT.height - 60) });
    await page.goto(`${server.url}/harness/panel?${params}`);
    await page.waitForFunction(() => typeof window.__tuskRenderFlame === 'function', null, { timeout: 60_000 });

    const large = generateProfile(opts.nodes, opts.seed);
    const control = generateProfile(opts.control, opts.seed);
    // The frames go to the page once; each render then decodes a fresh DataFrame from them, so every
    // repetition is new data to the panel, as a query result is.
    await page.evaluate(
      (frames) => {
        window.__benchFrames = frames;
      },
      { large: large.frame, control: control.frame }
    );

    const render = (name) => page.evaluate((n) => window.__tuskRenderFlame(window.__benchFrames[n]), name);
    const info = await page.evaluate(() => ({
      userAgent: navigator.userAgent,
      devicePixelRatio: window.devicePixelRatio,
    }));

    // Warm-up: the first render mounts the flame graph and compiles its code paths.
    await render('control');
    await render('large');
    const samples = { control: [], large: [] };
    for (let i = 0; i < opts.reps; i++) {
      // Interleaved, so both sizes see the same machine state over the run.
      samples.control.push(await render('control'));
      samples.large.push(await render('large'));
    }
    if (opts.screenshot) {
      await page.screenshot({ path: opts.screenshot, fullPage: true });
    }

    const result = {
      goalMs: GOAL_MS,
      judgedOn: 'p95 of the large profile',
      browser: info.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? info.userAgent,
      devicePixelRatio: info.devicePixelRatio,
      seed: opts.seed,
      large: { ...large.stats, ...summarize(samples.large) },
      control: { ...control.stats, ...summarize(samples.control) },
      problems,
    };
    result.ratioMedian = result.large.medianMs / result.control.medianMs;
    result.pass = result.large.p95Ms <= GOAL_MS;

    if (opts.json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      const line = (name, r) =>
        `${name.padEnd(8)} ${String(r.nodes).padStart(6)} nodes, depth ≤ ${r.maxDepth}: ` +
        `median ${round(r.medianMs)} ms, p95 ${round(r.p95Ms)} ms (min ${round(r.minMs)}, max ${round(r.maxMs)}; ` +
        `React commit median ${round(r.commitMedianMs)} ms; canvas draws per render ${r.drawsPerRender.join('/')}), n=${r.n}`;
      console.log(
        `flame graph render, ${result.browser}, viewport ${VIEWPORT.width}×${VIEWPORT.height}, seed ${opts.seed}`
      );
      console.log(line('control', result.control));
      console.log(line('large', result.large));
      console.log(`ratio of medians large/control: ${result.ratioMedian.toFixed(1)}×`);
      console.log(`goal: ${opts.nodes} nodes painted in ≤ ${GOAL_MS} ms (p95): ${result.pass ? 'PASS' : 'MISS'}`);
      for (const p of problems) {
        console.log(`page reported: ${p}`);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((err) => {
  console.error(`flamerender: ${err.message}`);
  // A benchmark, not a test: it reports and exits 0 unless it could not run at all.
  process.exit(1);
});
