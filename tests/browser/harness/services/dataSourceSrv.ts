// DataSourceSrv over the data sources of boot.json. Every one is a Tusk data source: get() instantiates
// the real DataSource class of src/datasource/module, as Grafana's plugin loader would, once per uid.
import {
  type DataSourceApi,
  type DataSourceInstanceSettings,
  type DataSourcePluginMeta,
  type DataSourceRef,
  PluginType,
  type ScopedVars,
} from '@grafana/data';
import { type DataSourceSrv, type GetDataSourceListFilters, getTemplateSrv } from '@grafana/runtime';
import { plugin as datasourcePlugin } from '../../../../src/datasource/module';
import datasourcePluginJson from '../../../../src/datasource/plugin.json';
import type { HarnessDatasource } from '../bootData';

const DATASOURCE_TYPE = datasourcePluginJson.id;

export function datasourceMeta(version: string): DataSourcePluginMeta {
  const json = datasourcePluginJson as unknown as DataSourcePluginMeta;
  return {
    ...json,
    type: PluginType.datasource,
    module: `public/plugins/${json.id}/module.js`,
    baseUrl: `public/plugins/${json.id}`,
    info: { ...json.info, version },
  };
}

export class HarnessDataSourceSrv implements DataSourceSrv {
  private readonly settings: DataSourceInstanceSettings[];
  private readonly instances = new Map<string, Promise<DataSourceApi>>();

  constructor(datasources: HarnessDatasource[], version: string) {
    const meta = datasourceMeta(version);
    this.settings = datasources.map((ds, i) => {
      if (ds.type !== DATASOURCE_TYPE) {
        throw new Error(
          `harness: boot.json data source ${ds.uid} has type ${ds.type}, only ${DATASOURCE_TYPE} exists here`
        );
      }
      return {
        id: ds.id,
        uid: ds.uid,
        name: ds.name,
        type: ds.type,
        meta,
        jsonData: ds.jsonData ?? {},
        access: 'proxy',
        readOnly: false,
        isDefault: i === 0,
      };
    });
  }

  get(ref?: DataSourceRef | string | null, scopedVars?: ScopedVars): Promise<DataSourceApi> {
    const settings = this.getInstanceSettings(ref, scopedVars);
    if (!settings) {
      return Promise.reject(new Error(`Datasource ${JSON.stringify(ref)} was not found`));
    }
    const uid = settings.rawRef?.uid ?? settings.uid;
    let instance = this.instances.get(uid);
    if (!instance) {
      const real = this.settings.find((s) => s.uid === uid)!;
      instance = Promise.resolve(instantiate(real));
      this.instances.set(uid, instance);
    }
    return instance;
  }

  getInstanceSettings(
    ref?: DataSourceRef | string | null,
    scopedVars?: ScopedVars
  ): DataSourceInstanceSettings | undefined {
    const key = typeof ref === 'string' ? ref : ref?.uid;
    if (key == null || key === 'default') {
      const type = typeof ref === 'object' ? ref?.type : undefined;
      return (type ? this.settings.find((s) => s.type === type) : undefined) ?? this.settings.find((s) => s.isDefault);
    }
    if (key.includes('$')) {
      // A data source variable ("${ds}"): Grafana answers with the variable's name as uid and the real
      // data source as rawRef.
      const interpolated = getTemplateSrv().replace(key, scopedVars, (v: unknown) => (Array.isArray(v) ? v[0] : v));
      if (interpolated === key) {
        return undefined;
      }
      const resolved = this.lookup(interpolated);
      return (
        resolved && {
          ...resolved,
          isDefault: false,
          name: key,
          uid: key,
          rawRef: { type: resolved.type, uid: resolved.uid },
        }
      );
    }
    return this.lookup(key);
  }

  getList(filters: GetDataSourceListFilters = {}): DataSourceInstanceSettings[] {
    return this.settings
      .filter((s) => {
        const m = s.meta;
        if (filters.pluginId && s.type !== filters.pluginId) {
          return false;
        }
        if (filters.type && !(Array.isArray(filters.type) ? filters.type.includes(s.type) : filters.type === s.type)) {
          return false;
        }
        if ((filters.metrics && !m.metrics) || (filters.tracing && !m.tracing) || (filters.logs && !m.logs)) {
          return false;
        }
        if ((filters.annotations && !m.annotations) || (filters.alerting && !m.alerting)) {
          return false;
        }
        return !filters.filter || filters.filter(s);
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async reload(): Promise<void> {}

  registerRuntimeDataSource(): void {
    throw new Error('harness: runtime data sources are not supported');
  }

  private lookup(nameOrUid: string): DataSourceInstanceSettings | undefined {
    return (
      this.settings.find((s) => s.uid === nameOrUid) ??
      this.settings.find((s) => s.name === nameOrUid) ??
      this.settings.find((s) => String(s.id) === nameOrUid)
    );
  }
}

function instantiate(settings: DataSourceInstanceSettings): DataSourceApi {
  const DataSourceClass = datasourcePlugin.DataSourceClass as unknown as new (
    s: DataSourceInstanceSettings
  ) => DataSourceApi;
  const instance = new DataSourceClass(settings);
  // What Grafana's loader adds after construction.
  instance.components = datasourcePlugin.components as unknown as DataSourceApi['components'];
  instance.meta = settings.meta;
  return instance;
}
