import { EmbeddedScene, SceneFlexItem, SceneFlexLayout } from '@grafana/scenes';
import { pageControls } from '../../scenes/controls';
import { FleetScene } from '../../scenes/FleetScene';
import { ProbesView } from './ProbesView';

/** Probes: the agents' status, which is of now, so the page has a refresh but no time picker. */
export function buildProbesScene(): EmbeddedScene {
  return new EmbeddedScene({
    controls: pageControls([], { timePicker: false }),
    body: new SceneFlexLayout({
      direction: 'column',
      children: [new SceneFlexItem({ ySizing: 'content', body: new FleetScene({ view: ProbesView, tickMs: 1000 }) })],
    }),
  });
}
