import { test, expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import { auth, clearOfAMinuteBoundary, createTenant, operatorToken, signIn, open } from './helpers';

test('an admin creates, copies, rotates and revokes an API key', async ({ page, context, request }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const tenant = await createTenant(request, 'Keys e2e');
  await signIn(page);
  await open(page, `/tenants/${tenant}/api-keys`);

  // Validation errors appear next to their field.
  await page.getByRole('button', { name: 'Create key' }).click();
  const form = page.getByRole('form', { name: 'Create API key' });
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.locator('.field-error').first()).toContainText('must be 1 to 100 characters');

  // Create: the key is shown once, with a warning, and the copy button puts it on the clipboard.
  await page.getByLabel('Name').fill('billing-service');
  await page.getByLabel('Role').selectOption('admin');
  await form.getByRole('button', { name: 'Create' }).click();
  const shown = page.getByTestId('new-key');
  await expect(shown).toContainText('will not be shown again');
  const key = await page.getByTestId('new-key-value').inputValue();
  expect(key).toMatch(/^sk_[0-9A-Za-z]{49}$/);
  await shown.getByRole('button', { name: 'Copy' }).click();
  await expect(shown.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  const works = async (k: string) =>
    (await request.get(`/api/v1/tenants/${tenant}/webhooks`, { headers: { Authorization: `Bearer ${k}` } })).status();
  expect(await works(key)).toBe(200);
  await shown.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByTestId('new-key')).toHaveCount(0);

  const row = page.locator('tr[data-name="billing-service"]').first();
  await expect(row.getByTestId('key-status')).toHaveText('active');

  // Rotate with no grace period: a new key is shown, the old one stops working.
  await row.getByRole('button', { name: 'Rotate' }).click();
  await row.getByRole('spinbutton').fill('0');
  await row.getByLabel('New key expires').fill('2030-01-02T03:04');
  await row.getByRole('button', { name: 'Rotate now' }).click();
  const rotated = await page.getByTestId('new-key-value').inputValue();
  expect(rotated).not.toBe(key);
  const keys = await (await request.get(`/api/v1/tenants/${tenant}/api-keys`, { headers: auth })).json();
  const fresh = keys.data.find((k: { status: string; name: string }) => k.status === 'active' && k.name === 'billing-service');
  expect(fresh.expires_at).toBe('2030-01-02T03:04:00.000Z');
  expect(await works(key)).toBe(401);
  expect(await works(rotated)).toBe(200);
  await page.getByTestId('new-key').getByRole('button', { name: 'Done' }).click();

  // Revoke the new key, after confirming.
  const active = page.locator('tr[data-name="billing-service"]').filter({ has: page.locator('.key-active') });
  await active.getByRole('button', { name: 'Revoke' }).click();
  await active.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(page.locator('tr[data-name="billing-service"] .key-active')).toHaveCount(0);
  expect(await works(rotated)).toBe(401);

  // Narrowed to a status: no active key is left; all shows both again.
  await page.getByLabel('Status').selectOption('active');
  await expect(page.getByTestId('keys-none')).toHaveText('No active key.');
  await page.getByLabel('Status').selectOption('');
  await expect(page.locator('tr[data-name="billing-service"]')).toHaveCount(2);
});

test('a key in its grace period after a rotation offers no second rotation', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Keys grace e2e');
  const created = await request.post(`/api/v1/tenants/${tenant}/api-keys`, { headers: auth, data: { name: 'grace', role: 'read_only' } });
  const old = await created.json();
  const rotated = await request.post(`/api/v1/tenants/${tenant}/api-keys/${old.id}/rotate`, {
    headers: auth,
    data: { grace_period_seconds: 3600 },
  });
  const successor = await rotated.json();
  await signIn(page);
  await open(page, `/tenants/${tenant}/api-keys`);
  // Still active for its grace period, so it can be revoked; its successor is the one to rotate.
  const row = page.locator(`tr[data-id="${old.id}"]`);
  await expect(row.getByTestId('key-status')).toHaveText('active');
  await expect(row.getByRole('button', { name: 'Rotate' })).toBeDisabled();
  await expect(row.getByRole('button', { name: 'Revoke' })).toBeEnabled();
  await expect(page.locator(`tr[data-id="${successor.id}"]`).getByRole('button', { name: 'Rotate' })).toBeEnabled();
  await row.getByRole('button', { name: 'grace' }).click();
  await expect(page.getByTestId('key-detail')).toContainText(`Rotated to ${successor.id}`);
});

