import React from 'react';
import { css } from '@emotion/css';
import { type GrafanaTheme2, locationUtil } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { Icon, IconButton, useStyles2 } from '@grafana/ui';
import { PHP_INTERNALS } from './groupBy';
import { type FlameNode, type NodeContext, nodeTracesUrl } from './node';

interface Props {
  /** The node last clicked in the flame graph; undefined before any click. */
  node?: FlameNode;
  context: NodeContext;
  onCopy: (file: string) => void;
}

const GROUP_NAMES = { function: 'function', class: 'class', namespace: 'namespace', package: 'package' };

/**
 * One line above the flame graph about the node last clicked: its label, its PHP file (which the library's hover
 * tooltip cannot show) with a copy button, and the traces where it is hot, or why there is no such link.
 */
export function NodeDetails({ node, context, onCopy }: Props) {
  const styles = useStyles2(getStyles);
  const grouped = context.groupBy !== 'function';
  if (!node) {
    return (
      <div className={styles.line} data-testid="php-flame-details">
        <span className={styles.muted}>
          {grouped
            ? `Click a ${GROUP_NAMES[context.groupBy]} for its file. Group by function to find traces.`
            : 'Click a function for its PHP file and the traces where it is hot.'}
        </span>
      </div>
    );
  }
  const url = nodeTracesUrl(node, context);
  let file: React.ReactNode;
  if (node.file) {
    file = (
      <>
        <code className={styles.file} title={node.file}>
          {/* Left-to-right inside the right-to-left box, or the path's leading "/" shows at its end. */}
          <bdi>{node.file}</bdi>
        </code>
        <IconButton name="copy" size="sm" tooltip="Copy the file path" onClick={() => onCopy(node.file)} />
      </>
    );
  } else {
    file = (
      <span className={styles.muted}>
        {node.level === 0
          ? 'all samples'
          : grouped && node.label !== PHP_INTERNALS
            ? 'several files'
            : 'no PHP file: an internal function or a runtime frame'}
      </span>
    );
  }
  let traces: React.ReactNode = null;
  if (url) {
    // A plain link: Grafana's LinkButton and TextLink pass href through sanitizeUrl, which decodes it, so a "&" or
    // "#" in a function, file or endpoint would cut the panes parameter short.
    const onClick = (e: React.MouseEvent) => {
      if (e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey) {
        e.preventDefault();
        locationService.push(url);
      }
    };
    traces = (
      <a className={styles.link} href={locationUtil.assureBaseUrl(url)} onClick={onClick}>
        <Icon name="compass" size="sm" /> Traces where this is hot
      </a>
    );
  } else if (grouped) {
    traces = <span className={styles.muted}>Group by function to find the traces where one function is hot.</span>;
  }
  return (
    <div className={styles.line} data-testid="php-flame-details">
      <strong className={styles.label}>{node.label}</strong>
      {file}
      {traces}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  line: css({
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(1),
    minHeight: theme.spacing(3),
    flex: 'none',
    overflow: 'hidden',
    whiteSpace: 'nowrap',
    fontSize: theme.typography.bodySmall.fontSize,
  }),
  label: css({ overflow: 'hidden', textOverflow: 'ellipsis', flexShrink: 1, minWidth: 0 }),
  file: css({
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    direction: 'rtl', // an overflowing path loses its start, not its file name
    flexShrink: 2,
    minWidth: 0,
  }),
  link: css({
    display: 'inline-flex',
    alignItems: 'center',
    gap: theme.spacing(0.5),
    color: theme.colors.text.link,
    '&:hover': { textDecoration: 'underline' },
  }),
  muted: css({ color: theme.colors.text.secondary, overflow: 'hidden', textOverflow: 'ellipsis' }),
});
