import React, { useState } from 'react';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { DataSource } from '../datasource';
import type { TuskQuery } from '../types';
import { QueryEditor } from './QueryEditor';

// Several tests open a few Comboboxes each: seconds on a busy two-core CI machine.
jest.setTimeout(20_000);

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const OPTIONS = { agents: ['web-1', 'web-2'], services: ['blog', 'shop'], pools: ['api', 'www'] };

// Combobox lists its options in a virtualized list (@tanstack/virtual-core), which sizes itself by clientHeight and
// clientWidth: 0 in jsdom, and then renders no option.
beforeAll(() => {
  jest.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(400);
  jest.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(400);
});

function fakeDatasource(getResource: jest.Mock = jest.fn().mockResolvedValue(OPTIONS)) {
  return { agentNames: ['web-1'], getResource } as unknown as DataSource & { getResource: jest.Mock };
}

/** The editor with Explore's part played: the query it changes is the query it gets back. */
async function renderEditor(initial: TuskQuery, datasource = fakeDatasource()) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  let latest = initial;
  function Harness() {
    const [query, setQuery] = useState(initial);
    return (
      <QueryEditor
        query={query}
        datasource={datasource}
        onChange={(next) => {
          latest = next;
          onChange(next);
          setQuery(next);
        }}
        onRunQuery={onRunQuery}
      />
    );
  }
  render(<Harness />);
  await waitFor(() => expect(datasource.getResource).toHaveBeenCalledWith('options'));
  await act(async () => {}); // the options answer
  return { onChange, onRunQuery, query: () => latest, datasource };
}

const paste = (element: Element, text: string) => fireEvent.paste(element, { clipboardData: { getData: () => text } });

async function pick(label: string, option: string) {
  const input = screen.getByRole('combobox', { name: label });
  fireEvent.click(input);
  fireEvent.click(await screen.findByRole('option', { name: option }));
}

