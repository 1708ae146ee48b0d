import { test, expect } from '@playwright/test';

test('/redoc renders the OpenAPI document with Redoc, served by the hub alone (offline)', async ({ page, baseURL }) => {
  // Anything not served by the hub is refused, as on a machine without internet access.
  const elsewhere: { url: string; type: string }[] = [];
  await page.route((url) => url.protocol.startsWith('http') && !url.href.startsWith(baseURL!), (route) => {
    elsewhere.push({ url: route.request().url(), type: route.request().resourceType() });
    return route.abort();
  });
  await page.goto('/redoc');
  // Redoc's own markup, filled from /api-docs/openapi.json.
  await expect(page.locator('h1').first()).toContainText('Integrations Hub');
  await expect(page.getByRole('heading', { name: /Replace an endpoint/ }).first()).toBeAttached();
  await expect(page.locator('[data-section-id^="tag/Webhooks"]').first()).toBeAttached();
  // Its code, styles and the document all came from the hub; the one thing Redoc reaches for
  // elsewhere is its own logo image in the footer, which simply does not show offline.
  expect(elsewhere.filter((r) => r.type !== 'image')).toEqual([]);
});
