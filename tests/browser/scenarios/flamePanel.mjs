// The flame graph panel (/harness/panel) on a real flamegraph query: the canvas is drawn, the top table
// lists WordPress's PHP functions, and a clicked function leads to Explore with a search for the
// traces where it is hot.
import { canvasInk, check, eventually, explorePanes, frameRows, WORDPRESS_SYMBOL } from '../lib.mjs';

const LEVEL_PX = 22; // @grafana/flamegraph's PIXELS_PER_LEVEL at devicePixelRatio 1
const TRACES_ENTRY = 'Traces where this is hot';

export const flamePanel = {
  name: 'flame-panel',
  async run({ page, api, base, note, screenshot }) {
    const ds = await api.datasource();
    const query = { queryType: 'flamegraph' };
    const nodes = frameRows((await api.query(query))[0]);
    check(nodes.length > 2, `the flamegraph query over the last 6 hours has ${nodes.length} nodes: no CPU samples?`);
    const labels = new Set(nodes.map((n) => String(n.label)));

    const params = new URLSearchParams({
      query: JSON.stringify(query),
      from: 'now-6h',
      to: 'now',
      width: '1400',
      height: '800',
    });
    await page.goto(`${base}/harness/panel?${params}`);
    const canvas = page.getByTestId('flameGraph');
    await canvas.waitFor({ timeout: 30_000 });
    const ink = await eventually(async () => {
      const c = await canvasInk(page, '[data-testid="php-flame-panel"]');
      return c.inked > 1000 && c;
    }, 'the flame graph canvas to be drawn');

    const tableText = await eventually(async () => {
      const text = await page.getByTestId('topTable').innerText();
      return text.split('\n').some((line) => labels.has(line.trim())) && text;
    }, 'the top table to list functions of the profile');
    const listed = tableText
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => labels.has(l));
    const wordpress = listed.filter((l) => WORDPRESS_SYMBOL.test(l));
    check(
      wordpress.length > 0,
      `the top table lists no WordPress function; it lists: ${listed.slice(0, 10).join(', ')}`
    );

    // Click functions until one below {main} opens the menu with the traces entry. The library renders
    // the menu's items in Grafana's portal, outside its data-testid="contextMenu" element.
    const entry = page.getByRole('menuitem', { name: TRACES_ENTRY });
    const box = await canvas.boundingBox();
    let clicked;
    for (const level of [3, 2, 4, 5, 1]) {
      for (const fx of [0.5, 0.3, 0.7, 0.15, 0.85, 0.05]) {
        await page.mouse.click(box.x + box.width * fx, box.y + level * LEVEL_PX + LEVEL_PX / 2);
        const menu = page.getByRole('menu', { name: 'Context menu' });
        if (
          !(await menu.waitFor({ timeout: 1500 }).then(
            () => true,
            () => false
          ))
        ) {
          continue;
        }
        // The details line shows the clicked node once the panel has seen the click.
        const label = await eventually(
          async () =>
            (await page.getByTestId('php-flame-details').locator('strong').innerText({ timeout: 1000 })).trim(),
          'the details line to show the clicked function',
          { timeout: 5000 }
        );
        if ((await entry.count()) > 0 && label !== '{main}') {
          clicked = label;
          break;
        }
        await page.keyboard.press('Escape');
      }
      if (clicked) {
        break;
      }
    }
    check(clicked, `no click on the flame graph opened a menu with "${TRACES_ENTRY}" for a function below {main}`);
    check(labels.has(clicked), `the clicked node "${clicked}" is not a label of the profile`);
    await screenshot();

    // The details line's link and the menu entry lead to the same Explore search.
    const href = await page.getByTestId('php-flame-details').getByText(TRACES_ENTRY).getAttribute('href');
    const expectSearch = ({ path, panes }, where) => {
      check(path === '/explore', `${where} goes to ${path}, not Explore`);
      const pane = panes[0];
      const q = pane?.queries?.[0];
      check(pane?.datasource === ds.uid, `${where}: Explore pane data source ${pane?.datasource}, not ${ds.uid}`);
      check(q?.queryType === 'search', `${where}: Explore query type ${q?.queryType}, not search`);
      check(q?.function === clicked, `${where}: Explore searches function ${q?.function}, clicked ${clicked}`);
      check(pane?.range?.from && pane?.range?.to, `${where}: Explore has no time range`);
    };
    expectSearch(explorePanes(href), 'the details link');
    await entry.click();
    await eventually(() => new URL(page.url()).pathname === '/explore', 'the menu entry to navigate to Explore');
    expectSearch(explorePanes(page.url()), 'the menu entry');
    note(
      `${nodes.length} nodes, canvas ${ink.width}×${ink.height} (${ink.inked} px drawn), WordPress functions: ${wordpress.slice(0, 3).join(', ')}; clicked ${clicked}`
    );
  },
};
