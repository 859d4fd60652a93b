// What the page learns about its "Grafana" before anything imports @grafana/runtime: the shim's
// /harness/boot.json, turned into the window.grafanaBootData that runtime's `config` is built from.

export interface HarnessDatasource {
  uid: string;
  name: string;
  type: string;
  id: number;
  jsonData: Record<string, unknown>;
}

export interface HarnessBoot {
  datasources: HarnessDatasource[];
  app: { id: string; jsonData: Record<string, unknown> };
  buildInfo: { version: string };
}

declare global {
  interface Window {
    grafanaBootData?: unknown;
    __tuskHarnessBoot?: HarnessBoot;
  }
}

export const DEFAULT_BOOT: HarnessBoot = {
  datasources: [],
  app: { id: 'tusk-php-app', jsonData: {} },
  buildInfo: { version: '13.2.2' },
};

export async function loadBoot(): Promise<HarnessBoot> {
  const response = await fetch('/harness/boot.json', { credentials: 'same-origin' });
  if (response.status === 404) {
    // A static server without the shim (the render benchmark): no data sources, no app settings.
    console.warn('harness: /harness/boot.json not found, starting without data sources');
    return DEFAULT_BOOT;
  }
  if (!response.ok) {
    throw new Error(`harness: /harness/boot.json answered ${response.status}`);
  }
  const boot = (await response.json()) as Partial<HarnessBoot>;
  return {
    datasources: boot.datasources ?? [],
    app: { ...DEFAULT_BOOT.app, ...boot.app },
    buildInfo: { ...DEFAULT_BOOT.buildInfo, ...boot.buildInfo },
  };
}

/** The subset of Grafana's boot data that @grafana/runtime, @grafana/ui and scenes read. */
export function grafanaBootData(boot: HarnessBoot) {
  return {
    assets: { dark: '', light: '' },
    navTree: [],
    user: {
      id: 1,
      uid: 'harness-admin',
      login: 'admin',
      name: 'admin',
      email: 'admin@localhost',
      orgId: 1,
      orgName: 'Main Org.',
      orgRole: 'Admin',
      isGrafanaAdmin: true,
      isSignedIn: true,
      theme: 'dark',
      lightTheme: false,
      timezone: 'browser',
      weekStart: '',
      locale: 'en-US',
      language: 'en-US',
      regionalFormat: 'en-US',
      helpFlags1: 0,
      hasEditPermissionInFolders: true,
      gravatarUrl: '',
      permissions: {},
      analytics: { identifier: 'harness' },
      fiscalYearStartMonth: 0,
    },
    settings: {
      appUrl: `${window.location.origin}/`,
      appSubUrl: '',
      buildInfo: {
        version: boot.buildInfo.version,
        commit: 'harness',
        env: 'production',
        edition: 'Open Source',
        latestVersion: '',
        hasUpdate: false,
        hideVersion: false,
      },
      featureToggles: {},
      namespace: 'default',
      minRefreshInterval: '5s',
      datasources: Object.fromEntries(boot.datasources.map((ds) => [ds.name, { ...ds }])),
      defaultDatasource: boot.datasources[0]?.name ?? '',
      panels: {},
      apps: {},
      theme2: undefined,
      exploreDefaultTimeOffset: '1h',
    },
  };
}
