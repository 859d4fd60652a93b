import React from 'react';
import {
  type SceneComponentProps,
  sceneGraph,
  SceneObjectBase,
  type SceneObjectState,
  SceneObjectUrlSyncConfig,
  type SceneObjectUrlValues,
} from '@grafana/scenes';
import { ComparisonPicker } from './ComparisonPicker';
import { baselineRange, COMPARE_MODES, type CompareMode, msRange, type MsRange, readMs } from './comparison';

export interface FlameComparisonState extends SceneObjectState {
  mode: CompareMode;
  /** The custom baseline, epoch ms. */
  customFrom?: number;
  customTo?: number;
}

export const COMPARE_URL_KEYS = { mode: 'compare', from: 'compareFrom', to: 'compareTo' } as const;

/** The Profiles page's "Compare with" choice, kept in the URL. */
export class FlameComparison extends SceneObjectBase<FlameComparisonState> {
  protected _urlSync = new SceneObjectUrlSyncConfig(this, { keys: Object.values(COMPARE_URL_KEYS) });

  constructor(state: Partial<FlameComparisonState> = {}) {
    super({ mode: 'none', ...state });
  }

  get custom(): MsRange | undefined {
    const { customFrom, customTo } = this.state;
    return customFrom !== undefined && customTo !== undefined ? { from: customFrom, to: customTo } : undefined;
  }

  /** The baseline for the scene's current time range, or undefined without comparison. */
  baseline(): MsRange | undefined {
    return baselineRange(this.state.mode, msRange(sceneGraph.getTimeRange(this).state.value), this.custom);
  }

  getUrlState(): SceneObjectUrlValues {
    const { mode, customFrom, customTo } = this.state;
    const custom = mode === 'custom';
    return {
      [COMPARE_URL_KEYS.mode]: mode === 'none' ? null : mode,
      [COMPARE_URL_KEYS.from]: custom && customFrom !== undefined ? String(customFrom) : null,
      [COMPARE_URL_KEYS.to]: custom && customTo !== undefined ? String(customTo) : null,
    };
  }

  updateFromUrl(values: SceneObjectUrlValues): void {
    const mode = values[COMPARE_URL_KEYS.mode];
    const update: Partial<FlameComparisonState> = {};
    if (typeof mode === 'string' && (COMPARE_MODES as string[]).includes(mode) && mode !== this.state.mode) {
      update.mode = mode as CompareMode;
    }
    const from = readMs(values[COMPARE_URL_KEYS.from] as string | undefined);
    const to = readMs(values[COMPARE_URL_KEYS.to] as string | undefined);
    if (from !== undefined && to !== undefined && (from !== this.state.customFrom || to !== this.state.customTo)) {
      update.customFrom = from;
      update.customTo = to;
    }
    if (Object.keys(update).length > 0) {
      this.setState(update);
    }
  }

  onModeChange = (mode: CompareMode) => this.setState({ mode });

  onCustomChange = (range: MsRange) => this.setState({ customFrom: range.from, customTo: range.to });

  static Component = FlameComparisonRenderer;
}

function FlameComparisonRenderer({ model }: SceneComponentProps<FlameComparison>) {
  const { mode } = model.useState();
  const timeRange = sceneGraph.getTimeRange(model);
  const { value } = timeRange.useState();
  return (
    <ComparisonPicker
      mode={mode}
      compared={msRange(value)}
      baseline={model.baseline()}
      custom={model.custom}
      timeZone={timeRange.getTimeZone()}
      onModeChange={model.onModeChange}
      onCustomChange={model.onCustomChange}
    />
  );
}
