import { test, expect } from './fixtures';

test('should be possible to save app configuration', async ({ appConfigPage, page }) => {
  // A fresh name each run: an agent saved by an earlier run stays configured.
  const agentName = `e2e-${Date.now()}`;

  await page.getByRole('button', { name: /add agent/i }).click();
  await page.getByRole('textbox', { name: 'Name' }).last().fill(agentName);
  await page.getByRole('textbox', { name: 'URL' }).last().fill('http://127.0.0.1:7070');

  const saveResponse = appConfigPage.waitForSettingsResponse();
  await page.getByRole('button', { name: /save settings/i }).click();
  await expect(saveResponse).toBeOK();
});
