import { SceneControlsSpacer, SceneRefreshPicker, SceneTimePicker, VariableValueControl } from '@grafana/scenes';
import { pageControls } from './controls';

it('shows the named variables, then the time picker and refresh', () => {
  const controls = pageControls(['ds', 'service']);
  expect(controls.map((c) => c.constructor)).toEqual([
    VariableValueControl,
    VariableValueControl,
    SceneControlsSpacer,
    SceneTimePicker,
    SceneRefreshPicker,
  ]);
  expect((controls[1] as VariableValueControl).state.variableName).toBe('service');
});

it('can leave the time picker out', () => {
  expect(pageControls([], { timePicker: false }).map((c) => c.constructor)).toEqual([
    SceneControlsSpacer,
    SceneRefreshPicker,
  ]);
});
