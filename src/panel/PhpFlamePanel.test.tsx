import React from 'react';
import { act, createEvent, fireEvent, render, screen, within } from '@testing-library/react';
import {
  type DataFrame,
  type DataQueryRequest,
  FieldType,
  LoadingState,
  type PanelData,
  type PanelProps,
  createDataFrame,
  dateTime,
} from '@grafana/data';
import { locationService } from '@grafana/runtime';
import type { TuskQuery } from '../datasource/types';
import { PhpFlamePanel } from './PhpFlamePanel';
import { recordedFlameFrame, recordedFrame } from './testing/recordedFrame';
import { DEFAULT_OPTIONS, type PhpFlameOptions } from './types';

// The top table sizes itself with AutoSizer, which measures 0×0 in jsdom and then renders no table.
jest.mock('react-virtualized-auto-sizer', () => ({
  __esModule: true,
  default: ({ children }: { children: (size: { width: number; height: number }) => React.ReactNode }) =>
    children({ width: 800, height: 600 }),
}));

const range = { from: dateTime(1764132700000), to: dateTime(1764133000000), raw: { from: 'now-5m', to: 'now' } };

const flameQuery: TuskQuery = {
  refId: 'A',
  datasource: { type: 'tusk-php-datasource', uid: 'tusk-uid' },
  queryType: 'flamegraph',
  service: 'fixture',
  pool: 'www',
};

function panelData(series: DataFrame[], extra: Partial<PanelData> = {}, target: TuskQuery = flameQuery): PanelData {
  return {
    state: LoadingState.Done,
    series,
    timeRange: range,
    request: { targets: [target], scopedVars: {} } as unknown as DataQueryRequest,
    ...extra,
  };
}

function renderPanel(data: PanelData, options: Partial<PhpFlameOptions> = {}) {
  const props = {
    data,
    options: { ...DEFAULT_OPTIONS, ...options },
    width: 1200,
    height: 600,
    timeRange: range,
    replaceVariables: (s: string) => s,
  } as unknown as PanelProps<PhpFlameOptions>;
  return render(<PhpFlamePanel {...props} />);
}

describe('PhpFlamePanel with the recorded flame graph', () => {
  it('mounts the flame graph and lists the recorded functions in the top table', async () => {
    renderPanel(panelData([recordedFlameFrame()]));
    expect(screen.getByTestId('flameGraph')).toBeInTheDocument();
    const table = await screen.findByTestId('topTable');
    for (const fn of ['{main}', 'burn', 'total']) {
      expect(await within(table).findByText(fn)).toBeInTheDocument();
    }
    expect(screen.getByTestId('php-flame-details')).toHaveTextContent(
      'Click a function for its PHP file and the traces where it is hot.'
    );
  });

  it('groups the rows by Composer package: {main} and burn are the application directory', async () => {
    renderPanel(panelData([recordedFlameFrame()]), { groupBy: 'package' });
    const table = await screen.findByTestId('topTable');
    expect(await within(table).findByText('app')).toBeInTheDocument();
    expect(within(table).queryByText('burn')).not.toBeInTheDocument();
    expect(within(table).queryByText('{main}')).not.toBeInTheDocument();
  });

  it('leaves out the table, the header and the details line when showing the flame graph only', () => {
    renderPanel(panelData([recordedFlameFrame()]), { view: 'flameGraph' });
    expect(screen.getByTestId('flameGraph')).toBeInTheDocument();
    expect(screen.queryByTestId('topTable')).not.toBeInTheDocument();
    expect(screen.queryByPlaceholderText(/search/i)).not.toBeInTheDocument();
    expect(screen.queryByTestId('php-flame-details')).not.toBeInTheDocument();
  });
});

