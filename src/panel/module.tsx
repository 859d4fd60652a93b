import { PanelPlugin } from '@grafana/data';
import { PhpFlamePanel } from './PhpFlamePanel';
import { DEFAULT_OPTIONS, type PhpFlameOptions } from './types';

export const plugin = new PanelPlugin<PhpFlameOptions>(PhpFlamePanel).setPanelOptions((builder) =>
  builder
    .addRadio({
      path: 'groupBy',
      name: 'Group by',
      description:
        'Merge the nodes of one class, namespace or Composer package (vendor/name, else the application directory), ' +
        'each group in its own colour. Finding traces needs Function.',
      defaultValue: DEFAULT_OPTIONS.groupBy,
      settings: {
        options: [
          { value: 'function', label: 'Function' },
          { value: 'class', label: 'Class' },
          { value: 'namespace', label: 'Namespace' },
          { value: 'package', label: 'Composer package' },
        ],
      },
    })
    .addRadio({
      path: 'view',
      name: 'Show',
      description:
        'Flame graph only leaves out what @grafana/flamegraph draws around the graph: the top table, the header ' +
        '(search, view switch, colour scheme) and the click menu, so also the file line and the traces link. ' +
        'Panels narrower than 800px start with the flame graph alone and keep the rest.',
      defaultValue: DEFAULT_OPTIONS.view,
      settings: {
        options: [
          { value: 'both', label: 'Top table and flame graph' },
          { value: 'flameGraph', label: 'Flame graph only' },
        ],
      },
    })
    .addBooleanSwitch({
      path: 'vertical',
      name: 'Flame graph above the table',
      description: 'Stack the flame graph over the top table instead of side by side.',
      defaultValue: DEFAULT_OPTIONS.vertical,
      showIf: (options) => options.view === 'both',
    })
);
