import { test, expect } from '@playwright/test';
import { auth, createTenant, signIn, startReceiver, verifySignature, open } from './helpers';

test('a published event is delivered, signed, and appears in the live delivery log', async ({ page, request }) => {
  const receiver = await startReceiver();
  try {
    const tenant = await createTenant(request, 'Acme e2e');
    const created = await request.post(`/api/v1/tenants/${tenant}/webhooks`, {
      headers: auth,
      data: { url: receiver.url, events: ['new_lead'] },
    });
    expect(created.status()).toBe(201);
    const webhook = await created.json();

    await signIn(page);
    await open(page, `/tenants/${tenant}/webhooks`);
    await expect(page.getByTestId('webhooks').locator(`tr[data-id="${webhook.id}"]`)).toContainText(receiver.url);

    await open(page, `/tenants/${tenant}/deliveries`);
    // Nothing yet: said in words, without an empty table.
    await expect(page.getByTestId('deliveries-empty')).toHaveText('No delivery yet: publish an event of a type an endpoint subscribes to.');
    await expect(page.getByTestId('deliveries')).toBeHidden();
    // A refused filter says why, and nothing claims the log is merely empty.
    await page.getByLabel('Event id').fill('dlv_not_an_event');
    await page.getByLabel('Event id').press('Enter');
    await expect(page.getByRole('alert')).toContainText('is not an event id');
    await expect(page.getByTestId('deliveries-empty')).toBeHidden();
    await page.getByLabel('Event id').fill('');
    await page.getByLabel('Event id').press('Enter');
    await expect(page.getByTestId('deliveries-empty')).toBeVisible();
    await expect(page.getByTestId('live')).toHaveText(/live/);

    // Published after the page loaded: only the hydrated page's refresh can show it.
    const published = await request.post(`/api/v1/tenants/${tenant}/events`, {
      headers: auth,
      data: { event_type: 'new_lead', payload: { name: 'Ada', email: 'ada@example.com' } },
    });
    expect(published.status()).toBe(202);
    const event = await published.json();
    const row = page.locator(`tr[data-event-id="${event.id}"]`);
    await expect(row).toContainText('delivered');
    // One delivery, one page: no pager.
    await expect(page.getByTestId('pager')).toBeHidden();

    // The receiver got it, and its signature verifies with the endpoint's secret.
    await expect.poll(() => receiver.received.length).toBe(1);
    const secret = (await (await request.get(`/api/v1/tenants/${tenant}/webhooks/${webhook.id}/secret`, { headers: auth })).json()).secret;
    const got = receiver.received[0];
    expect(JSON.parse(got.body)).toMatchObject({ id: event.id, type: 'new_lead', data: { name: 'Ada' } });
    expect(verifySignature(secret, got)).toBe(true);

    // Expanded, the row shows what was sent: the event's payload. It opens from the keyboard too.
    const toggle = row.getByRole('button', { name: /^dlv_/ });
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await toggle.focus();
    await page.keyboard.press('Enter');
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const payload = page.getByTestId('payload');
    await payload.locator('summary').click();
    await expect(payload).toContainText('"email": "ada@example.com"');
    await expect(payload.locator('summary')).toContainText(event.id);

    // The status filter works only in the browser: choosing dead_letter hides the row.
    await page.locator('#status-filter').selectOption('dead_letter');
    await expect(row).toHaveCount(0);
    await page.locator('#status-filter').selectOption('delivered');
    await expect(row).toContainText('delivered');
  } finally {
    await receiver.close();
  }
});

test('a wrong token is refused with a message next to the field', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Token or API key').fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('not valid');
});