describe('clicking a node', () => {
  beforeAll(() => {
    // The library maps the click's offsetX to a bar with the canvas's clientWidth, 0 in jsdom.
    Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1000 });
  });
  afterAll(() => {
    delete (HTMLElement.prototype as { clientWidth?: number }).clientWidth; // back to Element.prototype's
  });

  /** Clicks the flame graph at a level (rows are 22px high), 100px from the left. */
  async function clickLevel(level: number) {
    const canvas = screen.getByTestId('flameGraph');
    const y = level * 22 + 11;
    const click = createEvent.click(canvas, { clientX: 100, clientY: y });
    Object.defineProperties(click, { offsetX: { value: 100 }, offsetY: { value: y } });
    await act(async () => {
      fireEvent(canvas, click);
    });
  }

  /**
   * Clicks {main}. The library draws the recorded total → {main} → burn, three nodes of one value, as one collapsed
   * bar, "total" with 2 similar items: expand it from its menu first, as a user would.
   */
  async function clickMain() {
    await clickLevel(0);
    expect(screen.getByTestId('php-flame-details')).toHaveTextContent('total');
    fireEvent.click(screen.getByText('Expand group'));
    await clickLevel(1);
  }

  it('shows the file and opens Explore on the traces where the function is hot', async () => {
    const push = jest.spyOn(locationService, 'push').mockImplementation(() => {});
    renderPanel(panelData([recordedFlameFrame()]));
    await clickMain();

    const details = screen.getByTestId('php-flame-details');
    expect(details).toHaveTextContent('{main}');
    expect(details).toHaveTextContent('/srv/tusk/tests/fixtures/app/burn.php');
    const link = within(details).getByRole('link', { name: /traces where this is hot/i });
    const href = new URL(link.getAttribute('href')!, 'http://grafana.local');
    expect(href.pathname).toBe('/explore');
    const pane = JSON.parse(href.searchParams.get('panes')!).tusk;
    expect(pane.datasource).toBe('tusk-uid');
    expect(pane.range).toEqual({ from: '1764132700000', to: '1764133000000' });
    expect(pane.queries[0]).toMatchObject({
      queryType: 'search',
      function: '{main}',
      file: '/srv/tusk/tests/fixtures/app/burn.php',
      service: 'fixture',
      pool: 'www',
    });

    expect(screen.getByRole('menuitem', { name: /^Copy path .*burn\.php$/ })).toBeInTheDocument();
    fireEvent.click(screen.getByRole('menuitem', { name: 'Traces where this is hot' }));
    // Grafana's sub-path is '' here, so the link's href is the path pushed to Grafana's router.
    expect(push).toHaveBeenCalledWith(link.getAttribute('href'));
    push.mockClear();
    fireEvent.click(link);
    expect(push).toHaveBeenCalledWith(link.getAttribute('href'));
    push.mockRestore();
  });

  it('offers no traces link for a class, and says why', async () => {
    renderPanel(panelData([recordedFlameFrame()]), { groupBy: 'class' });
    await clickMain();
    const details = screen.getByTestId('php-flame-details');
    expect(details).toHaveTextContent('{main}');
    expect(within(details).queryByRole('link')).not.toBeInTheDocument();
    expect(details).toHaveTextContent('Group by function to find the traces where one function is hot.');
    expect(screen.queryByRole('menuitem', { name: 'Traces where this is hot' })).not.toBeInTheDocument();
    expect(screen.getByRole('menuitem', { name: /^Copy path .*burn\.php$/ })).toBeInTheDocument();
  });
});

describe('empty and error states', () => {
  it('says there are no samples, for which query, and what to check', () => {
    renderPanel(panelData([]));
    expect(
      screen.getByText(
        'No CPU samples in this range for service fixture, pool www — widen the time range, or check the agent’s ' +
          'profiler is on: `tusk-agent status --json` shows profiling.enabled and the rate (hz).'
      )
    ).toBeInTheDocument();
  });

  it('counts a flame graph with nothing under its root as no samples', () => {
    const empty = createDataFrame({
      refId: 'A',
      fields: [
        { name: 'level', type: FieldType.number, values: [0] },
        { name: 'value', type: FieldType.number, values: [0] },
        { name: 'self', type: FieldType.number, values: [0] },
        { name: 'label', type: FieldType.string, values: ['total'] },
      ],
    });
    renderPanel(panelData([empty]));
    expect(screen.getByText('No CPU samples')).toBeInTheDocument();
    expect(screen.queryByTestId('flameGraph')).not.toBeInTheDocument();
  });

  it('asks for the Flame graph query type when given another frame', () => {
    renderPanel(panelData([recordedFrame('search')], {}, { ...flameQuery, queryType: 'search' }));
    expect(
      screen.getByText(
        'Data is missing fields: label, level, value, self. Set the query type to Flame graph (it is Search).'
      )
    ).toBeInTheDocument();
  });

  it('shows the query errors', () => {
    renderPanel(
      panelData([], { state: LoadingState.Error, errors: [{ message: 'agent web-1:7070: connection refused' }] })
    );
    expect(screen.getByText('The flame graph query failed')).toBeInTheDocument();
    expect(screen.getByText('agent web-1:7070: connection refused')).toBeInTheDocument();
  });
});
