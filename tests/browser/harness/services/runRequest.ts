// Grafana's runRequest (public/app/features/query/state/runRequest.ts), the function scenes'
// SceneQueryRunner gets from getRunRequest(): run ds.query(request) and turn its packets into
// PanelData, Loading until the first packet (shown after 200 ms, as Grafana does), then Done or Error.
import { type Observable, from, merge, of, timer } from 'rxjs';
import { catchError, map, takeUntil, share } from 'rxjs/operators';
import {
  type DataQueryError,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceApi,
  type DataFrame,
  LoadingState,
  type PanelData,
  getProcessedDataFrames,
  preProcessPanelData,
} from '@grafana/data';
import { toDataQueryError } from '@grafana/runtime';

export function runRequest(
  datasource: DataSourceApi,
  request: DataQueryRequest,
  queryFunction?: typeof datasource.query
): Observable<PanelData> {
  let state: PanelData = { state: LoadingState.Loading, series: [], request, timeRange: request.range };
  // As Grafana's callQueryMethod: the data source's filterQuery drops queries it would not run (before template
  // variables are replaced, which happens in ds.query), unless the caller brings its own query function.
  if (!queryFunction) {
    request.targets = request.targets.filter((t) => datasource.filterQuery?.(t) ?? true);
  }
  if (!request.targets.length) {
    request.endTime = Date.now();
    return of({ ...state, state: LoadingState.Done });
  }

  const packets = new Map<string, DataFrame[]>();
  let previous: PanelData | undefined;

  const data$ = from(queryFunction ? queryFunction(request) : datasource.query(request)).pipe(
    map((packet: DataQueryResponse) => {
      request.endTime = Date.now();
      packets.set(packet.key ?? 'A', getProcessedDataFrames(packet.data));
      const errors: DataQueryError[] = packet.errors ?? (packet.error ? [packet.error] : []);
      const loading = packet.state ?? (errors.length ? LoadingState.Error : LoadingState.Done);
      state = {
        ...state,
        state: loading,
        series: Array.from(packets.values()).flat(),
        errors: errors.length ? errors : undefined,
        error: errors[0],
      };
      previous = preProcessPanelData(state, previous);
      return previous;
    }),
    catchError((err: unknown) => {
      const error = toDataQueryError(err);
      state = { ...state, state: LoadingState.Error, error, errors: [error] };
      return of(state);
    }),
    share()
  );

  return merge(
    timer(200).pipe(
      map(() => state),
      takeUntil(data$)
    ),
    data$
  );
}
