// Test helpers: the golden data frames and agent answers recorded from the real backend (pkg/plugin/testdata),
// and Grafana's standard transformations, which tests run the pages' panel transformations with.
import { readFileSync } from 'fs';
import { resolve } from 'path';
import {
  type DataFrame,
  dataFrameFromJSON,
  type DataFrameJSON,
  type DataTransformerConfig,
  standardTransformers,
  standardTransformersRegistry,
  transformDataFrame,
  type TransformerRegistryItem,
} from '@grafana/data';
import { lastValueFrom } from 'rxjs';
import type { AgentStatus, FleetResponse } from '../fleet/types';

const TESTDATA = resolve(__dirname, '../../pkg/plugin/testdata');

export type GoldenFrameName = 'search' | 'metrics' | 'flamegraph' | 'trace-sql' | 'trace-error' | 'trace-exception';

/** A golden frames file (pkg/plugin/testdata/frames/<name>.jsonc) as data frames. */
export function goldenFrames(name: GoldenFrameName): DataFrame[] {
  const text = readFileSync(resolve(TESTDATA, 'frames', `${name}.jsonc`), 'utf8');
  const json = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n');
  const { frames } = JSON.parse(json) as { frames: DataFrameJSON[] };
  return frames.map((frame) => dataFrameFromJSON(frame));
}

/** The status a real agent answered (pkg/plugin/testdata/agent/status.json). */
export function goldenStatus(): AgentStatus {
  return JSON.parse(readFileSync(resolve(TESTDATA, 'agent', 'status.json'), 'utf8')) as AgentStatus;
}

/** GET fleet with one agent that answered with the golden status, plus `extra` agents. */
export function goldenFleet(extra: FleetResponse['agents'] = []): FleetResponse {
  return {
    agents: [{ name: 'web-1', url: 'http://web-1:7070', ok: true, latencyMs: 3.2, status: goldenStatus() }, ...extra],
  };
}

let registered = false;

/** Runs Grafana transformations over frames, as a panel would. */
export async function transform(frames: DataFrame[], transformations: DataTransformerConfig[]): Promise<DataFrame[]> {
  if (!registered) {
    // standardTransformers lists some transformations under two names: register each id once. Grafana fills this
    // registry itself; tests have only the deprecated export to fill it with.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const byId = new Map(Object.values(standardTransformers).map((t) => [t.id, t]));
    standardTransformersRegistry.setInit(() =>
      [...byId.values()].map(
        (t) =>
          ({
            id: t.id,
            name: t.name,
            description: t.description ?? '',
            transformation: () => Promise.resolve(t),
          }) as unknown as TransformerRegistryItem
      )
    );
    registered = true;
  }
  return lastValueFrom(transformDataFrame(transformations, frames));
}
