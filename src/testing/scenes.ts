// Test helpers to inspect built scenes: their panels and the queries those run.
import {
  SceneDataTransformer,
  type SceneDataProvider,
  sceneGraph,
  type SceneObject,
  SceneQueryRunner,
  VizPanel,
} from '@grafana/scenes';
import type { TuskQuery } from '../datasource/types';

export function panels(scene: SceneObject): VizPanel[] {
  return sceneGraph.findAllObjects(scene, (o) => o instanceof VizPanel) as VizPanel[];
}

export function panelTitled(scene: SceneObject, title: string): VizPanel {
  const panel = panels(scene).find((p) => p.state.title === title);
  if (!panel) {
    throw new Error(
      `no panel titled ${title}; there are ${panels(scene)
        .map((p) => p.state.title)
        .join(', ')}`
    );
  }
  return panel;
}

/** The query runner feeding a panel, through its transformer if it has one. */
export function runnerOf(panel: VizPanel): SceneQueryRunner {
  let data: SceneDataProvider | undefined = panel.state.$data;
  while (data instanceof SceneDataTransformer) {
    data = data.state.$data;
  }
  if (!(data instanceof SceneQueryRunner)) {
    throw new Error(`panel ${panel.state.title} has no query runner`);
  }
  return data;
}

export function queriesOf(panel: VizPanel): TuskQuery[] {
  return runnerOf(panel).state.queries as TuskQuery[];
}

export function transformerOf(panel: VizPanel): SceneDataTransformer {
  const data = panel.state.$data;
  if (!(data instanceof SceneDataTransformer)) {
    throw new Error(`panel ${panel.state.title} has no transformations`);
  }
  return data;
}