test('the operator creates a tenant on the Tenants page, with a bad name refused next to the field', async ({ page, request }) => {
  // At least one tenant before, so that the one made here brings the switcher's choice to two or more.
  await createTenant(request, 'Initech');
  await signIn(page);
  await open(page, '/');
  const form = page.getByRole('form', { name: 'New tenant' });
  // An empty name: the server's message appears under the field.
  await form.getByRole('button', { name: 'Create tenant' }).click();
  await expect(form.locator('[data-field="name"]')).toContainText('1 to 200 characters');

  const name = `Globex ${Date.now()}`;
  await form.getByLabel('New tenant').fill(name);
  await form.getByRole('button', { name: 'Create tenant' }).click();
  const card = page.getByTestId('tenants').locator('li', { hasText: name });
  await expect(card).toBeVisible();
  await expect(form.locator('[data-field="name"]')).toHaveCount(0);
  const id = await card.getAttribute('data-id');
  const got = await request.get(`/api/v1/tenants/${id}`, { headers: auth });
  expect((await got.json()).name).toBe(name);
  // The top bar's switcher offers it at once, without a reload, and takes the operator there.
  const switcher = page.getByTestId('tenant-switcher');
  await expect(switcher.locator('option', { hasText: name })).toHaveCount(1);
  await switcher.selectOption(id!);
  await expect(page).toHaveURL(`/tenants/${id}/webhooks`);
  // Made through the same call as the REST route: audited as the operator's.
  const audit = await (await request.get(`/api/v1/tenants/${id}/audit-log`, { headers: auth })).json();
  expect(audit.data).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'tenant.created', actor: 'operator' })]));

  // A tenant admin key signs in to its own tenant and is not offered the form.
  const key = await request.post(`/api/v1/tenants/${id}/api-keys`, { headers: auth, data: { name: 'admin', role: 'admin' } });
  await page.context().clearCookies();
  await signIn(page, (await key.json()).key);
  await open(page, '/');
  await expect(page.getByTestId('tenants')).toContainText(name);
  await expect(page.getByRole('form', { name: 'New tenant' })).toHaveCount(0);
  await expect(page.getByTestId('tenants').getByRole('button', { name: 'Rename' })).toHaveCount(0);
});

test('the operator renames a tenant in place, and the switcher follows', async ({ page, request }) => {
  const id = await createTenant(request, 'Acme Typo e2e');
  await createTenant(request, 'Second Rename e2e');
  await signIn(page);
  await open(page, '/');
  const card = page.getByTestId('tenants').locator(`li[data-id="${id}"]`);
  await card.getByRole('button', { name: 'Rename' }).click();
  const form = card.getByRole('form', { name: 'Rename tenant' });
  await expect(form.getByLabel('Tenant name')).toHaveValue('Acme Typo e2e');
  // An empty name is refused next to the field, and nothing changes.
  await form.getByLabel('Tenant name').fill('  ');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.locator('.field-error[data-field="name"]')).toContainText('must be 1 to 200 characters');
  await form.getByLabel('Tenant name').fill('Acme Renamed e2e');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(card.getByTestId('tenant-name')).toHaveText('Acme Renamed e2e');
  await expect(page.getByTestId('tenant-switcher').locator(`option[value="${id}"]`)).toHaveText('Acme Renamed e2e');
  const saved = await (await request.get(`/api/v1/tenants/${id}`, { headers: auth })).json();
  expect(saved.name).toBe('Acme Renamed e2e');
  await page.reload();
  await expect(page.getByTestId('tenants').locator(`li[data-id="${id}"]`).getByTestId('tenant-name')).toHaveText('Acme Renamed e2e');
});

test('the operator finds a tenant by part of its name', async ({ page, request }) => {
  const wanted = await createTenant(request, 'Zephyr Search e2e');
  const other = await createTenant(request, 'Quokka Search e2e');
  await signIn(page);
  await open(page, '/');
  const search = page.getByLabel('Find a tenant');
  const cards = page.getByTestId('tenants');
  await search.fill('zephyr SEARCH');
  await search.press('Enter');
  await expect(cards.locator(`li[data-id="${wanted}"]`)).toBeVisible();
  await expect(cards.locator(`li[data-id="${other}"]`)).toHaveCount(0);
  await search.fill('no tenant is called this');
  await search.press('Enter');
  await expect(page.getByTestId('tenants-none')).toBeVisible();
  // Cleared: the session's list again.
  await search.fill('');
  await search.press('Enter');
  await expect(cards.locator(`li[data-id="${other}"]`)).toBeVisible();
});

test('every page of a tenant loads without an error in the browser console', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Console e2e');
  const errors: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(`${page.url()}: ${message.text()}`); });
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  await signIn(page);
  for (const section of ['dashboard', 'webhooks', 'deliveries', 'dead-letters', 'echo', 'slack', 'api-keys', 'audit']) {
    await open(page, `/tenants/${tenant}/${section}`);
    await expect(page.locator('h1')).toBeVisible();
  }
  await open(page, '/');
  expect(errors).toEqual([]);
});