describe('QueryEditor', () => {
  describe('search', () => {
    it('changes the query as the user types and runs it on blur', async () => {
      const { onRunQuery, query } = await renderEditor({ refId: 'A', queryType: 'search', limit: 20 });
      const path = screen.getByLabelText('Path prefix');

      fireEvent.change(path, { target: { value: '/api/' } });
      expect(query()).toEqual({ refId: 'A', queryType: 'search', limit: 20, path: '/api/' });
      expect(onRunQuery).not.toHaveBeenCalled();

      fireEvent.blur(path);
      expect(onRunQuery).toHaveBeenCalledTimes(1);
    });

    it('runs on Enter, and not on a blur with nothing typed', async () => {
      const { onRunQuery } = await renderEditor({ refId: 'A', queryType: 'search' });
      const status = screen.getByLabelText('Status');

      fireEvent.blur(status);
      expect(onRunQuery).not.toHaveBeenCalled();

      fireEvent.change(status, { target: { value: '500' } });
      fireEvent.keyDown(status, { key: 'Enter' });
      expect(onRunQuery).toHaveBeenCalledTimes(1);
    });

    it('writes every search field into the query', async () => {
      const { query } = await renderEditor({ refId: 'A', queryType: 'search', limit: 20 });

      await pick('Service', 'shop');
      await pick('Pool', 'www');
      await pick('Method', 'POST');
      for (const [label, value] of [
        ['Path prefix', '/cart'],
        ['Min duration', '250ms'],
        ['Max duration', '1.5s'],
      ]) {
        fireEvent.change(screen.getByLabelText(label), { target: { value } });
      }
      fireEvent.change(screen.getByLabelText('Status'), { target: { value: '502' } });
      fireEvent.change(screen.getByLabelText('Limit'), { target: { value: '50' } });
      fireEvent.click(screen.getByLabelText('Errors only'));
      fireEvent.click(screen.getByLabelText('Slowest'));

      expect(query()).toEqual({
        refId: 'A',
        queryType: 'search',
        service: 'shop',
        pool: 'www',
        method: 'POST',
        path: '/cart',
        minDuration: '250ms',
        maxDuration: '1.5s',
        status: 502,
        limit: 50,
        errorsOnly: true,
        order: 'slowest',
      });
    });

    it('takes a service no agent lists', async () => {
      const { query, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'search' });
      const service = screen.getByRole('combobox', { name: 'Service' });

      fireEvent.click(service);
      fireEvent.change(service, { target: { value: 'billing' } });
      fireEvent.keyDown(service, { key: 'Enter' });

      await waitFor(() => expect(query().service).toBe('billing'));
      expect(onRunQuery).toHaveBeenCalled();
    });

    it('shows a duration error after blur and does not run', async () => {
      const { onRunQuery } = await renderEditor({ refId: 'A', queryType: 'search' });
      const min = screen.getByLabelText('Min duration');

      fireEvent.change(min, { target: { value: '250' } });
      expect(screen.queryByText(/Add a unit/)).not.toBeInTheDocument(); // not while typing

      fireEvent.blur(min);
      expect(screen.getByText('Add a unit: 250ms, 250s or 250m')).toBeInTheDocument();
      expect(onRunQuery).not.toHaveBeenCalled();

      fireEvent.change(min, { target: { value: '250ms' } });
      fireEvent.keyDown(min, { key: 'Enter' });
      expect(screen.queryByText(/Add a unit/)).not.toBeInTheDocument();
      expect(onRunQuery).toHaveBeenCalledTimes(1);
    });

    it('wants max duration above min duration and a limit the backend allows', async () => {
      await renderEditor({ refId: 'A', queryType: 'search', minDuration: '2s', maxDuration: '1s', limit: 9000 });

      expect(screen.getByText('Max duration is below min duration')).toBeInTheDocument();
      expect(screen.getByText('Limit: want a whole number from 1 to 5000')).toBeInTheDocument();
    });

    it('shows the hot function filter only when set, and clears its file with it', async () => {
      const { query } = await renderEditor({
        refId: 'A',
        queryType: 'search',
        function: 'Cart::total',
        file: '/app/Cart.php',
      });
      expect(screen.getByLabelText('File')).toHaveValue('/app/Cart.php');

      const fn = screen.getByLabelText('Hot function');
      fireEvent.change(fn, { target: { value: '' } });
      fireEvent.blur(fn);

      expect(query()).toEqual({ refId: 'A', queryType: 'search', function: undefined, file: undefined });
      expect(screen.queryByLabelText('Hot function')).not.toBeInTheDocument();
    });

    it('hides the hot function filter when it is not set', async () => {
      await renderEditor({ refId: 'A', queryType: 'search' });
      expect(screen.queryByLabelText('Hot function')).not.toBeInTheDocument();
    });

    it('reads an old query without a type as a search', async () => {
      await renderEditor({ refId: 'A', path: '/api/' } as TuskQuery);
      expect(screen.getByLabelText('Search')).toBeChecked();
      expect(screen.getByLabelText('Path prefix')).toHaveValue('/api/');
    });
  });

  describe('a trace id pasted in Explore', () => {
    it('turns a search into the trace query when pasted into the path', async () => {
      const { query, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'search', limit: 20 });

      paste(screen.getByLabelText('Path prefix'), `00-${ID}-00f067aa0ba902b7-01`);

      expect(query()).toEqual({ refId: 'A', queryType: 'trace', traceId: ID, limit: 20 });
      expect(onRunQuery).toHaveBeenCalledTimes(1);
      expect(screen.getByLabelText('Trace ID')).toHaveValue(ID);
    });

    it('does so from a select too', async () => {
      const { query } = await renderEditor({ refId: 'A', queryType: 'search' });
      paste(screen.getByRole('combobox', { name: 'Service' }), ID.toUpperCase());
      expect(query()).toEqual({ refId: 'A', queryType: 'trace', traceId: ID });
    });

    it('does so when typed and committed', async () => {
      const { query, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'search', path: '/api/' });
      const min = screen.getByLabelText('Min duration');

      fireEvent.change(min, { target: { value: '4bf92f35-77b3-4da6-a3ce-929d0e0e4736' } });
      fireEvent.blur(min);

      expect(query()).toEqual({ refId: 'A', queryType: 'trace', traceId: ID, path: '/api/', minDuration: undefined });
      expect(onRunQuery).toHaveBeenCalledTimes(1);
    });

    it('leaves other pasted text to the field', async () => {
      const { onChange } = await renderEditor({ refId: 'A', queryType: 'search' });
      paste(screen.getByLabelText('Path prefix'), '/api/cart');
      expect(onChange).not.toHaveBeenCalled();
    });

    it('normalizes an id pasted into the trace field and runs it', async () => {
      const { query, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'trace' });

      paste(screen.getByLabelText('Trace ID'), `0x${ID.toUpperCase()}`);

      expect(query()).toEqual({ refId: 'A', queryType: 'trace', traceId: ID });
      expect(onRunQuery).toHaveBeenCalledTimes(1);
    });

    it('normalizes a typed 64-bit id on blur', async () => {
      const { query } = await renderEditor({ refId: 'A', queryType: 'trace' });
      const input = screen.getByLabelText('Trace ID');

      fireEvent.change(input, { target: { value: 'A3CE929D0E0E4736' } });
      fireEvent.blur(input);

      expect(query().traceId).toBe('0000000000000000a3ce929d0e0e4736');
    });

    it('says what a trace id looks like', async () => {
      const { onRunQuery } = await renderEditor({ refId: 'A', queryType: 'trace' });
      const input = screen.getByLabelText('Trace ID');

      fireEvent.change(input, { target: { value: 'not-an-id' } });
      fireEvent.blur(input);

      expect(screen.getByText(/^Not a trace id/)).toBeInTheDocument();
      expect(onRunQuery).not.toHaveBeenCalled();
    });

    it('opens a Loki derived field link as the trace query', async () => {
      const { query } = await renderEditor({ refId: 'A', query: ID } as TuskQuery);
      expect(query()).toEqual({ refId: 'A', queryType: 'trace', traceId: ID });
      expect(screen.getByLabelText('Trace ID')).toHaveValue(ID);
    });
  });

  describe('query type and agent', () => {
    it('switches the query type and runs the query at once', async () => {
      const { query, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'search', limit: 20 });

      fireEvent.click(screen.getByLabelText('Flame graph'));

      expect(query()).toEqual({ refId: 'A', queryType: 'flamegraph', limit: 20 });
      expect(onRunQuery).toHaveBeenCalledTimes(1);
      expect(screen.getByLabelText('Max nodes')).toBeInTheDocument();
      expect(screen.queryByLabelText('Min duration')).not.toBeInTheDocument();
    });

    it('offers the configured agents and those the options list', async () => {
      const { query } = await renderEditor({ refId: 'A', queryType: 'search' });
      await pick('Agent', 'web-2');
      expect(query().agent).toBe('web-2');
    });
  });

  describe('flame graph', () => {
    it('writes its fields into the query', async () => {
      const { query } = await renderEditor({ refId: 'A', queryType: 'flamegraph' });

      await pick('Service', 'blog');
      fireEvent.change(screen.getByLabelText('Endpoint'), { target: { value: 'GET /cart' } });
      fireEvent.change(screen.getByLabelText('Trace ID'), { target: { value: ID } });
      fireEvent.change(screen.getByLabelText('Max nodes'), { target: { value: '5000' } });

      expect(query()).toEqual({
        refId: 'A',
        queryType: 'flamegraph',
        service: 'blog',
        endpoint: 'GET /cart',
        traceId: ID,
        maxNodes: 5000,
      });
    });

    it('shows the baseline read-only and clears it', async () => {
      const from = Date.UTC(2026, 10, 25, 10, 0, 0);
      const { query, onRunQuery } = await renderEditor({
        refId: 'A',
        queryType: 'flamegraph',
        baselineFrom: from,
        baselineTo: from + 3600_000,
      });
      const baseline = screen.getByLabelText('Baseline');
      expect(baseline).toHaveAttribute('readonly');
      expect(baseline).toHaveValue('2026-11-25 10:00:00 to 2026-11-25 11:00:00');

      fireEvent.click(screen.getByRole('button', { name: 'Clear baseline' }));

      expect(query()).toEqual({ refId: 'A', queryType: 'flamegraph', baselineFrom: undefined, baselineTo: undefined });
      expect(onRunQuery).toHaveBeenCalledTimes(1);
      expect(screen.queryByLabelText('Baseline')).not.toBeInTheDocument();
    });

    it('has no baseline field without a baseline', async () => {
      await renderEditor({ refId: 'A', queryType: 'flamegraph' });
      expect(screen.queryByLabelText('Baseline')).not.toBeInTheDocument();
    });
  });

  describe('metrics', () => {
    it('writes its fields into the query', async () => {
      const { query, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'metrics' });

      await pick('Pool', 'api');
      const endpoint = screen.getByRole('textbox', { name: 'Endpoint' });
      fireEvent.change(endpoint, { target: { value: 'POST /checkout' } });
      fireEvent.blur(endpoint);
      fireEvent.click(screen.getByRole('radio', { name: 'Service' }));
      const metrics = screen.getByRole('combobox', { name: 'Metrics' });
      fireEvent.click(metrics);
      fireEvent.click(await screen.findByRole('option', { name: /p95/ }));
      fireEvent.click(await screen.findByRole('option', { name: /Errors/ }));

      expect(query()).toEqual({
        refId: 'A',
        queryType: 'metrics',
        pool: 'api',
        endpoint: 'POST /checkout',
        groupBy: 'service',
        metrics: ['p95', 'errors'],
      });
      expect(onRunQuery).toHaveBeenCalledTimes(5);
    });

    it('bounds the number of series', async () => {
      await renderEditor({ refId: 'A', queryType: 'metrics', limit: 900 });
      expect(screen.getByText('Series: want a whole number from 1 to 500')).toBeInTheDocument();
    });
  });

  describe('options', () => {
    it('asks the options resource once for every editor of a data source', async () => {
      const datasource = fakeDatasource();
      await renderEditor({ refId: 'A', queryType: 'search' }, datasource);
      await renderEditor({ refId: 'B', queryType: 'metrics' }, datasource);
      expect(datasource.getResource).toHaveBeenCalledTimes(1);
    });

    it('lists the services the options resource answers', async () => {
      await renderEditor({ refId: 'A', queryType: 'search' });
      fireEvent.click(screen.getByRole('combobox', { name: 'Service' }));
      const listbox = await screen.findByRole('listbox');
      expect(
        within(listbox)
          .getAllByRole('option')
          .map((o) => o.textContent)
      ).toEqual(['blog', 'shop']);
    });

    it('names the agents that did not answer', async () => {
      await renderEditor(
        { refId: 'A', queryType: 'search' },
        fakeDatasource(jest.fn().mockResolvedValue({ ...OPTIONS, failed: ['web-2: connection refused'] }))
      );
      expect(screen.getByText('Services and pools may be missing: web-2: connection refused')).toBeInTheDocument();
    });

    it('still takes typed values when the options cannot be loaded', async () => {
      jest.spyOn(console, 'error').mockImplementation(() => {});
      await renderEditor(
        { refId: 'A', queryType: 'search' },
        fakeDatasource(jest.fn().mockRejectedValue({ data: { error: 'no agents configured' } }))
      );
      expect(
        screen.getByText('Services and pools could not be listed (no agents configured): type them instead.')
      ).toBeInTheDocument();
    });
  });
});
