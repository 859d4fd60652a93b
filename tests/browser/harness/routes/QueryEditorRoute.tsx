// /harness/query-editor?query=<json>[&ds=<uid>][&from&to]: the data source's QueryEditor as Explore
// hosts it. onChange keeps the query, onRunQuery runs it through the real DataSource (filterQuery,
// applyTemplateVariables, POST /api/ds/query) and runRequest; the page shows the query JSON and a
// summary of the frames so tests can check editor state → query model → result.
import React, { useCallback, useEffect, useRef, useState } from 'react';
import type { Subscription } from 'rxjs';
import { useSearchParams } from 'react-router-dom';
import { CoreApp, type DataSourceApi, LoadingState, type PanelData, type QueryEditorProps } from '@grafana/data';
import { getDataSourceSrv } from '@grafana/runtime';
import { Alert, LoadingPlaceholder } from '@grafana/ui';
import type { TuskQuery } from '../../../../src/datasource/types';
import { runRequest } from '../services/runRequest';
import { buildRequest, parseQueryParam, parseTimeRange } from './common';
import { FramesSummary } from './FramesSummary';

type TuskApi = DataSourceApi<TuskQuery>;
type Editor = React.ComponentType<QueryEditorProps<TuskApi, TuskQuery>>;

export function QueryEditorRoute() {
  const [search] = useSearchParams();
  const [datasource, setDatasource] = useState<TuskApi>();
  const [error, setError] = useState<string>();
  const [query, setQuery] = useState<TuskQuery>();
  const [data, setData] = useState<PanelData>();
  const [runs, setRuns] = useState(0);
  const latest = useRef<TuskQuery | undefined>(undefined);
  const running = useRef<Subscription | undefined>(undefined);
  const [range] = useState(() => parseTimeRange(search));

  useEffect(() => {
    getDataSourceSrv()
      .get(search.get('ds'))
      .then((ds) => {
        const typed = ds as unknown as TuskApi;
        const given = parseQueryParam(search);
        // Explore starts a new query from the data source's default; a given one is taken as is.
        const initial = {
          refId: 'A',
          ...(given ?? typed.getDefaultQuery?.(CoreApp.Explore)),
        } as TuskQuery;
        latest.current = initial;
        setQuery(initial);
        setDatasource(typed);
      })
      .catch((err: Error) => setError(err.message));
    return () => running.current?.unsubscribe();
    // The route's parameters are read once, on load.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const onChange = useCallback((q: TuskQuery) => {
    latest.current = q;
    setQuery(q);
  }, []);

  // The editor may call onChange and onRunQuery in one handler: run what onChange last set.
  const onRunQuery = useCallback(() => {
    const q = latest.current;
    if (!datasource || !q) {
      return;
    }
    running.current?.unsubscribe();
    setRuns((n) => n + 1);
    if (datasource.filterQuery && !datasource.filterQuery(q)) {
      setData({ state: LoadingState.Done, series: [], timeRange: range });
      return;
    }
    const api = datasource as unknown as DataSourceApi;
    const request = buildRequest(api, q, range, CoreApp.Explore);
    running.current = runRequest(api, request).subscribe(setData);
  }, [datasource, range]);

  if (error) {
    return <Alert title="Data source not available">{error}</Alert>;
  }
  if (!datasource || !query) {
    return <LoadingPlaceholder text="Loading data source" />;
  }
  const QueryEditor = datasource.components?.QueryEditor as Editor | undefined;
  if (!QueryEditor) {
    return <Alert title="The data source has no QueryEditor" />;
  }
  return (
    <div style={{ padding: 24, display: 'flex', flexDirection: 'column', gap: 16 }}>
      <h2 style={{ margin: 0 }}>
        Query editor: {datasource.name} <small style={{ opacity: 0.6 }}>({datasource.uid})</small>
      </h2>
      <div data-testid="query-editor">
        <QueryEditor
          datasource={datasource}
          query={query}
          queries={[query]}
          onChange={onChange}
          onRunQuery={onRunQuery}
          data={data}
          range={range}
          app={CoreApp.Explore}
        />
      </div>
      <section>
        <h3>Query model</h3>
        <pre data-testid="query-json">{JSON.stringify(query, null, 2)}</pre>
      </section>
      <section>
        <h3>
          Result <small data-testid="query-runs">runs: {runs}</small>
        </h3>
        <FramesSummary data={data} />
      </section>
    </div>
  );
}
