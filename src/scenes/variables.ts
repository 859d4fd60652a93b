// The variables the pages share: which Tusk data source to query, and the service and pool filters whose choices
// come from the agents that data source reads (its GET options resource).
import { type Observable, of } from 'rxjs';
import { catchError, map } from 'rxjs/operators';
import { getBackendSrv } from '@grafana/runtime';
import {
  DataSourceVariable,
  MultiOrSingleValueSelect,
  MultiValueVariable,
  type MultiValueVariableState,
  sceneGraph,
  SceneVariableSet,
  VariableDependencyConfig,
  type VariableValueOption,
} from '@grafana/scenes';
import { DATASOURCE_PLUGIN_ID, VAR_DATASOURCE, VAR_POOL, VAR_SERVICE } from '../constants';

/** GET /api/datasources/uid/<uid>/resources/options (pkg/plugin/resources.go Options). */
export interface DatasourceOptions {
  agents: string[];
  services: string[];
  pools: string[];
  failed?: string[];
}

export type OptionsField = 'services' | 'pools';

export interface TuskOptionsVariableState extends MultiValueVariableState {
  /** Which list of the options resource this variable offers. */
  field: OptionsField;
  /** The data source whose agents are asked; may reference the data source variable. */
  datasource: string;
  /** Label of the first option, whose value '' filters nothing. */
  allLabel: string;
  /** Agents that did not answer when the options were last read ("web-2: connection refused"). */
  failedAgents?: string[];
}

/** The value of the "all" choice: an empty filter, which the backend ignores. */
export const ALL = '';

/**
 * A single-value variable whose choices are the services or pools the agents of a Tusk data source see now,
 * after an "All" choice worth '' (no filter). A value typed by hand, or read from the URL, stays even if no agent
 * sees it now: old traces may still carry it.
 */
export class TuskOptionsVariable extends MultiValueVariable<TuskOptionsVariableState> {
  protected _variableDependency = new VariableDependencyConfig(this, { statePaths: ['datasource'] });

  constructor(state: Partial<TuskOptionsVariableState> & Pick<TuskOptionsVariableState, 'name' | 'field'>) {
    super({
      type: 'custom',
      value: ALL,
      text: state.allLabel ?? 'All',
      options: [],
      datasource: `\${${VAR_DATASOURCE}}`,
      allLabel: 'All',
      allowCustomValue: true,
      ...state,
    });
  }

  getValueOptions(): Observable<VariableValueOption[]> {
    const uid = sceneGraph.interpolate(this, this.state.datasource);
    const all: VariableValueOption = { label: this.state.allLabel, value: ALL };
    const current = String(this.state.value ?? '');
    const withCurrent = (names: string[]) => {
      const options = [all, ...names.map((name) => ({ label: name, value: name }))];
      if (current && !names.includes(current)) {
        options.push({ label: `${current} (not seen now)`, value: current });
      }
      return options;
    };
    if (!uid || uid.startsWith('$')) {
      return of(withCurrent([]));
    }
    return fetchDatasourceOptions(uid).pipe(
      map((options) => {
        this.setState({ failedAgents: options.failed ?? [] });
        return withCurrent(options[this.state.field] ?? []);
      }),
      // No choices is no reason to block the page: the filter still takes a typed value.
      catchError(() => of(withCurrent([])))
    );
  }

  static Component = MultiOrSingleValueSelect;
}

export function fetchDatasourceOptions(uid: string): Observable<DatasourceOptions> {
  return getBackendSrv()
    .fetch<DatasourceOptions>({
      url: `/api/datasources/uid/${encodeURIComponent(uid)}/resources/options`,
      method: 'GET',
      showErrorAlert: false,
    })
    .pipe(map((response) => response.data));
}

export function newDatasourceVariable(): DataSourceVariable {
  return new DataSourceVariable({
    name: VAR_DATASOURCE,
    label: 'Data source',
    pluginId: DATASOURCE_PLUGIN_ID,
    description: 'The Tusk PHP traces data source to query: each one reads its own agents',
  });
}

export function newServiceVariable(): TuskOptionsVariable {
  return new TuskOptionsVariable({
    name: VAR_SERVICE,
    label: 'Service',
    field: 'services',
    allLabel: 'All services',
    description: 'Service name the traces carry (one per php-fpm pool unless configured)',
  });
}

export function newPoolVariable(): TuskOptionsVariable {
  return new TuskOptionsVariable({
    name: VAR_POOL,
    label: 'Pool',
    field: 'pools',
    allLabel: 'All pools',
    description: 'php-fpm pool',
  });
}

/** The variables every page shares, held by the app's page so that switching tabs keeps them. */
export function newSharedVariables(): SceneVariableSet {
  return new SceneVariableSet({
    variables: [newDatasourceVariable(), newServiceVariable(), newPoolVariable()],
  });
}
