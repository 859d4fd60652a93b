// The data source's query editor (/harness/query-editor): what the editor shows → the query model → the
// frames the real backend answers with.
import { check, eventually, frameRows, queryJson } from '../lib.mjs';

// The editor's fields by their visible labels, as a person finds them.
const field = (page, label) => page.getByTestId('query-editor').getByLabel(label, { exact: true });

/** A real paste event (what Ctrl+V fires), with text on its clipboard data. */
async function paste(locator, text) {
  await locator.focus();
  await locator.evaluate((el, t) => {
    const data = new DataTransfer();
    data.setData('text/plain', t);
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

/** A prefix of a real request path: its first directory ("/wp-admin/"), else the path ("/wp-login.php"). */
function prefixOf(path) {
  const bare = path.split('?')[0];
  const dir = bare.match(/^\/[^/]+\//);
  return dir ? dir[0] : bare || '/';
}

async function waitForResult(page, runsBefore) {
  await eventually(async () => {
    const runs = Number((await page.getByTestId('query-runs').innerText()).replace(/\D+/g, ''));
    const state = await page.getByTestId('query-state').innerText();
    return runs > runsBefore && (state === 'Done' || state === 'Error') && state;
  }, 'the query to finish');
  const errors = await page.getByTestId('query-error').allInnerTexts();
  check(errors.length === 0, `the query failed: ${errors.join('; ')}`);
}

async function runs(page) {
  return Number((await page.getByTestId('query-runs').innerText()).replace(/\D+/g, ''));
}

/** Values of one field in the page's preview of frame 0. */
async function previewValues(page, name) {
  return page.getByTestId('frame-preview-0').locator(`td[data-field="${name}"]`).allInnerTexts();
}

export const queryEditorSearch = {
  name: 'query-editor-search',
  async run({ page, api, base, note }) {
    // A real request path to filter by, from the backend itself.
    const recent = await api.searchRows({ limit: 50 });
    check(recent.length > 0, 'a search over the last 6 hours found no requests: is WordPress being loaded?');
    const paths = recent.map((r) => String(r.traceName).replace(/^[A-Z]+ /, ''));
    const prefix = prefixOf(paths.find((p) => p !== '/' && p.startsWith('/')) ?? paths[0]);

    await page.goto(`${base}/harness/query-editor`);
    await page.getByTestId('query-editor').waitFor();
    const initial = await queryJson(page);
    check(initial.queryType === 'search', `a new query's type is ${initial.queryType}, not search`);
    check(await page.getByRole('radio', { name: 'Search' }).isChecked(), 'the Search query type is not selected');
    check(initial.limit === 20, `a new query's limit is ${initial.limit}, not the default 20`);
    check((await field(page, 'Limit').inputValue()) === '20', 'the Limit field does not show 20');

    const before = await runs(page);
    await field(page, 'Path prefix').fill(prefix);
    await field(page, 'Min duration').fill('1ms');
    await field(page, 'Min duration').press('Tab'); // the editor runs the query on blur
    await waitForResult(page, before);

    const q = await queryJson(page);
    check(q.path === prefix, `query JSON path is ${JSON.stringify(q.path)}, typed ${JSON.stringify(prefix)}`);
    check(q.minDuration === '1ms', `query JSON minDuration is ${JSON.stringify(q.minDuration)}, typed "1ms"`);
    const rows = Number(await page.getByTestId('query-frame-rows').first().innerText());
    check(rows > 0, `the search for path ${prefix}, ≥ 1 ms found no requests`);
    const names = await previewValues(page, 'traceName');
    check(
      names.length > 0 && names.every((n) => n.replace(/^[A-Z]+ /, '').startsWith(prefix)),
      `result rows are not all under ${prefix}: ${names.slice(0, 5).join(', ')}`
    );
    const durations = (await previewValues(page, 'traceDuration')).map(Number);
    check(
      durations.every((d) => d >= 1),
      `a result row is shorter than 1 ms: ${durations.join(', ')}`
    );
    note(`path ${prefix}, ≥1ms: ${rows} requests, e.g. ${names[0]}`);
  },
};

export const queryEditorTracePaste = {
  name: 'query-editor-trace-paste',
  async run({ page, api, base, note }) {
    const recent = await api.searchRows({ limit: 20 });
    const withSpans = recent.find((r) => Number(r.spans) > 1) ?? recent[0];
    check(withSpans, 'a search over the last 6 hours found no requests to take a trace id from');
    const traceId = String(withSpans.traceID);
    // What the trace query answers, to compare with what the page shows.
    const expected = frameRows((await api.query({ queryType: 'trace', traceId }))[0]).length;

    // A new search; the trace id pasted into its path field, which takes "/api/ or a trace id".
    await page.goto(`${base}/harness/query-editor`);
    await page.getByTestId('query-editor').waitFor();
    const before = await runs(page);
    await paste(field(page, 'Path prefix'), traceId);
    await waitForResult(page, before);

    const q = await queryJson(page);
    check(q.queryType === 'trace', `query JSON queryType is ${q.queryType}, not trace`);
    check(q.traceId === traceId, `query JSON traceId is ${q.traceId}, pasted ${traceId}`);
    check(await page.getByRole('radio', { name: 'Trace' }).isChecked(), 'the Trace query type is not selected');
    check((await field(page, 'Trace ID').inputValue()) === traceId, 'the Trace ID field does not show the pasted id');
    const spanIds = await previewValues(page, 'spanID');
    const rows = Number(await page.getByTestId('query-frame-rows').first().innerText());
    check(spanIds.length > 0 && rows > 0, 'the trace frame has no spans');
    check(rows === expected, `the page shows ${rows} spans, the API answers ${expected}`);
    const ops = await previewValues(page, 'operationName');
    note(`trace ${traceId} (${withSpans.traceName}): ${rows} spans, root ${ops[0]}`);
  },
};
