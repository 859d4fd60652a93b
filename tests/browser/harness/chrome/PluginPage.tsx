// Grafana renders an app page's title, subtitle, actions and tabs in its own page chrome (not on npm);
// @grafana/runtime's default PluginPage drops them all. This stand-in renders them plainly so the
// page reads as a person would see it: title from pageNav (or the plugin name), tabs from
// pageNav.children as links (the link interceptor routes them).
import React from 'react';
import { css, cx } from '@emotion/css';
import type { GrafanaTheme2, NavModelItem } from '@grafana/data';
import type { PluginPageProps } from '@grafana/runtime';
import { Tab, TabsBar, useStyles2 } from '@grafana/ui';

export function createPluginPage(defaultTitle: () => string) {
  return function HarnessPluginPage({ pageNav, renderTitle, subTitle, actions, info, children }: PluginPageProps) {
    const styles = useStyles2(getStyles);
    const title = pageNav?.text || defaultTitle();
    const tabs = pageNav?.children ?? [];
    return (
      <div className={styles.page} data-testid="plugin-page">
        <div className={styles.header}>
          <div className={styles.titleRow}>
            {crumbs(pageNav).length > 0 && (
              <div className={styles.crumbs} data-testid="plugin-page-breadcrumbs">
                {crumbs(pageNav)
                  .map((c) => c.text)
                  .join(' › ')}
              </div>
            )}
            {renderTitle ? renderTitle(title) : <h1 className={styles.title}>{title}</h1>}
            {subTitle && <div className={styles.subTitle}>{subTitle}</div>}
            {info && info.length > 0 && (
              <div className={styles.info}>
                {info.map((i) => (
                  <span key={i.label}>
                    {i.label}: {i.value}
                  </span>
                ))}
              </div>
            )}
          </div>
          {actions && <div className={styles.actions}>{actions}</div>}
        </div>
        {tabs.length > 0 && (
          <TabsBar className={styles.tabs}>
            {tabs.map((tab) => (
              <Tab key={tab.url ?? tab.text} label={tab.text} active={tab.active} href={tab.url} icon={tab.icon} />
            ))}
          </TabsBar>
        )}
        <div className={cx(styles.body)}>{children}</div>
        <div className={styles.caption}>harness stand-in for Grafana&apos;s page chrome</div>
      </div>
    );
  };
}

function crumbs(nav?: NavModelItem): NavModelItem[] {
  const out: NavModelItem[] = [];
  for (let p = nav?.parentItem; p; p = p.parentItem) {
    if (!p.hideFromBreadcrumbs) {
      out.unshift(p);
    }
  }
  return out;
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ padding: theme.spacing(2, 3), display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  header: css({ display: 'flex', justifyContent: 'space-between', alignItems: 'flex-start', gap: theme.spacing(2) }),
  titleRow: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(0.5) }),
  crumbs: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  title: css({ margin: 0, fontSize: theme.typography.h2.fontSize }),
  subTitle: css({ color: theme.colors.text.secondary }),
  info: css({ display: 'flex', gap: theme.spacing(2), color: theme.colors.text.secondary }),
  actions: css({ display: 'flex', gap: theme.spacing(1), alignItems: 'center', flexWrap: 'wrap' }),
  tabs: css({ marginBottom: 0 }),
  body: css({ flexGrow: 1, minHeight: 0 }),
  caption: css({
    color: theme.colors.text.disabled,
    fontSize: theme.typography.bodySmall.fontSize,
    fontStyle: 'italic',
  }),
});
