// The app's pages (src/scenes/app.ts: one scenes page, tabs Overview, Requests, Profiles, Probes) and its
// configuration page. Each scenario reads what the page should show from the same HTTP API first (the
// app backend's fleet resource, the data source's queries, the plugin settings) and checks the page
// shows it.
import { canvasInk, check, eventually, fleet, frameRows, showsAll, WORDPRESS_SYMBOL } from '../lib.mjs';

const APP = '/a/tusk-php-app';
// The API checks below look at the last 6 hours; the pages get the same range.
const RANGE = 'from=now-1h&to=now'; // the app's default range

async function openTab(page, base, route, title) {
  await page.goto(`${base}${APP}/${route}?${RANGE}`);
  await page.getByTestId('plugin-page').waitFor({ timeout: 30_000 });
  const tab = page.getByRole('tab', { name: title });
  await eventually(async () => (await tab.getAttribute('aria-selected')) === 'true', `the ${title} tab to be selected`);
}

/** Endpoints ("GET /…") the metrics query groups by, as the Overview's tables name them. */
async function endpoints(api) {
  const frames = await api.query({ queryType: 'metrics', metrics: ['p95'], groupBy: 'endpoint' });
  const names = frames.flatMap((f) => f.schema.fields.map((x) => x.labels?.endpoint).filter(Boolean));
  return [...new Set(names)];
}

export const appOverview = {
  name: 'app-overview',
  async run({ page, api, base, note }) {
    const { agents, pools } = await fleet(api);
    const known = await endpoints(api);
    check(known.length > 0, 'the metrics query grouped by endpoint found no endpoints in the last 6 hours');

    await openTab(page, base, 'overview', 'Overview');
    const names = agents.map((a) => a.name);
    await showsAll(page, [...names, ...pools.slice(0, 3)], 'the fleet with its agents and pools');
    for (const a of agents.filter((x) => !x.ok)) {
      note(`agent ${a.name} unreachable: ${a.error}`);
    }
    // The request-rate graph is drawn, and the slowest-endpoints table names real endpoints.
    await eventually(async () => {
      const ink = await canvasInk(page, '[data-testid="standin-timeseries"]');
      return ink.inked > 500;
    }, 'the Requests/s graph to be drawn');
    const shown = await eventually(
      async () => {
        const body = await page.locator('body').innerText();
        const found = known.filter((e) => body.includes(e));
        return found.length > 0 && found;
      },
      `one of the endpoints ${known.slice(0, 5).join(', ')} in the Slowest endpoints table`
    );
    note(`agents ${names.join(', ')}; pools ${pools.join(', ')}; endpoints shown: ${shown.slice(0, 3).join(', ')}`);
  },
};

export const appRequests = {
  name: 'app-requests',
  async run({ page, api, base, note, screenshot }) {
    // What the tab lists first: the slowest requests of its range (src/pages/Requests/requestFilters.ts).
    const lastHour = { from: Date.now() - 3600_000, to: Date.now() };
    const recent = frameRows((await api.query({ queryType: 'search', order: 'slowest', limit: 20 }, lastHour))[0]);
    check(recent.length > 0, 'a search over the last hour found no requests');
    const ids = new Set(recent.map((r) => String(r.traceID)));

    await openTab(page, base, 'requests', 'Requests');
    const table = page.getByTestId('standin-table').first();
    // A trace id of the backend's answer, as a cell of the Requests table.
    const cell = await eventually(async () => {
      const texts = await table.getByRole('cell').allInnerTexts();
      const id = texts.map((t) => t.trim()).find((t) => ids.has(t));
      return id;
    }, 'the Requests table to list one of the slowest trace ids of the last hour');
    const row = recent.find((r) => String(r.traceID) === cell);
    const spans = frameRows((await api.query({ queryType: 'trace', traceId: cell }))[0]).length;

    await table.getByRole('cell', { name: cell, exact: true }).first().click();
    // The cell's data links menu (the backend's "Open trace …" and the page's "Show trace … below").
    const show = page.getByText(`Show trace ${cell} below`, { exact: true });
    await show.waitFor({ timeout: 10_000 });
    await show.click();
    await showsAll(page, [`Trace ${cell}`], 'the trace section heading');
    const shown = await eventually(async () => {
      const n = await page.getByTestId('standin-traces').getByTestId('trace-span').count();
      return n > 0 && n;
    }, 'the trace panel to show spans');
    check(shown === Math.min(spans, 1000), `the trace panel shows ${shown} spans, the trace query answers ${spans}`);
    await page.keyboard.press('Escape'); // the links menu stays open over the table otherwise
    await screenshot();
    note(`trace ${cell} (${row?.traceName}): ${shown} spans shown`);
  },
};

