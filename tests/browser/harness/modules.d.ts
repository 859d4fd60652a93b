// import.meta.webpackContext (dashboard/dashboards.ts), as webpack declares it.
/// <reference types="webpack/module" />

// Webpack aliases of webpack.config.mjs.
declare module 'tusk-harness-panel-module' {
  import type { PanelPlugin } from '@grafana/data';
  export const plugin: PanelPlugin | undefined;
}

declare module 'tusk-harness-panel-json' {
  const json: { id: string; name: string; type: string; info?: Record<string, unknown> };
  export default json;
}

declare module 'tusk-harness-runtime-plugin-page' {
  import type { PluginPageType } from '@grafana/runtime';
  export function setPluginPage(component: PluginPageType): void;
}
