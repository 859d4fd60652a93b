// Dashboard JSON → scene, for the dashboards the app provisions.
//
// Why this exists: Grafana turns a dashboard's JSON into scenes in its own code, which is not published
// (public/app/features/dashboard-scene/serialization/transformSaveModelToScene.ts and utils/variables.ts): it runs
// the JSON through DashboardModel's schema migrations, then builds a DashboardScene whose panels are
// DashboardGridItems holding VizPanels with Grafana's panel menu, panel links, notices and annotation/alert-state
// data layers, and whose controls are Grafana's DashboardControls (variables, dashboard links, time and refresh
// pickers). The harness cannot import any of that, so this reader builds, with the published scenes objects and
// the same state Grafana gives them, the part that decides what the dashboard shows:
//
//   time {from, to, timezone, fiscalYearStartMonth} → SceneTimeRange (URL-synced by the route)
//   refresh, timepicker {refresh_intervals, quick_ranges, hidden} → SceneRefreshPicker, SceneTimePicker
//   graphTooltip → the CursorSync behaviour; while active, the scene is window.__grafanaSceneContext
//   templating: `datasource` → DataSourceVariable (query = plugin id), `textbox` → TextBoxVariable
//   panels → SceneGridItem at gridPos holding a VizPanel (type, title, description, options, fieldConfig,
//            transparent) whose data is a SceneQueryRunner (datasource, targets, maxDataPoints, interval)
//            inside a SceneDataTransformer (transformations)
//
// No migrations run: the provisioned JSON is kept at the current schema. Dashboard links, panel links and
// menus are not shown. Anything else that changes what a dashboard shows and that this reader does not know
// (another variable type, rows, repeats, library panels, panel time overrides, annotation queries) throws:
// the harness would otherwise show the dashboard differently from Grafana without saying so.
import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/schema';
import {
  behaviors,
  DataSourceVariable,
  EmbeddedScene,
  type SceneGridItemLike,
  SceneControlsSpacer,
  SceneDataTransformer,
  SceneGridItem,
  SceneGridLayout,
  type SceneDataQuery,
  type SceneDataTransformerState,
  type SceneObject,
  SceneQueryRunner,
  SceneRefreshPicker,
  SceneTimePicker,
  SceneTimeRange,
  type SceneVariable,
  SceneVariableSet,
  TextBoxVariable,
  VariableValueSelectors,
  VizPanel,
  type VizPanelState,
} from '@grafana/scenes';

export class UnsupportedDashboardError extends Error {}

function unsupported(dashboard: Dashboard, what: string): never {
  throw new UnsupportedDashboardError(
    `harness dashboard reader: ${dashboard.uid}: ${what} (tests/browser/harness/dashboard/reader.ts)`
  );
}

export function buildDashboardScene(dashboard: Dashboard): EmbeddedScene {
  const customAnnotations = (dashboard.annotations?.list ?? []).filter((a) => !a.builtIn);
  if (customAnnotations.length) {
    unsupported(dashboard, `annotation queries (${customAnnotations.map((a) => a.name).join(', ')})`);
  }
  const timepicker = dashboard.timepicker ?? {};
  const controls: SceneObject[] = [new VariableValueSelectors({}), new SceneControlsSpacer()];
  if (!timepicker.hidden) {
    controls.push(
      new SceneTimePicker({ isOnCanvas: true, quickRanges: timepicker.quick_ranges }),
      new SceneRefreshPicker({
        isOnCanvas: true,
        refresh: dashboard.refresh ?? '',
        intervals: timepicker.refresh_intervals,
        withText: true,
      })
    );
  }
  return new EmbeddedScene({
    key: `dashboard-${dashboard.uid}`,
    $timeRange: new SceneTimeRange({
      from: dashboard.time?.from ?? 'now-6h',
      to: dashboard.time?.to ?? 'now',
      timeZone: dashboard.timezone || undefined,
      fiscalYearStartMonth: dashboard.fiscalYearStartMonth,
    }),
    $variables: new SceneVariableSet({
      variables: (dashboard.templating?.list ?? []).map((v) => buildVariable(dashboard, v)),
    }),
    $behaviors: [new behaviors.CursorSync({ sync: dashboard.graphTooltip ?? 0 }), setSceneContextWhileActive],
    controls,
    body: new SceneGridLayout({
      isDraggable: false,
      isResizable: false,
      // Grafana renders a panel once it scrolls into view, unless the dashboard says to preload them all.
      isLazy: !dashboard.preload,
      children: (dashboard.panels ?? []).map((p) => buildGridItem(dashboard, p)),
    }),
  });
}

