import { readFileSync } from 'fs';
import path from 'path';
import { type DataFrame, type DataFrameJSON, dataFrameFromJSON } from '@grafana/data';

/** The Go goldens of the backend's query types: `//` header lines (a readable table), then {status, frames}. */
const GOLDENS = path.resolve(__dirname, '../../../pkg/plugin/testdata/frames');

/** The first frame the plugin backend returned for a real query (tests only: reads the repository). */
export function recordedFrame(name: 'flamegraph' | 'search' | 'metrics'): DataFrame {
  const text = readFileSync(path.join(GOLDENS, `${name}.jsonc`), 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n');
  const golden: { frames: DataFrameJSON[] } = JSON.parse(text);
  return dataFrameFromJSON(golden.frames[0]);
}

/** The flame graph of a real profile: total → {main} → burn, in /srv/tusk/tests/fixtures/app/burn.php. */
export const recordedFlameFrame = () => recordedFrame('flamegraph');
