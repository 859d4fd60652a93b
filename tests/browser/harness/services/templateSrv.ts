// Grafana's TemplateSrv hands interpolation to scenes when a query or link carries the scene object
// that runs it (scopedVars.__sceneObject); that is the case for everything the app pages run. Without one it
// interpolates in the open dashboard's scene (window.__grafanaSceneContext, which DashboardScene sets while
// active; the harness's dashboard route does the same). Outside a scene (the harness's editor and panel routes)
// there are no variables, but scoped variables such as ${__value.raw} in data links still interpolate, through
// an empty scene.
import type { ScopedVars, TypedVariableModel } from '@grafana/data';
import type { TemplateSrv, VariableInterpolation } from '@grafana/runtime';
import { EmbeddedScene, type SceneObject, SceneReactObject, sceneGraph } from '@grafana/scenes';

const TEMPLATE = /\$(\w+)|\$\{([^}]+)\}|\[\[([\s\S]+?)\]\]/;

let emptyScene: SceneObject | undefined;

declare global {
  interface Window {
    /** The open dashboard's scene, as Grafana's DashboardScene sets it while active. */
    __grafanaSceneContext?: SceneObject;
  }
}

export class HarnessTemplateSrv implements TemplateSrv {
  getVariables(): TypedVariableModel[] {
    return [];
  }

  replace(
    target?: string,
    scopedVars?: ScopedVars,
    format?: string | Function,
    interpolations?: VariableInterpolation[]
  ): string {
    if (!target) {
      return target ?? '';
    }
    // Scenes wraps the object (SafeSerializableSceneObject, or {value} for older Grafana versions):
    // valueOf() unwraps both.
    const fromScene = scopedVars?.__sceneObject?.value?.valueOf() as SceneObject | undefined;
    const dashboard = window.__grafanaSceneContext?.isActive ? window.__grafanaSceneContext : undefined;
    const scene = fromScene ?? dashboard ?? (emptyScene ??= new EmbeddedScene({ body: new SceneReactObject({}) }));
    return sceneGraph.interpolate(
      scene,
      target,
      scopedVars,
      format as Parameters<typeof sceneGraph.interpolate>[3],
      interpolations
    );
  }

  containsTemplate(target?: string): boolean {
    return Boolean(target && TEMPLATE.test(target));
  }

  updateTimeRange(): void {}
}