/**
 * What Grafana's DashboardScene does while active: it is window.__grafanaSceneContext, where TemplateSrv.replace
 * without a scene object in its scopedVars finds the dashboard's variables and time range.
 */
function setSceneContextWhileActive(scene: SceneObject) {
  const previous = window.__grafanaSceneContext;
  window.__grafanaSceneContext = scene;
  return () => {
    window.__grafanaSceneContext = previous;
  };
}

function buildVariable(dashboard: Dashboard, v: VariableModel): SceneVariable {
  const common = {
    name: v.name,
    label: v.label,
    description: v.description ?? undefined,
    hide: v.hide as number | undefined,
    skipUrlSync: v.skipUrlSync,
  };
  const current = v.current?.value;
  switch (v.type) {
    case 'datasource':
      if (typeof v.query !== 'string') {
        return unsupported(dashboard, `data source variable ${v.name} without a plugin id as its query`);
      }
      return new DataSourceVariable({
        ...common,
        value: current ?? '',
        text: v.current?.text ?? '',
        pluginId: v.query,
        regex: v.regex ?? '',
        isMulti: v.multi,
        includeAll: v.includeAll,
        defaultToAll: Boolean(v.includeAll),
        allValue: v.allValue || undefined,
        defaultOptionEnabled: current === 'default' && v.current?.text === 'default',
      });
    case 'textbox':
      // The saved current value, else the default (the variable's query).
      return new TextBoxVariable({
        ...common,
        value: (Array.isArray(current) ? current[0] : current) || (typeof v.query === 'string' ? v.query : ''),
      });
    default:
      return unsupported(dashboard, `variable ${v.name} has type ${v.type}; only datasource and textbox are read`);
  }
}

function buildGridItem(dashboard: Dashboard, item: Panel | RowPanel): SceneGridItemLike {
  if (item.type === 'row') {
    return unsupported(dashboard, `row ${item.title ?? item.id}: rows are not read`);
  }
  const panel = item as Panel;
  const known = ['repeat', 'libraryPanel', 'timeFrom', 'timeShift'] as const;
  const used = known.filter((key) => panel[key]);
  if (used.length) {
    return unsupported(dashboard, `panel ${panel.id} (${panel.title}) uses ${used.join(', ')}`);
  }
  if (!panel.gridPos) {
    return unsupported(dashboard, `panel ${panel.id} (${panel.title}) has no gridPos`);
  }
  const { x, y, w, h } = panel.gridPos;
  return new SceneGridItem({
    key: `grid-item-${panel.id}`,
    x,
    y,
    width: w,
    height: h,
    isDraggable: false,
    isResizable: false,
    body: new VizPanel({
      key: `panel-${panel.id}`,
      pluginId: panel.type ?? 'timeseries',
      title: panel.title ?? '',
      description: panel.description,
      options: panel.options ?? {},
      fieldConfig: runtimeShape<VizPanelState['fieldConfig']>({
        defaults: panel.fieldConfig?.defaults ?? {},
        overrides: panel.fieldConfig?.overrides ?? [],
      }),
      pluginVersion: panel.pluginVersion,
      displayMode: panel.transparent ? 'transparent' : undefined,
      hoverHeader: !panel.title,
      $data: buildData(panel),
    }),
  });
}

function buildData(panel: Panel): SceneDataTransformer | undefined {
  const targets = panel.targets ?? [];
  if (!targets.length) {
    return undefined;
  }
  return new SceneDataTransformer({
    $data: new SceneQueryRunner({
      // Without a panel data source, the first query's, as Grafana does.
      datasource: panel.datasource ?? targets.find((t) => t.datasource)?.datasource ?? undefined,
      queries: runtimeShape<SceneDataQuery[]>(targets),
      maxDataPoints: panel.maxDataPoints ?? undefined,
      maxDataPointsFromWidth: true,
      minInterval: panel.interval ?? undefined,
    }),
    transformations: runtimeShape<SceneDataTransformerState['transformations']>(panel.transformations ?? []),
  });
}

/**
 * @grafana/schema types the saved JSON, @grafana/data and scenes the objects built from it: the same fields, with
 * the enums typed differently (string unions there, enums here) and targets as records there, queries here.
 */
function runtimeShape<T>(saved: unknown): T {
  return saved as T;
}
