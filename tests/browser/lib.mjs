// Helpers shared by the browser scenarios: assertions, the Grafana-like HTTP API behind --base, and
// reading what the page shows.

export class ScenarioError extends Error {}

/** Fails the scenario with what a person would notice. */
export function check(condition, message) {
  if (!condition) {
    throw new ScenarioError(message);
  }
}

/** Polls fn until it returns a truthy value; the last value or error goes into the failure message. */
export async function eventually(fn, what, { timeout = 20_000, interval = 250 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) {
        return last;
      }
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new ScenarioError(
        `timed out after ${timeout / 1000} s waiting for ${what}${last ? ` (last: ${String(last).slice(0, 300)})` : ''}`
      );
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** The server behind --base: the shim's /harness/boot.json and Grafana's query API. */
export class Api {
  constructor(base) {
    this.base = base.replace(/\/$/, '');
  }

  async json(path, init) {
    const res = await fetch(this.base + path, init);
    const text = await res.text();
    if (!res.ok) {
      throw new ScenarioError(`${init?.method ?? 'GET'} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    }
    return text ? JSON.parse(text) : undefined;
  }

  async boot() {
    this._boot ??= await this.json('/harness/boot.json');
    return this._boot;
  }

  /** The first Tusk data source of boot.json. */
  async datasource() {
    const boot = await this.boot();
    const ds = boot.datasources?.find((d) => d.type === 'tusk-php-datasource');
    check(ds, 'boot.json lists no tusk-php-datasource data source');
    return ds;
  }

  /** POST /api/ds/query with one query of the Tusk data source; resolves to its frames (DataFrameJSON). */
  async query(query, { from = Date.now() - 6 * 3600_000, to = Date.now() } = {}) {
    const ds = await this.datasource();
    const body = {
      from: String(from),
      to: String(to),
      queries: [{ refId: 'A', datasource: { type: ds.type, uid: ds.uid }, ...query }],
    };
    const rsp = await this.json('/api/ds/query', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const result = rsp.results?.A;
    check(result && !result.error, `query ${JSON.stringify(query)} failed: ${result?.error ?? 'no result A'}`);
    return result.frames ?? [];
  }

  /** Rows of a search: [{traceID, traceName, ...}], newest first. */
  async searchRows(query = {}) {
    const frames = await this.query({ queryType: 'search', limit: 50, ...query });
    return frameRows(frames[0]);
  }
}

/** The app backend's fleet resource: its agents, and the pools and PHP binaries they see. */
export async function fleet(api) {
  const rsp = await api.json(`/api/plugins/tusk-php-app/resources/fleet`);
  const agents = rsp?.agents ?? [];
  check(agents.length > 0, 'the app backend lists no agents (GET resources/fleet)');
  const pools = agents.flatMap((a) => (a.status?.binaries ?? []).flatMap((b) => (b.pools ?? []).map((p) => p.name)));
  const binaries = agents.flatMap((a) => (a.status?.binaries ?? []).map((b) => b.path));
  return { agents, pools: [...new Set(pools)], binaries: [...new Set(binaries)] };
}

/** The page's visible text, once it contains every one of `texts`. */
export async function showsAll(page, texts, what) {
  return eventually(
    async () => {
      const body = await page.locator('body').innerText();
      const missing = texts.filter((t) => !body.includes(t));
      return missing.length === 0 ? body : false;
    },
    `${what}: ${texts.join(', ')}`
  );
}

/** A DataFrameJSON's rows as objects keyed by field name. */
export function frameRows(frame) {
  if (!frame) {
    return [];
  }
  const names = frame.schema.fields.map((f) => f.name);
  const values = frame.data?.values ?? [];
  const n = values[0]?.length ?? 0;
  return Array.from({ length: n }, (_, i) => Object.fromEntries(names.map((name, j) => [name, values[j]?.[i]])));
}

/** The query model the harness's query editor page shows. */
export async function queryJson(page) {
  return JSON.parse(await page.getByTestId('query-json').innerText());
}

/** Non-transparent pixels of the largest canvas inside `selector`, and its size. */
export async function canvasInk(page, selector) {
  return page.evaluate((sel) => {
    const canvases = [...document.querySelectorAll(`${sel} canvas`)];
    const canvas = canvases.sort((a, b) => b.width * b.height - a.width * a.height)[0];
    if (!canvas || !canvas.width || !canvas.height) {
      return { width: 0, height: 0, inked: 0 };
    }
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < data.length; i += 4) {
      if (data[i] > 0) {
        inked++;
      }
    }
    return { width: canvas.width, height: canvas.height, inked };
  }, selector);
}

/** Decodes Grafana's Explore URL (schemaVersion 1): its panes' data source and queries. */
export function explorePanes(url) {
  const u = new URL(url, 'http://x');
  const panes = JSON.parse(u.searchParams.get('panes') ?? '{}');
  return { path: u.pathname, panes: Object.values(panes) };
}

/** WordPress's own PHP functions and classes, as they appear in its profiles. */
export const WORDPRESS_SYMBOL =
  /(^|\\|\b)(wp_[a-z_]+|WP_[A-Za-z_]+(::\w+)?|WP::\w+|wpdb::\w+|do_action|apply_filters|get_option|get_header|get_footer|the_content|the_post|have_posts|load_template|locate_template|do_blocks|render_block|get_the_[a-z_]+|_wp_[a-z_]+|mysqli_query)/;
