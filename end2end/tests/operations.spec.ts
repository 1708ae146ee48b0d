import { test, expect } from '@playwright/test';
import { auth, createTenant, signIn, startReceiver, open } from './helpers';

test('the dashboard counts deliveries live and draws them', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Dashboard e2e');
  const good = await startReceiver();
  const bad = await startReceiver();
  bad.answer(500);
  for (const url of [good.url, bad.url]) {
    const res = await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: { url, events: ['new_lead'], max_attempts: 1 } });
    expect(res.status()).toBe(201);
  }
  await signIn(page);
  await open(page, `/tenants/${tenant}/dashboard`);
  await expect(page.getByTestId('live')).toHaveText(/live/);
  await expect(page.getByTestId('counter-attempts')).toHaveText('0');

  // Published after the page loaded: the counters move without a reload.
  for (let i = 0; i < 3; i++) {
    const res = await request.post(`/api/v1/tenants/${tenant}/events`, { headers: auth, data: { event_type: 'new_lead', payload: { i } } });
    expect(res.status()).toBe(202);
  }
  await expect(page.getByTestId('counter-attempts')).toHaveText('6');
  await expect(page.getByTestId('counter-succeeded')).toHaveText('3');
  await expect(page.getByTestId('counter-failed')).toHaveText('3');
  await expect(page.getByTestId('counter-rate')).toHaveText('50.0 %');
  await expect(page.getByTestId('counter-latency')).toContainText('ms');

  // The charts are SVG drawn by the app: one bar group for this hour, a success-rate point.
  await expect(page.getByTestId('chart-volume').locator('g[data-slot]')).toHaveCount(1);
  await expect(page.getByTestId('chart-volume').locator('g[data-slot] title')).toContainText('3 ok, 3 failed');
  await expect(page.getByTestId('chart-success').locator('circle, polyline')).toHaveCount(1);

  // Endpoint health: the failing one shows its error kind.
  const health = page.getByTestId('endpoint-health');
  await expect(health.locator('tr', { hasText: good.url })).toContainText('100.0 %');
  await expect(health.locator('tr', { hasText: bad.url })).toContainText('http_5xx ×3');

  await page.getByRole('button', { name: '7 days' }).click();
  await expect(page.getByTestId('counter-attempts')).toHaveText('6');

  // The long windows go day by day: today's one bar; the replays made show who made them.
  await page.getByRole('button', { name: '30 days' }).click();
  await expect(page.getByTestId('counter-attempts')).toHaveText('6');
  await expect(page.getByTestId('chart-volume')).toHaveAttribute('aria-label', 'Attempts per day');
  await expect(page.getByTestId('chart-volume').locator('g[data-slot]')).toHaveCount(1);
  await expect(page.getByTestId('replays-made')).toHaveText('0');
  const dead = await (await request.get(`/api/v1/tenants/${tenant}/dead-letters`, { headers: auth })).json();
  const replayed = await request.post(`/api/v1/tenants/${tenant}/dead-letters/${dead.data[0].id}/replay`, { headers: auth });
  expect(replayed.status()).toBe(201);
  // The hub under test keeps 45 days (IH_RETENTION_DAYS): no 90-day window is offered.
  await expect(page.getByRole('button', { name: '90 days' })).toHaveCount(0);
  await page.getByRole('button', { name: '7 days' }).click();
  await page.getByRole('button', { name: '30 days' }).click();
  await expect(page.getByTestId('replays-made')).toHaveText('1');
  await expect(page.getByTestId('replays-by-actor')).toContainText('operator');
  // The replay went to the failing endpoint: dead-lettered again (a fourth attempt there).
  await expect(page.getByTestId('replays-dead')).toHaveText('1');
  await page.getByRole('button', { name: '24 hours' }).click();

  // The Webhooks page shows each endpoint's last 24 hours beside it.
  await open(page, `/tenants/${tenant}/webhooks`);
  const endpoints = page.getByTestId('webhooks');
  await expect(endpoints.locator('tr', { hasText: good.url }).getByTestId('endpoint-24h')).toHaveText('100.0 % of 3');
  await expect(endpoints.locator('tr', { hasText: bad.url }).getByTestId('endpoint-24h')).toHaveText('0.0 % of 4');
  await open(page, `/tenants/${tenant}/dashboard`);

  // An endpoint opens the delivery log on its deliveries: the failing one's 3 dead letters.
  await health.getByRole('link', { name: bad.url }).click();
  await expect(page).toHaveURL(/\/deliveries\?webhook_id=wh_/);
  await expect(page.getByTestId('deliveries').locator('tbody tr[data-id]')).toHaveCount(4);
  await expect(page.getByTestId('deliveries').locator('.badge.dead_letter')).toHaveCount(4);
  await good.close();
  await bad.close();
});