export const appProfiles = {
  name: 'app-profiles',
  async run({ page, api, base, note }) {
    const nodes = frameRows((await api.query({ queryType: 'flamegraph' }))[0]);
    const wordpress = [...new Set(nodes.map((n) => String(n.label)).filter((l) => WORDPRESS_SYMBOL.test(l)))];
    check(wordpress.length > 0, 'the flamegraph query over the last 6 hours has no WordPress function');

    await openTab(page, base, 'profiles', 'Profiles');
    await page.getByTestId('flameGraph').waitFor({ timeout: 30_000 });
    const ink = await eventually(async () => {
      const c = await canvasInk(page, '[data-testid="php-flame-panel"]');
      return c.inked > 1000 && c;
    }, 'the flame graph to be drawn');
    const listed = await eventually(async () => {
      const text = await page.getByTestId('topTable').innerText();
      const found = wordpress.filter((w) => text.includes(w));
      return found.length > 0 && found;
    }, 'the top table to list WordPress functions');
    note(`${nodes.length} nodes, ${ink.inked} px drawn; top table: ${listed.slice(0, 3).join(', ')}`);
  },
};

export const appProbes = {
  name: 'app-probes',
  async run({ page, api, base, note }) {
    const { agents, pools, binaries } = await fleet(api);
    await openTab(page, base, 'probes', 'Probes');
    const reachable = agents.filter((a) => a.ok);
    check(reachable.length > 0, 'no agent answers: nothing to show on Probes');
    await showsAll(
      page,
      [...reachable.map((a) => a.name), ...binaries.slice(0, 2), ...pools.slice(0, 2)],
      'the agents with their PHP binaries and pools'
    );
    await showsAll(page, ['Attached probes'], 'the attached probes of each PHP binary');
    note(`agents ${reachable.map((a) => a.name).join(', ')}; PHP ${binaries.join(', ')}`);
  },
};

export const appConfig = {
  name: 'app-config',
  async run({ page, api, base, note }) {
    const settings = await api.json('/api/plugins/tusk-php-app/settings');
    const agents = settings?.jsonData?.agents ?? [];
    check(agents.length > 0, 'the app settings list no agents');

    await page.goto(`${base}/plugins/tusk-php-app`);
    await page.getByTestId('plugin-page').waitFor({ timeout: 30_000 });
    const values = await eventually(
      async () => {
        const v = await page.locator('input').evaluateAll((inputs) => inputs.map((i) => i.value));
        return agents.every((a) => v.includes(a.name) && v.includes(a.url)) && v;
      },
      `the agents ${agents.map((a) => `${a.name} ${a.url}`).join(', ')} in the editor`
    );
    check(values.length > 0, 'no inputs');

    // The saved first agent answers the connection test.
    await page.getByRole('button', { name: 'Test connection' }).first().click();
    const answer = await eventually(async () => {
      const body = await page.locator('body').innerText();
      const line = body.split('\n').find((l) => /^Connected to |^Connection (test )?failed/.test(l.trim()));
      return line?.trim();
    }, 'the connection test to answer');
    check(answer.startsWith('Connected to'), `the connection test of ${agents[0].name} says: ${answer}`);
    note(`agents ${agents.map((a) => a.name).join(', ')}; ${answer}`);
  },
};

export const appScenarios = [appOverview, appRequests, appProfiles, appProbes, appConfig];
