import {
  EmbeddedScene,
  SceneFlexItem,
  SceneFlexLayout,
  type SceneQueryRunner,
  type SceneStatelessBehavior,
  SceneVariableSet,
  sceneGraph,
  TextBoxVariable,
  VizPanel,
} from '@grafana/scenes';
import { FLAME_PANEL_ID, VAR_DATASOURCE, VAR_ENDPOINT, VAR_POOL, VAR_SERVICE } from '../../constants';
import type { PhpFlameOptions } from '../../panel/types';
import { pageControls } from '../../scenes/controls';
import { DatasourceNotice } from '../../scenes/DatasourceNotice';
import { syncQueries, tuskRunner } from '../../scenes/queries';
import { flameQuery } from './comparison';
import { FlameComparison } from './FlameComparison';

export function newEndpointVariable(): TextBoxVariable {
  return new TextBoxVariable({
    name: VAR_ENDPOINT,
    label: 'Endpoint',
    value: '',
    description: 'Only requests of this endpoint, as the tables name it: "GET /cart". Empty: all.',
  });
}

export const FLAME_OPTIONS: PhpFlameOptions = { groupBy: 'function', view: 'both', vertical: false };

export function buildProfilesScene(): EmbeddedScene {
  const comparison = new FlameComparison();
  const runner = tuskRunner([flameQuery()]);
  return new EmbeddedScene({
    $variables: new SceneVariableSet({ variables: [newEndpointVariable()] }),
    $behaviors: [syncBaseline(comparison, runner)],
    controls: pageControls([VAR_DATASOURCE, VAR_SERVICE, VAR_POOL, VAR_ENDPOINT]),
    body: new SceneFlexLayout({
      direction: 'column',
      children: [
        new SceneFlexItem({ ySizing: 'content', body: new DatasourceNotice({}) }),
        new SceneFlexItem({ ySizing: 'content', body: comparison }),
        new SceneFlexItem({ minHeight: 640, body: flamePanel(runner) }),
      ],
    }),
  });
}

export function flamePanel(runner: SceneQueryRunner): VizPanel<PhpFlameOptions> {
  return new VizPanel<PhpFlameOptions>({
    pluginId: FLAME_PANEL_ID,
    title: 'CPU time of PHP code',
    description:
      'Where PHP spent CPU time in the time range, sampled by the agents, for the chosen service, pool and endpoint. ' +
      'The table lists functions by self time. Empty: no request ran PHP code in this range, or the agents’ ' +
      'profiler is off (see Overview).',
    options: FLAME_OPTIONS,
    $data: runner,
  });
}

/**
 * Keeps the flame query's baseline in step with the comparison choice (running it again when the choice changes)
 * and with the time range, on whose change the runner runs by itself.
 */
export function syncBaseline(comparison: FlameComparison, runner: SceneQueryRunner): SceneStatelessBehavior {
  return syncQueries(runner, () => [flameQuery(comparison.baseline())], {
    rerunOn: [comparison],
    updateOn: (scene) => [sceneGraph.getTimeRange(scene)],
  });
}
