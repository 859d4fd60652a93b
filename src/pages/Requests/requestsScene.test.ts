import type { DataLinkClickEvent } from '@grafana/data';
import {
  type CustomTransformOperator,
  sceneGraph,
  type SceneObject,
  SceneVariableSet,
  TextBoxVariable,
} from '@grafana/scenes';
import { goldenFrames } from '../../testing/golden';
import { panels, panelTitled, queriesOf, runnerOf, transformerOf } from '../../testing/scenes';
import { RequestFilters } from './RequestFilters';
import { buildRequestsScene } from './requestsScene';
import { TraceSection } from './TraceSection';
import { lastValueFrom, of } from 'rxjs';

const TUSK = { type: 'tusk-php-datasource', uid: '${ds}' };

function find<T>(scene: SceneObject, type: new (...args: never[]) => T): T {
  return sceneGraph.findObject(scene, (o) => o instanceof type) as T;
}

describe('Requests scene', () => {
  it('searches the slowest requests of the shared filters, and shows the trace of the traceId variable', () => {
    const scene = buildRequestsScene();
    expect(queriesOf(panelTitled(scene, 'Requests'))).toEqual([
      {
        refId: 'search',
        queryType: 'search',
        service: '${service}',
        pool: '${pool}',
        order: 'slowest',
        limit: 50,
        datasource: TUSK,
      },
    ]);
    const traces = panels(scene).find((p) => p.state.pluginId === 'traces')!;
    expect(queriesOf(traces)).toEqual([
      { refId: 'trace', queryType: 'trace', traceId: '${traceId}', datasource: TUSK },
    ]);
    expect(find(scene, TraceSection).state.panel).toBe(traces);
  });

  it('keeps the chosen trace id in a hidden, URL-synced variable', () => {
    const scene = buildRequestsScene();
    const [traceId] = (scene.state.$variables as SceneVariableSet).state.variables;
    expect(traceId).toBeInstanceOf(TextBoxVariable);
    expect(traceId.state).toMatchObject({ name: 'traceId', hide: 2, value: '' });
    expect(traceId.urlSync?.getKeys()).toEqual(['var-traceId']);
  });

  it('runs the search again when a filter changes', () => {
    const scene = buildRequestsScene();
    const filters = find(scene, RequestFilters);
    const runner = runnerOf(panelTitled(scene, 'Requests'));
    const run = jest.spyOn(runner, 'runQueries').mockImplementation(() => {});
    const deactivateScene = scene.activate();
    const deactivateRunner = runner.activate();

    filters.onChange({ path: '/cart', errorsOnly: true, minDuration: '250ms' });
    expect(runner.state.queries).toEqual([
      expect.objectContaining({ path: '/cart', errorsOnly: true, minDuration: '250ms', datasource: TUSK }),
    ]);
    expect(run).toHaveBeenCalled();

    deactivateRunner();
    deactivateScene();
  });

  it('applies filters read from the URL before the first search', () => {
    const scene = buildRequestsScene();
    const filters = find(scene, RequestFilters);
    filters.urlSync!.updateFromUrl({ order: 'newest', status: '500' });
    const deactivate = scene.activate();
    expect(queriesOf(panelTitled(scene, 'Requests'))[0]).toMatchObject({ order: 'newest', status: 500 });
    deactivate();
  });

  it('shows a clicked trace id on the page, keeping the Explore link of the backend', async () => {
    const scene = buildRequestsScene();
    const operators = transformerOf(panelTitled(scene, 'Requests')).state.transformations as CustomTransformOperator[];
    const [frame] = await lastValueFrom(of(goldenFrames('search')).pipe(operators[0]({ interpolate: (s) => s })));
    const [explore, below] = frame.fields[0].config.links!;
    expect(explore.internal).toBeDefined();
    expect(below.title).toBe('Show trace ${__value.raw} below');

    const event: DataLinkClickEvent = {
      origin: {},
      replaceVariables: (s: string) => s.replace('${__value.raw}', 'a3320a9a512b95e22f07940c56746f42'),
    };
    below.onClick!(event);
    const traceId = sceneGraph.lookupVariable('traceId', find(scene, TraceSection)) as TextBoxVariable;
    expect(traceId.getValue()).toBe('a3320a9a512b95e22f07940c56746f42');
  });
});
