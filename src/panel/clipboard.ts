/**
 * Copies text to the clipboard: the Clipboard API where the page may use it (HTTPS, localhost), else the older
 * execCommand('copy') on a hidden text area, which also works on Grafana served over plain HTTP. Resolves to whether
 * the text was copied; never throws.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied: try the old way.
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  try {
    area.select();
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the only way to copy on a plain-HTTP page
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
  }
}
