// Wires the @grafana/runtime services a plugin uses to the harness's implementations, then renders the
// routes. Loaded by boot.ts after window.grafanaBootData is set.
import React, { type ReactNode, useLayoutEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Route, Router, Routes } from 'react-router-dom';
import {
  config,
  locationService,
  LocationServiceProvider,
  setAppEvents,
  setBackendSrv,
  setDataSourceSrv,
  setLocationSrv,
  setPluginComponentHook,
  setPluginComponentsHook,
  setPluginFunctionsHook,
  setPluginImportUtils,
  setPluginLinksHook,
  setReturnToPreviousHook,
  setRunRequest,
  setTemplateSrv,
} from '@grafana/runtime';
import { initializeLoggersRegistry } from '@grafana/runtime/unstable';
import { GlobalStyles, PortalContainer, ThemeContext } from '@grafana/ui';
import { setPluginPage } from 'tusk-harness-runtime-plugin-page';
import appPluginJson from '../../../src/plugin.json';
import type { HarnessBoot } from './bootData';
import { createPluginPage } from './chrome/PluginPage';
import { getPanelPluginFromCache, importPanelPlugin } from './panels/registry';
import { AppConfigRoute, AppRootRoute } from './routes/AppRoutes';
import { DashboardRoute } from './routes/DashboardRoute';
import { HomeRoute } from './routes/HomeRoute';
import { PanelRoute } from './routes/PanelRoute';
import { QueryEditorRoute } from './routes/QueryEditorRoute';
import { HarnessBackendSrv } from './services/backendSrv';
import { HarnessDataSourceSrv } from './services/dataSourceSrv';
import { interceptLinkClicks } from './services/links';
import { runRequest } from './services/runRequest';
import { HarnessTemplateSrv } from './services/templateSrv';
import { initCoreRegistries } from './services/coreRegistries';
import { createAppEvents } from './services/toasts';

export function mount(element: HTMLElement, boot: HarnessBoot) {
  initCoreRegistries();
  initializeLoggersRegistry();
  setBackendSrv(new HarnessBackendSrv());
  setAppEvents(createAppEvents());
  setTemplateSrv(new HarnessTemplateSrv());
  setDataSourceSrv(new HarnessDataSourceSrv(boot.datasources, boot.buildInfo.version));
  setRunRequest(runRequest);
  setLocationSrv({ update: (options) => locationService.update(options) });
  setPluginImportUtils({ importPanelPlugin, getPanelPluginFromCache });
  setPluginPage(createPluginPage(() => appPluginJson.name));
  // No other plugins are installed here: every extension point is empty.
  setPluginLinksHook(() => ({ links: [], isLoading: false }));
  setPluginComponentsHook(() => ({ components: [], isLoading: false }));
  setPluginComponentHook(() => ({ component: null, isLoading: false }));
  setPluginFunctionsHook(() => ({ functions: [], isLoading: false }));
  setReturnToPreviousHook(() => () => {});
  interceptLinkClicks();

  createRoot(element).render(
    <ThemeContext.Provider value={config.theme2}>
      <GlobalStyles />
      <WithoutGrafanaFonts />
      <PortalContainer />
      <LocationServiceProvider service={locationService}>
        <HistoryRouter>
          <Routes>
            <Route path="/a/tusk-php-app/*" element={<AppRootRoute boot={boot} />} />
            <Route path="/plugins/tusk-php-app" element={<AppConfigRoute boot={boot} />} />
            <Route path="/harness/query-editor" element={<QueryEditorRoute />} />
            <Route path="/harness/panel" element={<PanelRoute />} />
            <Route path="/harness/dashboard" element={<DashboardRoute />} />
            {/* Grafana's dashboard URL, which the dashboards' own data links use. */}
            <Route path="/d/:uid/:slug?" element={<DashboardRoute />} />
            <Route path="*" element={<HomeRoute boot={boot} />} />
          </Routes>
        </HistoryRouter>
      </LocationServiceProvider>
    </ThemeContext.Provider>
  );
}

/**
 * GlobalStyles declares Grafana's Inter and Roboto Mono faces at public/fonts/, which Grafana serves and no npm
 * package ships; @grafana/ui also measures text in 'Inter' on a canvas, which would request them. Removing the
 * @font-face rules (before the first paint) makes the browser use its own fonts instead of 404ing on them.
 */
function WithoutGrafanaFonts() {
  useLayoutEffect(() => {
    for (const sheet of Array.from(document.styleSheets)) {
      const rules = Array.from(sheet.cssRules);
      for (let i = rules.length - 1; i >= 0; i--) {
        if (rules[i] instanceof CSSFontFaceRule && rules[i].cssText.includes('public/fonts/')) {
          sheet.deleteRule(i);
        }
      }
    }
  }, []);
  return null;
}

/**
 * react-router 6 bound to runtime's locationService history (history v4, whose listen() signature
 * differs from what unstable_HistoryRouter expects), so scenes' URL sync, locationService.push and
 * react-router's navigation all move the same history, as in Grafana.
 */
function HistoryRouter({ children }: { children: ReactNode }) {
  const history = locationService.getHistory();
  const [state, setState] = useState({ location: history.location, action: history.action });
  useLayoutEffect(
    () =>
      history.listen((location: typeof history.location, action: typeof history.action) =>
        setState({ location, action })
      ),
    [history]
  );
  return (
    <Router navigator={history} location={state.location} navigationType={state.action as never}>
      {children}
    </Router>
  );
}
