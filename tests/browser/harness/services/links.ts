// Grafana intercepts clicks on same-origin links anywhere in the page and routes them with
// locationService instead of reloading (public/app/core/navigation/patch/interceptLinkClicks.ts);
// plugin tabs, data links and LinkButtons depend on it.
import { locationUtil } from '@grafana/data';
import { locationService } from '@grafana/runtime';

export function interceptLinkClicks() {
  document.addEventListener('click', (event) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    ) {
      return;
    }
    const anchor = (event.target as Element | null)?.closest?.('a');
    const href = anchor?.getAttribute('href');
    if (!anchor || !href || anchor.target === '_blank' || anchor.hasAttribute('download')) {
      return;
    }
    const url = new URL(href, window.location.href);
    if (url.origin !== window.location.origin) {
      return;
    }
    event.preventDefault();
    locationService.push(locationUtil.stripBaseFromUrl(url.pathname + url.search + url.hash));
  });
}
