import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { EmbeddedScene, SceneVariableSet, TextBoxVariable } from '@grafana/scenes';
import { TraceActions, TraceSection } from './TraceSection';
import { tracePanel } from './requestsScene';

it('tells how to choose a trace while none is chosen', async () => {
  const section = new TraceSection({ panel: tracePanel() });
  const scene = new EmbeddedScene({
    $variables: new SceneVariableSet({ variables: [new TextBoxVariable({ name: 'traceId', value: '' })] }),
    body: section,
  });
  render(<scene.Component model={scene} />);
  expect(await screen.findByText(/click a trace id in the table/i)).toBeInTheDocument();
});

it('offers Explore and closing for the chosen trace', () => {
  const onClose = jest.fn();
  render(<TraceActions traceId="a332" exploreUrl="/explore?x=1" onClose={onClose} />);
  expect(screen.getByRole('heading', { name: 'Trace a332' })).toBeInTheDocument();
  expect(screen.getByRole('link', { name: /open in explore/i })).toHaveAttribute('href', '/explore?x=1');
  fireEvent.click(screen.getByRole('button', { name: /close/i }));
  expect(onClose).toHaveBeenCalled();
});

it('closes the trace by clearing the variable', () => {
  const traceId = new TextBoxVariable({ name: 'traceId', value: 'a332' });
  const section = new TraceSection({ panel: tracePanel() });
  new EmbeddedScene({ $variables: new SceneVariableSet({ variables: [traceId] }), body: section });
  section.close();
  expect(traceId.getValue()).toBe('');
});
