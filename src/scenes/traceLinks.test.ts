import { lastValueFrom, of } from 'rxjs';
import type { DataLinkClickEvent } from '@grafana/data';
import { goldenFrames } from '../testing/golden';
import {
  openOnRequestsPageLink,
  REQUESTS_PAGE_TRACE_URL,
  showBelowLink,
  TRACE_ID_FIELD,
  traceIdLinkTransformation,
  withTraceIdLink,
} from './traceLinks';

describe('trace id links on the golden search frame', () => {
  const [search] = goldenFrames('search');

  it("keeps the backend's Explore link first and adds the app's", () => {
    const [frame] = withTraceIdLink([search], openOnRequestsPageLink());
    const links = frame.fields.find((f) => f.name === TRACE_ID_FIELD)!.config.links!;
    expect(links).toHaveLength(2);
    expect(links[0]).toMatchObject({
      title: 'Open trace ${__value.raw}',
      internal: { query: { queryType: 'trace', traceId: '${__value.raw}' } },
    });
    expect(links[1]).toEqual({ title: 'Show trace ${__value.raw} on the Requests page', url: REQUESTS_PAGE_TRACE_URL });
    // Other fields are untouched.
    expect(frame.fields.find((f) => f.name === 'traceName')!.config.links).toBeUndefined();
  });

  it('leaves frames without trace ids alone', () => {
    const [metrics] = goldenFrames('metrics');
    expect(withTraceIdLink([metrics], openOnRequestsPageLink())[0]).toBe(metrics);
  });

  it('runs as a scenes transformation', async () => {
    const operator = traceIdLinkTransformation(openOnRequestsPageLink());
    const [frame] = await lastValueFrom(operator({ interpolate: (s: string) => s })(of([search])));
    expect(frame.fields[0].config.links).toHaveLength(2);
  });
});

it('links to the Requests page with the trace, the time range and the data source', () => {
  expect(REQUESTS_PAGE_TRACE_URL).toBe(
    '/a/tusk-php-app/requests?var-traceId=${__value.raw}&${__url_time_range}&var-ds=${ds}'
  );
});

it('shows the trace on the page when clicked, without navigating', () => {
  const setTraceId = jest.fn();
  const preventDefault = jest.fn();
  const link = showBelowLink(setTraceId);
  const event: DataLinkClickEvent = {
    origin: {},
    e: { preventDefault },
    replaceVariables: (s: string) => s.replace('${__value.raw}', 'a3320a9a512b95e22f07940c56746f42'),
  };
  link.onClick!(event);
  expect(setTraceId).toHaveBeenCalledWith('a3320a9a512b95e22f07940c56746f42');
  expect(preventDefault).toHaveBeenCalled();
});
