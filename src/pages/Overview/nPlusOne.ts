// The N+1 panel's transformation: the search rows with N+1 statements and the columns that matter for them. Fields
// are matched by name, not by the display names the backend gives them ("N+1"), so a new display name breaks nothing.
import type { DataFrame } from '@grafana/data';
import type { CustomTransformOperator } from '@grafana/scenes';
import { map } from 'rxjs/operators';

export const N_PLUS_ONE_COLUMNS = [
  'startTime',
  'traceName',
  'service',
  'nPlusOne',
  'traceDuration',
  'status',
  'traceID',
];

/** Rows of search frames whose nPlusOne is above 0, the first `limit` of them, with N_PLUS_ONE_COLUMNS. */
export function nPlusOneRows(frames: DataFrame[], limit: number): DataFrame[] {
  return frames.map((frame) => {
    const counts = frame.fields.find((field) => field.name === 'nPlusOne');
    if (!counts) {
      return frame;
    }
    const rows: number[] = [];
    for (let i = 0; i < frame.length && rows.length < limit; i++) {
      if (Number(counts.values[i]) > 0) {
        rows.push(i);
      }
    }
    const fields = N_PLUS_ONE_COLUMNS.flatMap((name) => frame.fields.filter((field) => field.name === name)).map(
      (field) => ({ ...field, values: rows.map((i) => field.values[i]) })
    );
    return { ...frame, fields, length: rows.length };
  });
}

export function nPlusOneTransformation(limit: number): CustomTransformOperator {
  return () => (source) => source.pipe(map((frames) => nPlusOneRows(frames, limit)));
}