test('a tenant admin key signs in and sees only its own tenant', async ({ page, request }) => {
  const mine = await createTenant(request, 'Mine');
  await createTenant(request, 'Not mine');
  const created = await request.post(`/api/v1/tenants/${mine}/api-keys`, { headers: auth, data: { name: 'ui', role: 'admin' } });
  const { key } = await created.json();
  await signIn(page, key);
  await page.goto('/');
  await expect(page.locator('.cards')).toContainText('Mine');
  await expect(page.locator('.cards')).not.toContainText('Not mine');
  // With no tenant to switch to, the top bar names the tenant whose pages these are.
  await open(page, `/tenants/${mine}/api-keys`);
  await expect(page.getByTestId('tenant-name')).toHaveText('Mine');
  await expect(page.getByTestId('tenant-switcher')).toHaveCount(0);
  // A read-only key may not sign in.
  const ro = await (await request.post(`/api/v1/tenants/${mine}/api-keys`, { headers: auth, data: { name: 'ro', role: 'read_only' } })).json();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.goto('/login');
  await page.getByLabel('Token or API key').fill(ro.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('admin key');
});

test('the operator switches tenants and stays on the same page', async ({ page, request }) => {
  const first = await createTenant(request, 'Switch A');
  const second = await createTenant(request, 'Switch B');
  await request.post(`/api/v1/tenants/${second}/api-keys`, { headers: auth, data: { name: 'only-in-b', role: 'read_only' } });
  await signIn(page);
  await open(page, `/tenants/${first}/api-keys`);
  await expect(page.getByRole('heading', { name: 'API keys' })).toBeVisible();
  await page.getByTestId('tenant-switcher').selectOption(second);
  await expect(page).toHaveURL(new RegExp(`/tenants/${second}/api-keys$`));
  await expect(page.locator('tr[data-name="only-in-b"]')).toBeVisible();
});

test('a refusal that names no field of the create form shows in the form', async ({ page, context, request }) => {
  const tenant = await createTenant(request, 'Keys refusal e2e');
  await signIn(page);
  await open(page, `/tenants/${tenant}/api-keys`);
  await page.getByRole('button', { name: 'Create key' }).click();
  const form = page.getByRole('form', { name: 'Create API key' });
  await page.getByLabel('Name').fill('billing-service');
  // The session ends while the form is open: the 401 names no field, and is not lost.
  await context.clearCookies();
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.getByRole('alert')).toContainText('sign in first');
  const keys = await (await request.get(`/api/v1/tenants/${tenant}/api-keys`, { headers: auth })).json();
  expect(keys.data).toHaveLength(0);
});

