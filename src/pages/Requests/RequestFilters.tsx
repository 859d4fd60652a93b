import React from 'react';
import {
  type SceneComponentProps,
  SceneObjectBase,
  type SceneObjectState,
  SceneObjectUrlSyncConfig,
  type SceneObjectUrlValues,
} from '@grafana/scenes';
import { RequestFilterForm } from './RequestFilterForm';
import { DEFAULT_FILTERS, filtersFromUrl, filtersToUrl, type RequestFilterValues, URL_KEYS } from './requestFilters';

export interface RequestFiltersState extends SceneObjectState, RequestFilterValues {}

/** The search filters of the Requests page, kept in the URL. The page's behavior turns them into the query. */
export class RequestFilters extends SceneObjectBase<RequestFiltersState> {
  protected _urlSync = new SceneObjectUrlSyncConfig(this, { keys: Object.values(URL_KEYS) });

  constructor(state: Partial<RequestFiltersState> = {}) {
    super({ ...DEFAULT_FILTERS, ...state });
  }

  get values(): RequestFilterValues {
    const { method, path, status, minDuration, errorsOnly, limit, order } = this.state;
    return { method, path, function: this.state.function, status, minDuration, errorsOnly, limit, order };
  }

  getUrlState(): SceneObjectUrlValues {
    return filtersToUrl(this.values);
  }

  updateFromUrl(values: SceneObjectUrlValues): void {
    const update = filtersFromUrl(values, this.values);
    const changed = (Object.keys(update) as Array<keyof RequestFilterValues>).some((k) => update[k] !== this.state[k]);
    if (changed) {
      this.setState(update);
    }
  }

  onChange = (patch: Partial<RequestFilterValues>) => {
    // status: undefined is a value here (any status), so it must be set explicitly.
    this.setState({ ...patch });
  };

  static Component = RequestFiltersRenderer;
}

function RequestFiltersRenderer({ model }: SceneComponentProps<RequestFilters>) {
  model.useState();
  return <RequestFilterForm value={model.values} onChange={model.onChange} />;
}
