// The panel plugins scenes can load here (runtime's setPluginImportUtils): our real flame graph panel
// from src/panel, and stand-ins for the Grafana core panels the app pages use. Core panels live in
// Grafana's own source tree (public/app/plugins/panel/*) and are not published on npm, so the harness
// cannot run them; each stand-in renders the same data with the @grafana/ui component the core panel
// is built on (or, for traces, a plain span list) and says on screen that it is a stand-in.
import { FieldColorModeId, PanelPlugin, type PanelPluginMeta, PluginType } from '@grafana/data';
import panelJson from 'tusk-harness-panel-json';
import { TablePanel, TimeSeriesPanel, TracesPanel } from './standIns';

type Loader = () => Promise<PanelPlugin>;

export const FLAME_PANEL_ID = 'tusk-phpflame-panel';

const cache = new Map<string, PanelPlugin>();

const loaders: Record<string, Loader> = {
  [FLAME_PANEL_ID]: async () => {
    const mod = (await import(/* webpackChunkName: "flame-panel" */ 'tusk-harness-panel-module')) as {
      plugin?: PanelPlugin;
    };
    if (!mod.plugin) {
      throw new Error('src/panel/module does not export `plugin` (a PanelPlugin)');
    }
    return withMeta(mod.plugin, panelJson as Partial<PanelPluginMeta>);
  },
  // Like the core panel: one colour per series unless the scene says otherwise.
  timeseries: async () =>
    withMeta(
      new PanelPlugin(TimeSeriesPanel).useFieldConfig({
        standardOptions: { color: { defaultValue: { mode: FieldColorModeId.PaletteClassic } } },
      }),
      coreMeta('timeseries', 'Time series')
    ),
  // Standard options (unit, decimals, links, overrides) give fields their display processors, as the core panel's do.
  table: async () => withMeta(new PanelPlugin(TablePanel).useFieldConfig(), coreMeta('table', 'Table')),
  traces: async () => withMeta(new PanelPlugin(TracesPanel), coreMeta('traces', 'Traces')),
};

export async function importPanelPlugin(id: string): Promise<PanelPlugin> {
  const cached = cache.get(id);
  if (cached) {
    return cached;
  }
  const load = loaders[id];
  if (!load) {
    throw new Error(`harness: no panel plugin "${id}" (known: ${Object.keys(loaders).join(', ')})`);
  }
  const plugin = await load();
  cache.set(id, plugin);
  return plugin;
}

export function getPanelPluginFromCache(id: string): PanelPlugin | undefined {
  return cache.get(id);
}

function coreMeta(id: string, name: string): Partial<PanelPluginMeta> {
  return {
    id,
    name,
    info: { author: { name: 'Grafana Labs' }, description: `harness stand-in for Grafana's ${name} panel` },
  } as Partial<PanelPluginMeta>;
}

// Grafana's plugin loader sets meta from the plugin's plugin.json after importing its module.
function withMeta(plugin: PanelPlugin, json: Partial<PanelPluginMeta>): PanelPlugin {
  const id = json.id ?? 'unknown';
  plugin.meta = {
    ...json,
    id,
    name: json.name ?? id,
    type: PluginType.panel,
    module: `public/plugins/${id}/module.js`,
    baseUrl: `public/plugins/${id}`,
    sort: 0,
    info: {
      author: { name: '' },
      description: '',
      links: [],
      logos: { large: '', small: '' },
      screenshots: [],
      updated: '',
      version: '',
      ...json.info,
    },
  } as PanelPluginMeta;
  return plugin;
}