test("a key's name opens its settings, its requests by outcome and its audit entries", async ({ page, request }) => {
  const tenant = await createTenant(request, 'Key usage e2e');
  const made = await request.post(`/api/v1/tenants/${tenant}/api-keys`, {
    headers: auth,
    data: { name: 'partner', role: 'read_only', rate_limit_per_minute: 2, expires_at: '2030-01-02T03:04:00Z', allowed_ips: ['127.0.0.1/32', '::1/128'] },
  });
  expect(made.status()).toBe(201);
  const key = await made.json();
  const as = { Authorization: `Bearer ${key.key}` };
  const list = `/api/v1/tenants/${tenant}/webhooks`;
  // One of each outcome: served, forbidden (read-only), over the limit of 2, and revoked.
  await clearOfAMinuteBoundary();
  expect((await request.get(list, { headers: as })).status()).toBe(200);
  expect((await request.post(list, { headers: as, data: { url: 'https://example.com/h', events: ['*'] } })).status()).toBe(403);
  expect((await request.get(list, { headers: as })).status()).toBe(429);
  expect((await request.post(`/api/v1/tenants/${tenant}/api-keys/${key.id}/revoke`, { headers: auth })).ok()).toBe(true);
  expect((await request.get(list, { headers: as })).status()).toBe(401);

  await signIn(page);
  await open(page, `/tenants/${tenant}/api-keys`);
  const row = page.locator('tr[data-name="partner"]');
  await expect(row.getByTestId('key-expires')).toHaveText('2030-01-02 03:04:00');
  // Used a moment ago: its last use is shown with its counts, not "never" until the next flush.
  await expect(row.getByTestId('key-last-used')).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  await row.getByRole('button', { name: 'partner' }).click();
  const detail = page.getByTestId('key-detail');
  await expect(detail.getByTestId('key-rate')).toHaveText('2 a minute');
  await expect(detail.getByTestId('key-ips')).toHaveText('127.0.0.1/32, ::1/128');
  await expect(detail).toContainText('Revoked');
  await expect(detail.getByTestId('usage-ok')).toHaveText('1');
  await expect(detail.getByTestId('usage-forbidden')).toHaveText('1');
  await expect(detail.getByTestId('usage-rate_limited')).toHaveText('1');
  await expect(detail.getByTestId('usage-unauthorized')).toHaveText('1');
  // The name closes it again.
  await row.getByRole('button', { name: 'partner' }).click();
  await expect(detail).toHaveCount(0);

  // Who changed this key, and when: its entries in the audit log, filter shown.
  await row.getByRole('button', { name: 'partner' }).click();
  await detail.getByRole('link', { name: 'Its audit log' }).click();
  await expect(page).toHaveURL(new RegExp(`/audit\\?target=${key.id}$`));
  await expect(page.getByLabel('Target')).toHaveValue(key.id);
  const entries = page.getByTestId('audit-log').locator('tbody tr');
  await expect(entries).toHaveCount(2);
  await expect(entries.nth(0)).toHaveAttribute('data-action', 'api_key.revoked');
  await expect(entries.nth(1)).toHaveAttribute('data-action', 'api_key.created');
});

test("an admin changes a key's name and rate limit in its settings", async ({ page, request }) => {
  const tenant = await createTenant(request, 'Key edit e2e');
  const made = await request.post(`/api/v1/tenants/${tenant}/api-keys`, { headers: auth, data: { name: 'crm', role: 'read_only' } });
  expect(made.status()).toBe(201);
  const key = await made.json();
  const scheduled = await request.put(`/api/v1/tenants/${tenant}/api-keys/${key.id}/rotation-schedule`, { headers: auth, data: { every_days: 90 } });
  expect(scheduled.status()).toBe(200);
  await signIn(page);
  await open(page, `/tenants/${tenant}/api-keys`);
  const row = page.locator(`tr[data-id="${key.id}"]`);
  await row.getByRole('button', { name: 'crm' }).click();
  const detail = page.getByTestId('key-detail');
  await expect(detail.getByTestId('key-rate')).toHaveText("the hub's default");
  await expect(detail).toContainText('Rotation due every 90 days, next');
  await detail.getByRole('button', { name: 'Edit' }).click();
  const form = detail.getByRole('form', { name: 'Edit API key' });
  // A wrong value is named next to its field.
  await form.getByLabel('Rate limit').fill('0');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.locator('.field-error[data-field="rate_limit.limit"]')).toContainText('between 1 and');
  await form.getByLabel('Name').fill('crm-sync');
  await form.getByLabel('Rate limit').fill('30');
  await form.getByRole('button', { name: 'Save' }).click();
  // Saved: the settings stay open and show the change, and so does the row.
  await expect(detail.getByTestId('key-saved')).toBeVisible();
  await expect(detail.getByTestId('key-rate')).toHaveText('30 a minute');
  // The window is the key's too: 500 an hour.
  await detail.getByRole('button', { name: 'Edit' }).click();
  await form.getByLabel('Rate limit').fill('500');
  await form.getByLabel('per', { exact: true }).selectOption('hour');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(detail.getByTestId('key-rate')).toHaveText('500 an hour');
  const hourly = await (await request.get(`/api/v1/tenants/${tenant}/api-keys/${key.id}`, { headers: auth })).json();
  expect(hourly.rate_limit).toEqual({ limit: 500, window: 'hour' });
  // Back to 30 a minute for the checks below.
  await detail.getByRole('button', { name: 'Edit' }).click();
  await form.getByLabel('Rate limit').fill('30');
  await form.getByLabel('per', { exact: true }).selectOption('minute');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(detail.getByTestId('key-rate')).toHaveText('30 a minute');
  await expect(row).toHaveAttribute('data-name', 'crm-sync');
  await expect(row.getByRole('button', { name: 'crm-sync' })).toBeVisible();
  const got = await (await request.get(`/api/v1/tenants/${tenant}/api-keys/${key.id}`, { headers: auth })).json();
  expect([got.name, got.rate_limit_per_minute, got.role]).toEqual(['crm-sync', 30, 'read_only']);
});

