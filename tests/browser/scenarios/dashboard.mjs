// The dashboard the app provisions (src/dashboards/php-overview.json), read into scenes by the harness
// (/harness/dashboard?uid=…): each panel shows what the same query answers through the API, and the slowest
// requests table's trace id link sets the trace variable, which the traces panel below follows.
import fs from 'node:fs';
import { canvasInk, check, eventually, fleet, frameRows, WORDPRESS_SYMBOL } from '../lib.mjs';

const DASHBOARD = JSON.parse(
  fs.readFileSync(new URL('../../../src/dashboards/php-overview.json', import.meta.url), 'utf8')
);
const HOUR_MS = 3600_000;

const panelsOfType = (type) => DASHBOARD.panels.filter((p) => p.type === type);
const onePanel = (type) => {
  const [panel, ...more] = panelsOfType(type);
  check(
    panel && more.length === 0,
    `the dashboard should have one ${type} panel, it has ${more.length + (panel ? 1 : 0)}`
  );
  return panel;
};
const panelSelector = (panel) => `[data-viz-panel-key="panel-${panel.id}"]`;

export const dashboardPhpOverview = {
  name: 'dashboard-php-overview',
  async run({ page, api, base, note, screenshot }) {
    const to = Date.now();
    const range = { from: to - HOUR_MS, to };
    const ds = await api.datasource();
    const { pools } = await fleet(api);
    check(pools.length > 0, 'the fleet resource lists no php-fpm pool');
    const slowest = frameRows((await api.query({ queryType: 'search', order: 'slowest', limit: 20 }, range))[0]);
    check(slowest.length > 0, 'a search over the last hour found no requests: is WordPress being loaded?');
    const nodes = frameRows((await api.query({ queryType: 'flamegraph' }, range))[0]);
    const wordpressFunctions = [...new Set(nodes.map((n) => String(n.label)).filter((l) => WORDPRESS_SYMBOL.test(l)))];
    check(wordpressFunctions.length > 0, 'the flamegraph query over the last hour has no WordPress function');

    // Queries the backend refuses. The traces panel's `$traceId` query must not go out while no trace is chosen
    // (the datasource's filterQuery drops it after interpolating the variable); any refusal fails.
    const refused = [];
    page.on('response', (res) => {
      if (res.url().includes('/api/ds/query') && res.status() === 400) {
        const queries = res.request().postDataJSON()?.queries ?? [];
        refused.push(JSON.stringify(queries).slice(0, 300));
      }
    });

    await page.goto(`${base}/harness/dashboard?uid=${DASHBOARD.uid}&from=now-1h&to=now`);
    await page.getByTestId('harness-dashboard').waitFor({ timeout: 30_000 });
    const heading = (await page.getByRole('heading', { level: 1 }).innerText()).trim();
    check(heading === DASHBOARD.title, `the page heading is "${heading}", the dashboard's title "${DASHBOARD.title}"`);

    // RED: every time series panel draws a graph whose legend names a pool of the fleet.
    const red = panelsOfType('timeseries');
    check(red.length === 3, `the dashboard has ${red.length} time series panels, not 3 (requests, errors, p95)`);
    for (const panel of red) {
      const sel = panelSelector(panel);
      await eventually(async () => (await canvasInk(page, sel)).inked > 0, `"${panel.title}" to draw its graph`);
      await eventually(
        async () => {
          const text = await page.locator(sel).innerText();
          return pools.some((p) => text.includes(p));
        },
        `"${panel.title}"'s legend to name one of the pools ${pools.join(', ')}`
      );
    }

    // The slowest requests: rows of the API's answer, and the trace id link that shows one below.
    const tablePanel = onePanel('table');
    const table = page.locator(panelSelector(tablePanel));
    const byId = new Map(slowest.map((r) => [String(r.traceID), r]));
    const shownIds = await eventually(async () => {
      const cells = (await table.getByRole('cell').allInnerTexts()).map((t) => t.trim());
      const ids = cells.filter((t) => byId.has(t));
      const names = cells.filter((t) => slowest.some((r) => r.traceName === t));
      return ids.length > 0 && names.length > 0 && ids;
    }, `the slowest requests table to list requests of the API's answer (${slowest[0].traceName}, …)`);
    const paths = [...new Set(shownIds.map((id) => byId.get(id).traceName))];
    check(
      paths.every((p) => /^[A-Z]+ \//.test(p)),
      `the table's requests are not "METHOD /path": ${paths.slice(0, 5).join(', ')}`
    );

    // The flame graph: drawn, its top table listing WordPress's functions.
    const flame = panelSelector(onePanel('tusk-phpflame-panel'));
    const ink = await eventually(async () => {
      const c = await canvasInk(page, `${flame} [data-testid="php-flame-panel"]`);
      return c.inked > 1000 && c;
    }, 'the flame graph to be drawn');
    // At half the dashboard's width the panel shows the graph or the top table, one at a time.
    const view = (name) => page.locator(flame).getByRole('radio', { name, exact: true });
    await view('Top Table').check();
    const listed = await eventually(async () => {
      const text = await page.locator(`${flame} [data-testid="topTable"]`).innerText({ timeout: 1000 });
      const found = wordpressFunctions.filter((w) => text.includes(w));
      return found.length > 0 && found;
    }, 'the flame graph top table to list WordPress functions');
    await view('Flame Graph').check();

    // A GET request's trace id: its link sets var-traceId on this dashboard, and the traces panel shows it.
    const traceId = shownIds.find((id) => byId.get(id).traceName.startsWith('GET ')) ?? shownIds[0];
    const spans = frameRows((await api.query({ queryType: 'trace', traceId }, range))[0]);
    check(spans.length > 0, `the trace query for ${traceId} answers no spans`);
    // A cell with data links opens their menu when clicked; the trace id's has the dashboard's one link.
    const linkTitle = tablePanel.fieldConfig.overrides
      .find((o) => o.matcher.options === 'traceID')
      .properties.find((p) => p.id === 'links').value[0].title;
    await table.getByRole('cell', { name: traceId, exact: true }).first().click();
    const link = page.getByRole('link', { name: linkTitle, exact: true });
    await link.waitFor({ timeout: 10_000 });
    const href = new URL(await link.getAttribute('href'), base);
    const params = href.searchParams;
    check(href.pathname === `/d/${DASHBOARD.uid}/php-overview`, `the trace id link goes to ${href.pathname}`);
    check(params.get('var-traceId') === traceId, `the trace id link sets var-traceId=${params.get('var-traceId')}`);
    check(params.get('var-ds') === ds.uid, `the trace id link keeps var-ds=${params.get('var-ds')}, not ${ds.uid}`);
    check(
      params.get('from') === 'now-1h' && params.get('to') === 'now',
      `the trace id link keeps from=${params.get('from')}&to=${params.get('to')}, not now-1h..now`
    );
    check(
      params.has('var-service') && params.has('var-pool'),
      `the trace id link drops service or pool: ${href.search}`
    );
    await link.click();
    await eventually(() => {
      const url = new URL(page.url());
      return url.pathname === href.pathname && url.searchParams.get('var-traceId') === traceId;
    }, `the link to open ${href.pathname} with var-traceId=${traceId}`);
    await page.keyboard.press('Escape'); // the links menu stays open over the traces panel otherwise

    const traces = page.locator(panelSelector(onePanel('traces')));
    await traces.scrollIntoViewIfNeeded();
    await eventually(
      async () => (await traces.innerText()).includes(`Trace ${traceId}`),
      `the traces panel title to read "Trace ${traceId}"`
    );
    const shown = await eventually(async () => {
      const n = await traces.getByTestId('trace-span').count();
      return n > 0 && n;
    }, 'the traces panel to show spans');
    check(
      shown === Math.min(spans.length, 1000),
      `the traces panel shows ${shown} spans, the trace query answers ${spans.length}`
    );
    const root = await traces.getByTestId('trace-span').first().getAttribute('title');
    check(root?.startsWith('GET '), `the trace's root span is "${root}", not "GET …"`);
    const textbox = await page.getByRole('textbox', { name: 'Trace ID' }).inputValue({ timeout: 5000 });
    check(textbox === traceId, `the Trace ID box shows "${textbox}", not ${traceId}`);
    check(refused.length === 0, `the backend refused a query: ${refused.join('; ')}`);
    await screenshot();
    note(
      `pools ${pools.join(', ')}; ${shownIds.length} requests listed (${paths.slice(0, 3).join(', ')}); ` +
        `flame ${ink.inked} px, top table: ${listed.slice(0, 3).join(', ')}; ` +
        `trace ${traceId}: ${shown} spans, root "${root}"`
    );
  },
};
