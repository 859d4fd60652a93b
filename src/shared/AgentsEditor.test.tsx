import React, { useState } from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { AgentsEditor } from './AgentsEditor';
import type { AgentsSettings } from './agents';

function renderEditor(initial: AgentsSettings) {
  const onChange = jest.fn();
  function Harness() {
    const [value, setValue] = useState(initial);
    return (
      <AgentsEditor
        value={value}
        onChange={(next) => {
          onChange(next);
          setValue(next);
        }}
      />
    );
  }
  render(<Harness />);
  const latest = (): AgentsSettings => onChange.mock.calls[onChange.mock.calls.length - 1][0];
  return { onChange, latest };
}

const type = (element: HTMLElement, value: string) => fireEvent.change(element, { target: { value } });

const savedWeb1: AgentsSettings = {
  jsonData: { agents: [{ name: 'web-1', url: 'http://10.0.0.5:7070' }] },
  secureJsonData: {},
  secureJsonFields: { 'token.web-1': true },
};

describe('AgentsEditor', () => {
  it('adds and removes agents', () => {
    const { latest } = renderEditor({ jsonData: {}, secureJsonData: {}, secureJsonFields: {} });

    fireEvent.click(screen.getByRole('button', { name: /add agent/i }));
    type(screen.getByLabelText('Name'), 'web-1');
    type(screen.getByLabelText('URL'), 'http://10.0.0.5:7070');
    fireEvent.click(screen.getByRole('button', { name: /add agent/i }));

    expect(latest().jsonData.agents).toEqual([
      { name: 'web-1', url: 'http://10.0.0.5:7070' },
      { name: '', url: '' },
    ]);

    fireEvent.click(screen.getByRole('button', { name: 'Remove agent web-1' }));
    expect(latest().jsonData.agents).toEqual([{ name: '', url: '' }]);
  });

  it('shows validation messages', () => {
    renderEditor({
      jsonData: {
        agents: [
          { name: 'web-1', url: 'http://a:7070' },
          { name: 'web-1', url: 'ftp://b' },
          { name: 'web 2', url: '' },
          { name: '', url: 'https://c' },
        ],
      },
      secureJsonData: {},
      secureJsonFields: {},
    });

    expect(screen.getAllByText('Another agent has this name')).toHaveLength(2);
    expect(screen.getByText('URL must start with http:// or https://')).toBeInTheDocument();
    expect(screen.getByText('Use only letters, digits, ".", "_" and "-"')).toBeInTheDocument();
    expect(screen.getByText('URL is required')).toBeInTheDocument();
    expect(screen.getByText('Name is required')).toBeInTheDocument();
  });

  it('stores an entered token under token.<name>', () => {
    const { latest } = renderEditor({
      jsonData: { agents: [{ name: 'web-1', url: 'http://a:7070' }] },
      secureJsonData: {},
      secureJsonFields: {},
    });

    type(screen.getByLabelText(/^Token/), 's3cret');

    expect(latest().secureJsonData).toEqual({ 'token.web-1': 's3cret' });
  });

  it('resets a configured token', () => {
    const { latest } = renderEditor(savedWeb1);
    expect(screen.getByDisplayValue('configured')).toBeDisabled();

    fireEvent.click(screen.getByRole('button', { name: 'Reset' }));

    expect(latest().secureJsonData).toEqual({ 'token.web-1': '' });
    expect(latest().secureJsonFields).toEqual({ 'token.web-1': false });
    expect(screen.getByLabelText(/^Token/)).toBeEnabled();
  });

  it('moves a token entered in this session along with a rename', () => {
    const { latest } = renderEditor({
      jsonData: { agents: [{ name: 'web', url: 'http://a:7070' }] },
      secureJsonData: {},
      secureJsonFields: {},
    });

    type(screen.getByLabelText(/^Token/), 's3cret');
    type(screen.getByLabelText('Name'), 'web-1');

    expect(latest().secureJsonData).toEqual({ 'token.web-1': 's3cret' });
    expect(screen.getByLabelText(/^Token/)).toHaveValue('s3cret');
  });

  it('clears a saved token on rename and asks for it again', () => {
    const { latest } = renderEditor(savedWeb1);

    type(screen.getByLabelText('Name'), 'web-2');

    expect(latest().secureJsonData).toEqual({ 'token.web-1': '' });
    expect(latest().secureJsonFields).toEqual({ 'token.web-1': false });
    expect(screen.getByText(/token saved for "web-1" cannot be read back/)).toBeInTheDocument();

    type(screen.getByLabelText(/^Token/), 's3cret');

    expect(latest().secureJsonData).toEqual({ 'token.web-1': '', 'token.web-2': 's3cret' });
    expect(screen.queryByText(/cannot be read back/)).not.toBeInTheDocument();
  });

  it('clears the saved token of a removed agent', () => {
    const { latest } = renderEditor(savedWeb1);

    fireEvent.click(screen.getByRole('button', { name: 'Remove agent web-1' }));

    expect(latest().jsonData.agents).toEqual([]);
    expect(latest().secureJsonData).toEqual({ 'token.web-1': '' });
  });

  it('edits the CA certificate behind a toggle', () => {
    const { latest } = renderEditor(savedWeb1);
    expect(screen.queryByLabelText(/^CA certificate \(PEM\)/)).not.toBeInTheDocument();

    fireEvent.click(screen.getByRole('button', { name: 'CA certificate' }));
    type(screen.getByLabelText(/^CA certificate \(PEM\)/), '-----BEGIN CERTIFICATE-----');

    expect(latest().jsonData.agents?.[0].tlsCACert).toBe('-----BEGIN CERTIFICATE-----');
    expect(screen.getByRole('button', { name: 'CA certificate (set)' })).toBeInTheDocument();
  });

  it('keeps row state with its agent when another agent is removed', () => {
    renderEditor({
      jsonData: {
        agents: ['a', 'b', 'c'].map((name) => ({ name, url: `http://${name}:7070` })),
      },
      secureJsonData: {},
      secureJsonFields: {},
    });

    fireEvent.click(screen.getAllByRole('button', { name: 'CA certificate' })[2]);
    fireEvent.click(screen.getByRole('button', { name: 'Remove agent b' }));

    // c is now the second row.
    expect(screen.getByLabelText(/^CA certificate \(PEM\)/)).toHaveAttribute('id', 'agent-1-ca-cert');
  });
});