test('a live page follows the tenant the switcher takes it to', async ({ page, request }) => {
  const first = await createTenant(request, 'Live A');
  const second = await createTenant(request, 'Live B');
  const receiver = await startReceiver();
  const res = await request.post(`/api/v1/tenants/${second}/webhooks`, { headers: auth, data: { url: receiver.url, events: ['new_lead'] } });
  expect(res.status()).toBe(201);
  await signIn(page);
  // The page's live stream names its tenant: the server tells it of that tenant's changes only.
  const followsFirst = page.waitForRequest((r) => r.url().endsWith(`/ui-api/live?tenant=${first}`));
  await open(page, `/tenants/${first}/dashboard`);
  await followsFirst;
  await expect(page.getByTestId('live')).toHaveText(/● live/);
  const followsSecond = page.waitForRequest((r) => r.url().endsWith(`/ui-api/live?tenant=${second}`));
  await page.getByTestId('tenant-switcher').selectOption(second);
  await expect(page).toHaveURL(new RegExp(`/tenants/${second}/dashboard$`));
  await followsSecond;
  await expect(page.getByTestId('live')).toHaveText(/● live/);
  await expect(page.getByTestId('counter-attempts')).toHaveText('0');
  const published = await request.post(`/api/v1/tenants/${second}/events`, { headers: auth, data: { event_type: 'new_lead', payload: {} } });
  expect(published.status()).toBe(202);
  await expect(page.getByTestId('counter-attempts')).toHaveText('1');
  await receiver.close();
});

test('the audit log lists changes and filters them', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Audit e2e');
  const hook = await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: { url: 'https://example.com/hook', events: ['*'] } });
  const webhookId = (await hook.json()).id;
  const key = await request.post(`/api/v1/tenants/${tenant}/api-keys`, { headers: auth, data: { name: 'ci', role: 'read_only' } });
  const keyId = (await key.json()).id;
  await request.delete(`/api/v1/tenants/${tenant}/webhooks/${webhookId}`, { headers: auth });

  await signIn(page);
  await open(page, `/tenants/${tenant}/audit`);
  const rows = page.getByTestId('audit-log').locator('tbody tr');
  // Newest first.
  await expect(rows.first()).toHaveAttribute('data-action', 'webhook.deleted');
  // All on one page: no pager.
  await expect(page.getByTestId('pager')).toBeHidden();
  await expect(page.getByTestId('audit-log')).toContainText('api_key.created');
  await expect(page.getByTestId('audit-log')).toContainText('tenant.created');

  await page.getByLabel('Action').selectOption('webhook.*');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute('data-action', 'webhook.deleted');
  await expect(rows.nth(1)).toHaveAttribute('data-action', 'webhook.created');

  await page.getByLabel('Action').selectOption('');
  await page.getByLabel('Target').fill(keyId);
  await page.getByLabel('Target').press('Enter');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-action', 'api_key.created');

  await page.getByLabel('Target').fill('');
  await page.getByLabel('Target').press('Enter');
  await page.getByLabel('Actor').fill('key_nobody');
  await page.getByLabel('Actor').press('Enter');
  await expect(page.getByTestId('audit-empty')).toBeVisible();

  // The filters are in the URL: a reload keeps them.
  await page.getByLabel('Actor').fill('');
  await page.getByLabel('Actor').press('Enter');
  await page.getByLabel('Action').selectOption('webhook.*');
  await expect(page).toHaveURL(/\?action=webhook$/);
  await page.reload();
  await expect(page.locator('html[data-hydrated]')).toBeAttached();
  await expect(page.getByLabel('Action')).toHaveValue('webhook');
  await expect(rows).toHaveCount(2);
});

