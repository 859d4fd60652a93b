// /harness/dashboard?uid=<uid>[&from&to][&var-<name>=…] and Grafana's /d/<uid>/<slug>: a provisioned dashboard of
// src/dashboards, read into a scene by dashboard/reader.ts. Time range, variables and refresh are synced with the
// URL as on Grafana's dashboard page, so data links such as the slowest-requests table's
// /d/tusk-php-overview/php-overview?…&var-traceId=<id> change the open dashboard's variables in place.
import React, { useEffect, useMemo } from 'react';
import { useParams, useSearchParams } from 'react-router-dom';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { UrlSyncContextProvider } from '@grafana/scenes';
import { Alert, useStyles2 } from '@grafana/ui';
import { DASHBOARDS } from '../dashboard/dashboards';
import { buildDashboardScene } from '../dashboard/reader';

function build(uid: string) {
  const dashboard = DASHBOARDS.get(uid);
  if (!dashboard) {
    return { error: `no dashboard with uid "${uid}" in src/dashboards (known: ${[...DASHBOARDS.keys()].join(', ')})` };
  }
  try {
    return { title: dashboard.title ?? uid, scene: buildDashboardScene(dashboard) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

export function DashboardRoute() {
  const styles = useStyles2(getStyles);
  const params = useParams();
  const [search] = useSearchParams();
  const uid = params.uid ?? search.get('uid') ?? '';
  // One scene per dashboard: following a link to the same dashboard keeps it and applies the link's URL state.
  const built = useMemo(() => build(uid), [uid]);

  useEffect(() => {
    if (built.error) {
      // A dashboard the harness cannot show is a failed page, as a scenario must notice.
      console.error(`harness: ${built.error}`);
    }
  }, [built.error]);

  if (built.error || !built.scene) {
    return (
      <Alert title="Dashboard not available" data-testid="harness-dashboard-error">
        {built.error}
      </Alert>
    );
  }
  const { scene, title } = built;
  return (
    <div className={styles.page} data-testid="harness-dashboard" data-uid={uid}>
      <h1 className={styles.title}>{title}</h1>
      <UrlSyncContextProvider scene={scene} updateUrlOnInit createBrowserHistorySteps>
        <scene.Component model={scene} />
      </UrlSyncContextProvider>
      <div className={styles.caption}>
        harness reader of the dashboard JSON, in place of Grafana&apos;s dashboard page
      </div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ padding: theme.spacing(2, 3), display: 'flex', flexDirection: 'column', gap: theme.spacing(1) }),
  title: css({ margin: 0, fontSize: theme.typography.h2.fontSize }),
  caption: css({
    color: theme.colors.text.disabled,
    fontSize: theme.typography.bodySmall.fontSize,
    fontStyle: 'italic',
  }),
});
