import { sceneGraph, SceneTimeRange, SceneVariableSet, TextBoxVariable } from '@grafana/scenes';
import { panels, queriesOf, runnerOf } from '../../testing/scenes';
import { FlameComparison } from './FlameComparison';
import { buildProfilesScene, FLAME_OPTIONS } from './profilesScene';

const TUSK = { type: 'tusk-php-datasource', uid: '${ds}' };
const FROM = Date.parse('2026-11-26T10:00:00Z');
const TO = Date.parse('2026-11-26T11:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function setup() {
  const scene = buildProfilesScene();
  scene.setState({ $timeRange: new SceneTimeRange({ from: iso(FROM), to: iso(TO) }) });
  const [flame] = panels(scene);
  const runner = runnerOf(flame);
  const comparison = sceneGraph.findObject(scene, (o) => o instanceof FlameComparison) as FlameComparison;
  const run = jest.spyOn(runner, 'runQueries').mockImplementation(() => {});
  return { scene, flame, runner, comparison, run };
}

describe('Profiles scene', () => {
  it('shows the PHP flame graph panel with its top table, for the shared filters and the endpoint', () => {
    const { scene, flame } = setup();
    expect(flame.state.pluginId).toBe('tusk-phpflame-panel');
    expect(flame.state.options).toEqual(FLAME_OPTIONS);
    expect(FLAME_OPTIONS.view).toBe('both');
    expect(queriesOf(flame)).toEqual([
      {
        refId: 'flame',
        queryType: 'flamegraph',
        service: '${service}',
        pool: '${pool}',
        endpoint: '${endpoint}',
        datasource: TUSK,
      },
    ]);
    const [endpoint] = (scene.state.$variables as SceneVariableSet).state.variables;
    expect(endpoint).toBeInstanceOf(TextBoxVariable);
    expect(endpoint.state.name).toBe('endpoint');
  });

  it('turns into a diff against the chosen baseline, and runs again', () => {
    const { scene, runner, comparison, run } = setup();
    const deactivateScene = scene.activate();
    const deactivateRunner = runner.activate();
    run.mockClear();

    comparison.onModeChange('previous');
    expect(runner.state.queries[0]).toMatchObject({
      baselineFrom: FROM - 3_600_000,
      baselineTo: FROM,
    });
    expect(run).toHaveBeenCalledTimes(1);

    comparison.onModeChange('none');
    expect(runner.state.queries[0]).not.toHaveProperty('baselineFrom');

    deactivateRunner();
    deactivateScene();
  });

  it('moves the baseline with the time range without running twice', () => {
    const { scene, runner, comparison, run } = setup();
    comparison.onModeChange('week');
    const deactivateScene = scene.activate();
    const deactivateRunner = runner.activate();
    run.mockClear();

    const timeRange = sceneGraph.getTimeRange(scene);
    timeRange.setState({ ...timeRange.state, from: iso(FROM + 3_600_000), to: iso(TO + 3_600_000) });
    (timeRange as SceneTimeRange).onRefresh();
    expect(runner.state.queries[0]).toMatchObject({ baselineFrom: FROM + 3_600_000 - 7 * 86400_000 });
    expect(run).not.toHaveBeenCalled();

    deactivateRunner();
    deactivateScene();
  });

  it('keeps the comparison in the URL', () => {
    const comparison = new FlameComparison();
    comparison.onModeChange('custom');
    comparison.onCustomChange({ from: 1000, to: 2000 });
    expect(comparison.urlSync!.getUrlState()).toEqual({ compare: 'custom', compareFrom: '1000', compareTo: '2000' });
    const restored = new FlameComparison();
    restored.urlSync!.updateFromUrl({ compare: 'custom', compareFrom: '1000', compareTo: '2000' });
    expect(restored.state).toMatchObject({ mode: 'custom', customFrom: 1000, customTo: 2000 });
    restored.urlSync!.updateFromUrl({ compare: 'bogus' });
    expect(restored.state.mode).toBe('custom');
    expect(new FlameComparison().urlSync!.getUrlState()).toEqual({ compare: null, compareFrom: null, compareTo: null });
  });
});
