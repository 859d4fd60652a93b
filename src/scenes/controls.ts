import {
  type SceneObject,
  SceneControlsSpacer,
  SceneRefreshPicker,
  SceneTimePicker,
  VariableValueControl,
} from '@grafana/scenes';

/**
 * A page's controls row: the selects of the named variables (wherever in the scene they are defined: shared ones
 * live on the app's page), then the time picker and refresh.
 */
export function pageControls(variableNames: string[], options: { timePicker?: boolean } = {}): SceneObject[] {
  const { timePicker = true } = options;
  return [
    ...variableNames.map((variableName) => new VariableValueControl({ variableName })),
    new SceneControlsSpacer(),
    ...(timePicker ? [new SceneTimePicker({ isOnCanvas: true })] : []),
    new SceneRefreshPicker({ isOnCanvas: true, intervals: ['10s', '30s', '1m', '5m', '15m'] }),
  ];
}
