// Links on the traceID column of search results. The backend's own link (an internal link to a trace query, which
// Grafana opens in Explore) stays; these add ways to open the trace in the app.
import type { DataFrame, DataLink } from '@grafana/data';
import type { CustomTransformOperator } from '@grafana/scenes';
import { map } from 'rxjs/operators';
import { prefixRoute, ROUTES, VAR_DATASOURCE, VAR_TRACE_ID } from '../constants';

export const TRACE_ID_FIELD = 'traceID';

/** The Requests page showing one trace, with the current time range and data source. */
export const REQUESTS_PAGE_TRACE_URL =
  `${prefixRoute(ROUTES.Requests)}?var-${VAR_TRACE_ID}=\${__value.raw}` +
  `&\${__url_time_range}&var-${VAR_DATASOURCE}=\${${VAR_DATASOURCE}}`;

/** Frames with `link` added to the links of their traceID field, after the ones they had. */
export function withTraceIdLink(frames: DataFrame[], link: DataLink): DataFrame[] {
  return frames.map((frame) => {
    if (!frame.fields.some((field) => field.name === TRACE_ID_FIELD)) {
      return frame;
    }
    return {
      ...frame,
      fields: frame.fields.map((field) =>
        field.name === TRACE_ID_FIELD
          ? { ...field, config: { ...field.config, links: [...(field.config.links ?? []), link] } }
          : field
      ),
    };
  });
}

/** A scenes transformation adding `link` to the traceID field. */
export function traceIdLinkTransformation(link: DataLink): CustomTransformOperator {
  return () => (source) => source.pipe(map((frames) => withTraceIdLink(frames, link)));
}

/** Opens the trace on the Requests page. */
export function openOnRequestsPageLink(): DataLink {
  return { title: 'Show trace ${__value.raw} on the Requests page', url: REQUESTS_PAGE_TRACE_URL };
}

/**
 * Shows the trace in the page's own trace panel: the click sets the traceId variable, without leaving the page.
 * The URL is the same page with the trace, for a new tab.
 */
export function showBelowLink(setTraceId: (traceId: string) => void): DataLink {
  return {
    title: 'Show trace ${__value.raw} below',
    url: REQUESTS_PAGE_TRACE_URL,
    onClick: (event) => {
      const id = event.replaceVariables?.('${__value.raw}');
      if (id) {
        (event.e as Event | undefined)?.preventDefault?.();
        setTraceId(id);
      }
    },
  };
}
