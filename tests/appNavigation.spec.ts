import { test, expect } from './fixtures';

test.describe('navigating app', () => {
  test('overview page should render successfully', async ({ gotoPage, page }) => {
    await gotoPage('/');
    await expect(page.getByText(/Tusk traces PHP requests/)).toBeVisible();
  });
});
