// Entry point. @grafana/runtime builds its `config` from window.grafanaBootData when its module is
// first evaluated, so this chunk sets the boot data and only then loads the chunk that imports runtime.
import { grafanaBootData, loadBoot } from './bootData';

async function start() {
  const boot = await loadBoot();
  window.__tuskHarnessBoot = boot;
  window.grafanaBootData = grafanaBootData(boot);
  // Where @grafana/ui looks for its icons (webpack.config.mjs copies them there).
  (window as { __grafana_public_path__?: string }).__grafana_public_path__ = '/public/';
  const { mount } = await import(/* webpackChunkName: "harness" */ './main');
  mount(document.getElementById('root')!, boot);
}

start().catch((err) => {
  console.error('harness: failed to start', err);
  document.body.textContent = `harness failed to start: ${err instanceof Error ? err.message : String(err)}`;
});