/** A new admin key of `tenant` (its id and plaintext), made over REST. */
async function adminKey(request: APIRequestContext, tenant: string): Promise<{ id: string; key: string }> {
  const res = await request.post(`/api/v1/tenants/${tenant}/api-keys`, { headers: auth, data: { name: 'ui', role: 'admin' } });
  expect(res.status()).toBe(201);
  return res.json();
}

/** Revokes a key over REST, as an admin elsewhere would while a page signed in with it is open. */
async function revokeElsewhere(request: APIRequestContext, tenant: string, id: string) {
  expect((await request.post(`/api/v1/tenants/${tenant}/api-keys/${id}/revoke`, { headers: auth })).status()).toBe(200);
}

/** Follows a "Sign in again" link to the sign-in page and signs in there with `token`. */
async function signInAgain(page: Page, link: Locator, token: string) {
  await link.click();
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel('Token or API key').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('a request refused because the session ended offers to sign in again, back to the same page', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Refused');
  const webhook = { url: 'https://example.com/hook', events: ['*'] };
  expect((await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: webhook })).status()).toBe(201);
  const first = await adminKey(request, tenant);
  await signIn(page, first.key);
  await open(page, `/tenants/${tenant}/audit`);
  await expect(page.getByTestId('audit-log')).toContainText('api_key.created');
  // The key is revoked elsewhere; the page's next request (a new filter) is refused with 401.
  await revokeElsewhere(request, tenant, first.id);
  await page.getByLabel('Action').selectOption('webhook.*');
  const refused = page.getByRole('alert').filter({ hasText: 'sign in again' });
  await expect(refused).toContainText('Unauthorized');
  await signInAgain(page, refused.getByRole('link', { name: 'Sign in again' }), (await adminKey(request, tenant)).key);
  // Back on the same page with the same filter.
  await expect(page).toHaveURL(new RegExp(`/tenants/${tenant}/audit\\?action=webhook$`));
  await expect(page.getByLabel('Action')).toHaveValue('webhook');
  const rows = page.getByTestId('audit-log').locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-action', 'webhook.created');
});

test('an open page says when its session has ended, and signing in again returns to it', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Ended');
  const first = await adminKey(request, tenant);
  await signIn(page, first.key);
  await open(page, `/tenants/${tenant}/deliveries?status=failed`);
  const live = page.getByTestId('live');
  await expect(live).toHaveText(/● live/);
  // The key is revoked elsewhere: the open page stops following the hub and says why.
  await revokeElsewhere(request, tenant, first.id);
  await expect(live).toContainText('not live: the token or key of this session is no longer valid', { timeout: 15_000 });
  // Signing in again (with another key) returns to the page, its filter kept.
  await signInAgain(page, live.getByRole('link', { name: 'Sign in again' }), (await adminKey(request, tenant)).key);
  await expect(page).toHaveURL(new RegExp(`/tenants/${tenant}/deliveries\\?status=failed$`));
  await expect(page.locator('#status-filter')).toHaveValue('failed');
  await expect(page.getByTestId('live')).toHaveText(/● live/);
  // A page opened with no session (a bookmark) offers the sign-in, which returns to it too.
  await page.context().clearCookies();
  await page.goto(`/tenants/${tenant}/webhooks`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Token or API key').fill(operatorToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(new RegExp(`/tenants/${tenant}/webhooks$`));
  await expect(page.getByRole('heading', { name: 'Webhooks' })).toBeVisible();
});
