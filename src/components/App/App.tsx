import React from 'react';
import type { AppRootProps } from '@grafana/data';
import { useSceneApp } from '@grafana/scenes';
import { buildTuskApp } from '../../scenes/app';

/** The app's root page: the scenes app with its Overview, Requests, Profiles and Probes tabs. */
function App(_props: AppRootProps) {
  const app = useSceneApp(buildTuskApp);
  return <app.Component model={app} />;
}

export default App;
