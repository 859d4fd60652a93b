import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import type { DataSource } from '../datasource';
import type { TuskQuery } from '../types';
import { QueryEditor } from './QueryEditor';

const datasource = { agentNames: ['web-1'] } as unknown as DataSource;

function renderEditor(query: TuskQuery) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  render(<QueryEditor query={query} datasource={datasource} onChange={onChange} onRunQuery={onRunQuery} />);
  return { onChange, onRunQuery };
}

describe('QueryEditor', () => {
  it('switches the query type and runs the query', () => {
    const { onChange, onRunQuery } = renderEditor({ refId: 'A', queryType: 'search', limit: 20 });

    fireEvent.click(screen.getByLabelText('Trace'));

    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'trace', limit: 20 });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('edits the trace id and runs the query on blur', () => {
    const { onChange, onRunQuery } = renderEditor({ refId: 'A', queryType: 'trace' });
    const input = screen.getByLabelText('Trace ID');

    fireEvent.change(input, { target: { value: '4bf92f3577b34da6a3ce929d0e0e4736' } });
    expect(onChange).toHaveBeenCalledWith({
      refId: 'A',
      queryType: 'trace',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    expect(onRunQuery).not.toHaveBeenCalled();

    fireEvent.blur(input);
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('shows the fields of each query type', () => {
    renderEditor({ refId: 'A', queryType: 'search' });
    expect(screen.getByLabelText('Min duration')).toBeInTheDocument();
    expect(screen.queryByLabelText('Trace ID')).not.toBeInTheDocument();
  });

  it('clears a text filter instead of sending an empty one', () => {
    const { onChange } = renderEditor({ refId: 'A', queryType: 'metrics', service: 'checkout' });

    fireEvent.change(screen.getByRole('textbox', { name: 'Service' }), { target: { value: '' } });

    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'metrics', service: undefined });
  });
});
