import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { TraceStoreEditor, type TraceStoreValue } from './TraceStoreEditor';

function renderEditor(value: TraceStoreValue) {
  const onChange = jest.fn();
  render(<TraceStoreEditor value={value} onChange={onChange} />);
  return onChange;
}

const empty: TraceStoreValue = { jsonData: {}, secureJsonData: {}, secureJsonFields: {} };

describe('TraceStoreEditor', () => {
  it('reads from the agents by default and shows no store fields', () => {
    renderEditor(empty);
    expect(screen.getByLabelText('Agents')).toBeChecked();
    expect(screen.queryByLabelText('Query URL')).not.toBeInTheDocument();
  });

  it('switches to Tempo and keeps the other settings', () => {
    const onChange = renderEditor({ ...empty, jsonData: { traceStore: { url: 'http://tempo:3200' } } });
    fireEvent.click(screen.getByLabelText('Tempo'));
    expect(onChange).toHaveBeenCalledWith({
      ...empty,
      jsonData: { traceSource: 'tempo', traceStore: { url: 'http://tempo:3200' } },
    });
  });

  it('edits the URL and tenant of a Tempo store and flags a bad URL', () => {
    const onChange = renderEditor({ ...empty, jsonData: { traceSource: 'tempo', traceStore: { url: 'tempo' } } });
    expect(screen.getByText('Enter http(s)://host:port of the query API')).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText(/^Tenant/), { target: { value: 'team-a' } });
    expect(onChange).toHaveBeenLastCalledWith({
      ...empty,
      jsonData: { traceSource: 'tempo', traceStore: { url: 'tempo', tenantId: 'team-a' } },
    });
  });

  it('stores the bearer token under traceStore.token and resets a saved one', () => {
    const saved = {
      ...empty,
      jsonData: { traceSource: 'jaeger' as const },
      secureJsonFields: { 'traceStore.token': true },
    };
    const onChange = renderEditor(saved);
    expect(screen.queryByLabelText(/^Tenant/)).not.toBeInTheDocument();
    fireEvent.click(screen.getAllByRole('button', { name: 'Reset' })[0]);
    expect(onChange).toHaveBeenCalledWith({
      ...saved,
      secureJsonData: { 'traceStore.token': '' },
      secureJsonFields: { 'traceStore.token': false },
    });
  });
});