test('the audit log pages back to its oldest entries', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Audit paging e2e');
  // tenant.created and 52 webhook.created: one page holds 50, the second the 3 oldest.
  const webhooks: string[] = [];
  for (let n = 0; n < 52; n++) {
    const res = await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: { url: `https://example.com/hook/${n}`, events: ['*'] } });
    expect(res.status()).toBe(201);
    webhooks.push((await res.json()).id);
  }
  await signIn(page);
  await open(page, `/tenants/${tenant}/audit`);
  const rows = page.getByTestId('audit-log').locator('tbody tr');
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toContainText(webhooks[51]);

  await page.getByRole('button', { name: 'Older' }).click();
  await expect(page.getByTestId('page-number')).toHaveText('Page 2');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText(webhooks[1]);
  await expect(rows.nth(1)).toContainText(webhooks[0]);
  await expect(rows.nth(2)).toHaveAttribute('data-action', 'tenant.created');
  await expect(page.getByRole('button', { name: 'Older' })).toBeDisabled();

  await page.getByRole('button', { name: 'Newest' }).click();
  await expect(page.getByTestId('page-number')).toHaveText('Page 1');
  await expect(rows.first()).toContainText(webhooks[51]);
});

test('the API reference renders offline from the OpenAPI document and can send a request', async ({ page }) => {
  const foreign: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith('http://127.0.0.1')) foreign.push(r.url()); });
  await page.goto('/docs');
  await expect(page.locator('nav a', { hasText: 'GET /api/v1/tenants' }).first()).toBeVisible();
  const op = page.locator('section.op', { has: page.locator('.path', { hasText: /^\/api\/v1\/whoami$/ }) });
  await op.locator('header').click();
  await page.getByLabel('API key or operator token').fill(process.env.IH_E2E_TOKEN ?? 'e2e-operator-token-0123456789abcdef');
  await op.getByRole('button', { name: 'Send' }).click();
  await expect(op.getByTestId('try-status')).toHaveText(/^200/);
  await expect(op.locator('pre').first()).toContainText('operator');

  // The webhooks a receiver gets, from the document's 3.1 `webhooks` section: body and headers.
  const lead = page.locator('section.op', { has: page.locator('.path', { hasText: 'your endpoint ← new_lead' }) });
  await lead.locator('header').click();
  await expect(lead.getByTestId('webhook-schema')).toContainText('lead_id');
  await expect(lead).toContainText('webhook-signature');
  await expect(lead.getByRole('button', { name: 'Send' })).toHaveCount(0);
  expect(foreign).toEqual([]);
});

test('the delivery log, the dead letters and the audit log say how long their rows are kept', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Retention e2e');
  await signIn(page);
  await open(page, `/tenants/${tenant}/deliveries`);
  await expect(page.getByTestId('retention')).toHaveText(/deleted with its event and attempts 45 days after it finished/);
  await open(page, `/tenants/${tenant}/dead-letters`);
  await expect(page.getByTestId('retention')).toHaveText(/deleted 45 days after it was dead-lettered: replay it before then/);
  await open(page, `/tenants/${tenant}/audit`);
  await expect(page.getByTestId('retention')).toHaveText('Entries are deleted after 400 days.');
});
