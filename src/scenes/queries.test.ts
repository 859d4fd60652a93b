import { EmbeddedScene, SceneFlexLayout, SceneObjectBase, type SceneObjectState } from '@grafana/scenes';
import { LoadingState } from '@grafana/data';
import { redQuery, syncQueries, traceQuery, TUSK_DATASOURCE, tuskRunner } from './queries';

class Source extends SceneObjectBase<SceneObjectState & { limit: number }> {}

it('addresses every query to the data source variable', () => {
  const runner = tuskRunner([redQuery('A', ['p95'], 'endpoint'), traceQuery('B', 'traceId')]);
  expect(runner.state.datasource).toEqual({ type: 'tusk-php-datasource', uid: '${ds}' });
  expect(runner.state.queries).toEqual([
    {
      refId: 'A',
      queryType: 'metrics',
      service: '${service}',
      pool: '${pool}',
      metrics: ['p95'],
      groupBy: 'endpoint',
      datasource: TUSK_DATASOURCE,
    },
    { refId: 'B', queryType: 'trace', traceId: '${traceId}', datasource: TUSK_DATASOURCE },
  ]);
});

describe('syncQueries', () => {
  function setup() {
    const source = new Source({ limit: 10 });
    const runner = tuskRunner([{ refId: 'A', queryType: 'search', limit: 10 }]);
    const run = jest.spyOn(runner, 'runQueries').mockImplementation(() => {});
    const build = () => [{ refId: 'A', queryType: 'search' as const, limit: source.state.limit }];
    const scene = new EmbeddedScene({
      $behaviors: [syncQueries(runner, build, { rerunOn: [source] })],
      body: new SceneFlexLayout({ children: [] }),
    });
    return { source, runner, run, scene };
  }

  it('drops the data of an inactive runner whose queries changed, so it runs when shown', () => {
    const { source, runner, scene } = setup();
    runner.setState({ data: { series: [], state: LoadingState.Done, timeRange: {} as never } });
    source.setState({ limit: 20 });
    const deactivate = scene.activate();
    expect(runner.state.queries[0]).toMatchObject({ limit: 20 });
    expect(runner.state.data).toBeUndefined();
    deactivate();
  });

  it('runs an active runner again when the source changes, and not when nothing changed', () => {
    const { source, runner, run, scene } = setup();
    const deactivateScene = scene.activate();
    const deactivateRunner = runner.activate();
    run.mockClear();
    source.setState({ limit: 10 });
    expect(run).not.toHaveBeenCalled();
    source.setState({ limit: 30 });
    expect(run).toHaveBeenCalledTimes(1);
    expect(runner.state.queries[0]).toMatchObject({ limit: 30, datasource: TUSK_DATASOURCE });
    deactivateRunner();
    deactivateScene();
  });
});
