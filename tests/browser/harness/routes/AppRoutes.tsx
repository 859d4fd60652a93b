// The app plugin's two entry points as Grafana mounts them: the root page under /a/<id>/* and the
// configuration page of /plugins/<id>. Plugin meta is plugin.json plus the settings the server keeps
// (GET /api/plugins/<id>/settings: enabled, jsonData, secureJsonFields), as Grafana loads it.
import React, { useEffect, useState } from 'react';
import { useLocation } from 'react-router-dom';
import { type AppPluginMeta, type KeyValue, PluginContextProvider, PluginType } from '@grafana/data';
import { getBackendSrv, locationSearchToObject, PluginPage } from '@grafana/runtime';
import { Alert, LoadingPlaceholder } from '@grafana/ui';
import { plugin as appPlugin } from '../../../../src/module';
import appPluginJson from '../../../../src/plugin.json';
import type { HarnessBoot } from '../bootData';

const APP_ID = appPluginJson.id;
export const APP_BASENAME = `/a/${APP_ID}`;

type Meta = AppPluginMeta<KeyValue>;

function usePluginMeta(boot: HarnessBoot): { meta?: Meta; error?: string } {
  const [state, setState] = useState<{ meta?: Meta; error?: string }>({});
  useEffect(() => {
    let cancelled = false;
    const base = {
      ...(appPluginJson as unknown as Meta),
      type: PluginType.app,
      module: `public/plugins/${APP_ID}/module.js`,
      baseUrl: `public/plugins/${APP_ID}`,
      info: { ...(appPluginJson.info as unknown as Meta['info']), version: boot.buildInfo.version },
    };
    getBackendSrv()
      .get<Partial<Meta>>(`/api/plugins/${APP_ID}/settings`, undefined, undefined, { showErrorAlert: false })
      .then(
        (settings) => ({
          ...base,
          enabled: settings.enabled ?? true,
          pinned: settings.pinned ?? false,
          jsonData: settings.jsonData ?? boot.app.jsonData,
          secureJsonFields: settings.secureJsonFields ?? {},
        }),
        (err: { status?: number }) => {
          if (err.status !== 404) {
            throw err;
          }
          // No shim behind this page (a static server): the settings boot.json carries.
          console.warn(`harness: no /api/plugins/${APP_ID}/settings, using boot.json's app settings`);
          return { ...base, enabled: true, pinned: false, jsonData: boot.app.jsonData, secureJsonFields: {} };
        }
      )
      .then(
        (meta) => !cancelled && setState({ meta }),
        (err: { data?: { message?: string }; message?: string }) =>
          !cancelled && setState({ error: err.data?.message ?? err.message ?? String(err) })
      );
    return () => {
      cancelled = true;
    };
  }, [boot]);
  return state;
}

let initialized = false;

function initApp(meta: Meta) {
  appPlugin.meta = meta;
  if (!initialized) {
    appPlugin.init(meta);
    initialized = true;
  }
}

export function AppRootRoute({ boot }: { boot: HarnessBoot }) {
  const location = useLocation();
  const { meta, error } = usePluginMeta(boot);
  if (error) {
    return <Alert title="Plugin settings could not be loaded">{error}</Alert>;
  }
  if (!meta) {
    return <LoadingPlaceholder text="Loading plugin settings" />;
  }
  initApp(meta);
  const Root = appPlugin.root;
  if (!Root) {
    return <Alert title="The app plugin has no root page" />;
  }
  return (
    <PluginContextProvider meta={meta}>
      <Root
        meta={meta}
        basename={APP_BASENAME}
        path={location.pathname}
        query={locationSearchToObject(location.search)}
        onNavChanged={() => {}}
      />
    </PluginContextProvider>
  );
}

export function AppConfigRoute({ boot }: { boot: HarnessBoot }) {
  const location = useLocation();
  const { meta, error } = usePluginMeta(boot);
  if (error) {
    return <Alert title="Plugin settings could not be loaded">{error}</Alert>;
  }
  if (!meta) {
    return <LoadingPlaceholder text="Loading plugin settings" />;
  }
  initApp(meta);
  const page = appPlugin.configPages?.[0];
  if (!page) {
    return <Alert title="The app plugin has no configuration page" />;
  }
  const Body = page.body;
  return (
    <PluginContextProvider meta={meta}>
      <PluginPage pageNav={{ text: meta.name, children: [{ text: page.title, active: true, url: location.pathname }] }}>
        <Body plugin={appPlugin} query={locationSearchToObject(location.search)} />
      </PluginPage>
    </PluginContextProvider>
  );
}
