// The dashboards the app provisions (src/dashboards/*.json, listed in src/plugin.json's includes), bundled at build
// time and keyed by uid, as Grafana finds a provisioned dashboard by the uid of its /d/<uid>/<slug> URL.
import type { Dashboard } from '@grafana/schema';

const files = import.meta.webpackContext('../../../../src/dashboards', { recursive: false, regExp: /\.json$/ });

function byUid(): Map<string, Dashboard> {
  const dashboards = new Map<string, Dashboard>();
  // Keys are ./<file>; webpack adds an alias of each (dashboards/<file>) because src/ is a module root.
  for (const key of files.keys().filter((k) => k.startsWith('./'))) {
    const json = files(key) as Dashboard;
    if (!json.uid) {
      throw new Error(`harness: src/dashboards/${key} has no uid`);
    }
    if (dashboards.has(json.uid)) {
      throw new Error(`harness: two dashboards in src/dashboards have the uid ${json.uid}`);
    }
    dashboards.set(json.uid, json);
  }
  return dashboards;
}

export const DASHBOARDS = byUid();
