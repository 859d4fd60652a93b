import React, { type ComponentType } from 'react';
import { type SceneComponentProps, sceneGraph, SceneObjectBase, type SceneObjectState } from '@grafana/scenes';
import { type FleetLoad, useFleet } from '../fleet/useFleet';
import { useNow } from '../fleet/useNow';

export interface FleetViewComponentProps {
  load: FleetLoad;
  nowMs: number;
}

export interface FleetSceneState extends SceneObjectState {
  /** What to show of the fleet's status. */
  view: ComponentType<FleetViewComponentProps>;
  /** How often nowMs, for uptimes and countdowns, is renewed. */
  tickMs?: number;
}

/**
 * The agents' status (the app backend's GET fleet) in a scene: fetched when shown and again on every refresh of
 * the scene's time range (the refresh picker), though the status itself is of now.
 */
export class FleetScene extends SceneObjectBase<FleetSceneState> {
  static Component = FleetSceneRenderer;
}

function FleetSceneRenderer({ model }: SceneComponentProps<FleetScene>) {
  const { view: View, tickMs = 1000 } = model.useState();
  const { value: range } = sceneGraph.getTimeRange(model).useState();
  const load = useFleet(range);
  const nowMs = useNow(tickMs);
  return <View load={load} nowMs={nowMs} />;
}
