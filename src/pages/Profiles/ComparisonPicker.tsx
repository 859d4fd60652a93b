import React from 'react';
import { dateTime, makeTimeRange, type TimeRange } from '@grafana/data';
import { Combobox, InlineField, InlineFieldRow, Stack, Text, TimeRangeInput } from '@grafana/ui';
import { COMPARE_OPTIONS, type CompareMode, formatRange, type MsRange } from './comparison';

export interface ComparisonPickerProps {
  mode: CompareMode;
  /** The range compared: the page's time range. */
  compared: MsRange;
  /** The baseline the mode gives; undefined without comparison or before a custom range is picked. */
  baseline?: MsRange;
  /** The picked custom range, if any. */
  custom?: MsRange;
  timeZone?: string;
  onModeChange: (mode: CompareMode) => void;
  onCustomChange: (range: MsRange) => void;
}

/** "Compare with": the baseline of a diff flame graph, and which side of the diff is which. */
export function ComparisonPicker(props: ComparisonPickerProps) {
  const { mode, compared, baseline, custom, timeZone, onModeChange, onCustomChange } = props;
  return (
    <Stack direction="column" gap={1}>
      <InlineFieldRow>
        <InlineField
          label="Compare with"
          tooltip="Turns the flame graph into a diff: the page's time range (the comparison) against a baseline range"
        >
          <Combobox
            width={26}
            options={COMPARE_OPTIONS}
            value={mode}
            onChange={(option) => onModeChange(option.value)}
          />
        </InlineField>
        {mode === 'custom' && (
          <InlineField label="Baseline range">
            <TimeRangeInput
              value={toTimeRange(custom ?? previousPeriod(compared))}
              timeZone={timeZone}
              hideTimeZone
              hideQuickRanges
              onChange={(range) => onCustomChange({ from: range.from.valueOf(), to: range.to.valueOf() })}
            />
          </InlineField>
        )}
      </InlineFieldRow>
      {mode === 'custom' && !baseline && (
        <Text color="secondary">Pick the baseline range to compare the page&apos;s time range with.</Text>
      )}
      {baseline && <ComparisonLegend baseline={baseline} compared={compared} timeZone={timeZone} />}
    </Stack>
  );
}

export function ComparisonLegend({
  baseline,
  compared,
  timeZone,
}: {
  baseline: MsRange;
  compared: MsRange;
  timeZone?: string;
}) {
  return (
    <Text color="secondary" variant="bodySmall">
      <strong>Baseline</strong>: {formatRange(baseline, timeZone)}. <strong>Comparison</strong>:{' '}
      {formatRange(compared, timeZone)} (the page&apos;s time range). Red: the function takes a larger share of CPU time
      in the comparison than in the baseline; green: a smaller one. The top table shows each side&apos;s share.
    </Text>
  );
}

function previousPeriod(range: MsRange): MsRange {
  return { from: range.from - (range.to - range.from), to: range.from };
}

function toTimeRange(range: MsRange): TimeRange {
  return makeTimeRange(dateTime(range.from), dateTime(range.to));
}
