import React from 'react';
import { TextLink } from '@grafana/ui';
import type { HarnessBoot } from '../bootData';
import { DASHBOARDS } from '../dashboard/dashboards';

/** Any other path: what this harness serves. */
export function HomeRoute({ boot }: { boot: HarnessBoot }) {
  const links = [
    ['/a/tusk-php-app', 'App root page'],
    ['/plugins/tusk-php-app', 'App configuration page'],
    ['/harness/query-editor', 'Data source query editor'],
    ['/harness/panel', 'Flame graph panel'],
    ...[...DASHBOARDS.values()].map((d) => [`/harness/dashboard?uid=${d.uid}`, `Dashboard: ${d.title}`]),
  ];
  return (
    <div style={{ padding: 24 }} data-testid="harness-home">
      <h1>Tusk browser harness</h1>
      <p>
        The plugin&apos;s front end on stand-in Grafana services. Data sources:{' '}
        {boot.datasources.map((ds) => `${ds.name} (${ds.uid})`).join(', ') || 'none'}.
      </p>
      <ul>
        {links.map(([href, text]) => (
          <li key={href}>
            <TextLink href={href} inline={false}>
              {text}
            </TextLink>
          </li>
        ))}
      </ul>
    </div>
  );
}
