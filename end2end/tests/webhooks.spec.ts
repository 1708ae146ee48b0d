import { test, expect } from '@playwright/test';
import { auth, createTenant, signIn, startReceiver, open } from './helpers';

test('an admin adds an endpoint on the echo inspector, tests it, and manages its secret', async ({ page, context, request }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const tenant = await createTenant(request, 'Webhooks e2e');
  await signIn(page);
  await open(page, `/tenants/${tenant}/webhooks`);

  // The create modal: URL feedback while typing, the catalogue as checkboxes, field errors.
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const form = page.getByRole('form', { name: 'Add endpoint' });
  await form.getByLabel('URL').fill('ftp://example.com');
  await expect(form.getByTestId('url-feedback')).toContainText('must start with https://');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.locator('.field-error[data-field="events"]')).toContainText('choose at least one');
  await form.getByRole('button', { name: 'Use the built-in echo inspector' }).click();
  await expect(form.getByLabel('URL')).toHaveValue(new RegExp(`/echo/${tenant}/`));
  await expect(form.getByTestId('url-feedback')).toContainText('valid');
  await form.getByRole('checkbox', { name: 'new_lead' }).check();
  await form.getByRole('checkbox', { name: 'request_submitted' }).check();
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form).toHaveCount(0);
  const row = page.getByTestId('webhooks').locator('tr[data-id]').first();
  await expect(row).toContainText('/echo/');
  await expect(row).toContainText('new_lead, request_submitted');

  // The Test modal: invalid JSON is caught before sending; the echo verifies the signature.
  await row.getByRole('button', { name: 'Test' }).click();
  const dialog = page.getByRole('dialog', { name: 'Send a test event' });
  await dialog.getByLabel('Event type').selectOption('request_submitted');
  await expect(dialog.getByLabel('Payload')).toHaveValue(/"requester"/);
  await dialog.getByLabel('Payload').fill('{"title": ');
  await expect(dialog.getByTestId('json-error')).toContainText('Not valid JSON');
  await expect(dialog.getByRole('button', { name: 'Send' })).toBeDisabled();
  // Checked against the type's schema before it is sent: request_submitted needs a request_id.
  await dialog.getByLabel('Payload').fill('{"title": "Desk chair", "requester": {"name": "Ada"}}');
  await dialog.getByRole('button', { name: 'Send' }).click();
  await expect(dialog.getByTestId('problem-fields')).toContainText('request_id');
  await dialog.getByLabel('Payload').fill('{"request_id": "req_9", "title": "Desk chair", "requester": {"name": "Ada"}}');
  await dialog.getByRole('button', { name: 'Send' }).click();
  await expect(dialog.getByTestId('test-result')).toContainText('HTTP 200');
  await expect(dialog.getByTestId('signature-verdict')).toHaveText('Signature verified by the echo inspector');
  await dialog.getByRole('button', { name: 'Close' }).click();

  // The echo inspector page shows what arrived.
  await open(page, `/tenants/${tenant}/echo`);
  const received = page.getByTestId('echo-requests').locator('li').first();
  await expect(received).toContainText('request_submitted');
  await expect(received.getByTestId('echo-verified')).toHaveText('signature verified');
  await expect(received).toContainText('Desk chair');

  // The secret: revealed, copied, rotated.
  await open(page, `/tenants/${tenant}/webhooks`);
  await row.getByRole('button', { name: 'Secret' }).click();
  const panel = page.getByTestId('secret-panel');
  const secretField = panel.getByTestId('secret-value');
  await expect(secretField).toHaveValue(/^whsec_/);
  const first = await secretField.inputValue();
  await panel.getByRole('button', { name: 'Copy' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(first);
  await panel.getByRole('button', { name: 'Rotate secret' }).click();
  await expect(panel.getByRole('status')).toContainText('both signatures');
  await expect(secretField).not.toHaveValue(first);
  await expect(secretField).toHaveValue(/^whsec_/);

  // The enable toggle is saved.
  const id = await row.getAttribute('data-id');
  await row.getByRole('switch', { name: 'Enabled' }).uncheck();
  await expect.poll(async () => (await (await request.get(`/api/v1/tenants/${tenant}/webhooks/${id}`, { headers: auth })).json()).enabled).toBe(false);
  await page.reload();
  await expect(page.locator(`tr[data-id="${id}"]`).getByRole('switch', { name: 'Enabled' })).not.toBeChecked();
});

test('dead letters appear live and are replayed one by one and in bulk', async ({ page, request }) => {
  const receiver = await startReceiver();
  try {
    receiver.answer(500);
    const tenant = await createTenant(request, 'Replay e2e');
    const created = await request.post(`/api/v1/tenants/${tenant}/webhooks`, {
      headers: auth,
      data: { url: receiver.url, events: ['new_lead'], max_attempts: 1 },
    });
    expect(created.status()).toBe(201);
    await signIn(page);
    await open(page, `/tenants/${tenant}/dead-letters`);
    await expect(page.getByTestId('live')).toHaveText(/live/);
    // Nothing to replay yet.
    await expect(page.getByRole('button', { name: 'Replay all' })).toBeDisabled();

    // Published after the page loaded: the server-sent events bring it in.
    const publish = async (n: number) =>
      (await (await request.post(`/api/v1/tenants/${tenant}/events`, { headers: auth, data: { event_type: 'new_lead', payload: { n } } })).json()).id;
    const first = await publish(1);
    const row = page.locator(`tr[data-event-id="${first}"]`);
    await expect(row).toContainText('dead_letter');
    await expect(page.getByRole('button', { name: 'Replay all' })).toBeEnabled();

    // Expanding the row shows the attempt and the receiver's answer.
    await row.click();
    const attempts = page.getByTestId('attempts');
    await expect(attempts).toContainText('HTTP 500');
    await expect(attempts).toContainText('receiver says 500');

    // Replay one: a new delivery, linked to the first, delivered now that the receiver is well.
    receiver.answer(204);
    await row.getByRole('button', { name: 'Replay' }).click();
    await expect(page.getByTestId('replay-notice')).toContainText('as dlv_');
    await open(page, `/tenants/${tenant}/deliveries`);
    const replayed = page.locator(`tr[data-event-id="${first}"]`).filter({ hasText: 'replay of' });
    await expect(replayed).toContainText('delivered');

    // Bulk: two more dead letters, replayed together.
    receiver.answer(500);
    await publish(2);
    const third = await publish(3);
    await open(page, `/tenants/${tenant}/dead-letters`);
    await expect(page.getByTestId('deliveries').locator('tr[data-id]')).toHaveCount(3);
    receiver.answer(204);

    // Filtered to one event: Replay all replays what the filters select, not every dead letter.
    await page.getByLabel('Event id').fill(third);
    await page.getByLabel('Event id').press('Enter');
    await expect(page.getByTestId('deliveries').locator('tr[data-id]')).toHaveCount(1);
    const beforeOne = receiver.received.length;
    await page.getByRole('button', { name: 'Replay all' }).click();
    await page.getByRole('button', { name: 'Yes, replay them' }).click();
    await expect(page.getByTestId('bulk-result')).toHaveText('1 replayed');
    await expect.poll(() => receiver.received.length - beforeOne).toBe(1);
    expect(JSON.parse(receiver.received[receiver.received.length - 1].body).id).toBe(third);

    await page.getByLabel('Event id').fill('');
    await page.getByLabel('Event id').press('Enter');
    await expect(page.getByTestId('deliveries').locator('tr[data-id]')).toHaveCount(3);
    const before = receiver.received.length;
    await page.getByRole('button', { name: 'Replay all' }).click();
    await page.getByRole('button', { name: 'Yes, replay them' }).click();
    await expect(page.getByTestId('bulk-result')).toHaveText('3 replayed');
    await expect.poll(() => receiver.received.length - before).toBe(3);
  } finally {
    await receiver.close();
  }
});

test('the delivery log pages back to older deliveries, and a filter starts again at the newest', async ({ page, request }) => {
  const receiver = await startReceiver();
  try {
    const tenant = await createTenant(request, 'Paging e2e');
    const created = await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: { url: receiver.url, events: ['*'] } });
    expect(created.status()).toBe(201);
    // One page holds 50: 53 events make a second page of the 3 oldest. One at a time, so that
    // their order is the order of the ids.
    const events: string[] = [];
    for (let n = 0; n < 53; n++) {
      const res = await request.post(`/api/v1/tenants/${tenant}/events`, { headers: auth, data: { event_type: 'order.paid', payload: { n } } });
      expect(res.status()).toBe(202);
      events.push((await res.json()).id);
    }
    await signIn(page);
    await open(page, `/tenants/${tenant}/deliveries`);
    const rows = page.getByTestId('deliveries').locator('tbody tr[data-id]');
    const older = page.getByRole('button', { name: 'Older' });
    const newer = page.getByRole('button', { name: 'Newer' });
    await expect(rows).toHaveCount(50);
    await expect(rows.first()).toHaveAttribute('data-event-id', events[52]);
    await expect(page.getByTestId('page-number')).toHaveText('Page 1');
    await expect(newer).toBeDisabled();

    await older.click();
    await expect(page.getByTestId('page-number')).toHaveText('Page 2');
    await expect(rows).toHaveCount(3);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event-id')))).toEqual(events.slice(0, 3).reverse());
    await expect(older).toBeDisabled();

    await newer.click();
    await expect(page.getByTestId('page-number')).toHaveText('Page 1');
    await expect(rows).toHaveCount(50);
    await expect(rows.first()).toHaveAttribute('data-event-id', events[52]);

    // A time window that holds none of them says so (and is kept in the URL).
    await page.getByLabel('Until (UTC)').fill('2000-01-01T00:00');
    await page.getByLabel('Until (UTC)').dispatchEvent('change');
    await expect(page.getByTestId('deliveries-empty')).toHaveText('No delivery matches these filters.');
    await expect(page).toHaveURL(/until=2000-01-01T00%3A00|until=2000-01-01T00:00/);
    await page.getByLabel('Until (UTC)').fill('');
    await page.getByLabel('Until (UTC)').dispatchEvent('change');
    await expect(rows).toHaveCount(50);

    // A filter changed on an older page shows its own newest deliveries.
    await older.click();
    await expect(rows).toHaveCount(3);
    await page.locator('#type-filter').selectOption('order.paid');
    await expect(page.getByTestId('page-number')).toHaveText('Page 1');
    await expect(rows).toHaveCount(50);
    await expect(rows.first()).toHaveAttribute('data-event-id', events[52]);
  } finally {
    await receiver.close();
  }
});

test('links open the delivery log on one event or endpoint, its filters stay in the URL, and a pasted delivery id is refused by name', async ({ page, request }) => {
  const receiver = await startReceiver();
  try {
    const tenant = await createTenant(request, 'Event link e2e');
    const hooks: string[] = [];
    for (let n = 0; n < 2; n++) {
      const res = await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: { url: `${receiver.url}/${n}`, events: ['*'] } });
      expect(res.status()).toBe(201);
      hooks.push((await res.json()).id);
    }
    const publish = async () => (await (await request.post(`/api/v1/tenants/${tenant}/events`, { headers: auth, data: { event_type: 'order.paid', payload: {} } })).json()).id;
    const wanted = await publish();
    const other = await publish();

    await signIn(page);
    // As the Slack connector links: the log of this event's deliveries, one per endpoint.
    await open(page, `/tenants/${tenant}/deliveries?event_id=${wanted}`);
    const rows = page.getByTestId('deliveries').locator('tbody tr[data-id]');
    await expect(page.getByLabel('Event id')).toHaveValue(wanted);
    await expect(rows).toHaveCount(2);
    await expect(page.locator(`tr[data-event-id="${other}"]`)).toHaveCount(0);

    // Another event, typed in.
    await page.getByLabel('Event id').fill(other);
    await page.getByLabel('Event id').press('Enter');
    await expect(page.locator(`tr[data-event-id="${wanted}"]`)).toHaveCount(0);
    await expect(page.locator(`tr[data-event-id="${other}"]`)).toHaveCount(2);

    // A delivery id is not an event id: said, rather than an empty log.
    const delivery = await rows.first().getAttribute('data-id');
    await page.getByLabel('Event id').fill(delivery!);
    await page.getByLabel('Event id').press('Enter');
    await expect(page.getByRole('alert')).toContainText('is not an event id');

    await page.getByLabel('Event id').fill('');
    await page.getByLabel('Event id').press('Enter');
    await expect(rows).toHaveCount(4);
    await expect(page.getByRole('alert')).toHaveCount(0);

    // The Webhooks page links each endpoint to its deliveries; the filters chosen are kept in
    // the URL, so a reload (or a bookmark) shows the same log.
    await open(page, `/tenants/${tenant}/webhooks`);
    await page.locator(`tr[data-id="${hooks[0]}"]`).getByRole('link', { name: 'Deliveries' }).click();
    await expect(page).toHaveURL(new RegExp(`/deliveries\\?webhook_id=${hooks[0]}$`));
    await expect(page.locator('#endpoint-filter')).toHaveValue(hooks[0]);
    await expect(rows).toHaveCount(2);
    await page.locator('#status-filter').selectOption('delivered');
    await expect(page).toHaveURL(/status=delivered/);
    await page.reload();
    await expect(page.locator('html[data-hydrated]')).toBeAttached();
    await expect(page.locator('#status-filter')).toHaveValue('delivered');
    await expect(page.locator('#endpoint-filter')).toHaveValue(hooks[0]);
    await expect(rows).toHaveCount(2);
  } finally {
    await receiver.close();
  }
});

test('a failed delivery is retried now instead of at its next retry, without a second delivery', async ({ page, request }) => {
  const receiver = await startReceiver();
  try {
    receiver.answer(500);
    const tenant = await createTenant(request, 'Retry now e2e');
    // An hour before the second attempt.
    const created = await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: { url: receiver.url, events: ['*'], backoff_base_seconds: 3600 } });
    expect(created.status()).toBe(201);
    const event = (await (await request.post(`/api/v1/tenants/${tenant}/events`, { headers: auth, data: { event_type: 'order.paid', payload: {} } })).json()).id;
    await signIn(page);
    await open(page, `/tenants/${tenant}/deliveries`);
    const row = page.locator(`tr[data-event-id="${event}"]`);
    await expect(row).toContainText('failed');
    await expect(row).toContainText('next ');
    // Waiting for a retry: no Replay (it would send the event a second time beside it).
    await expect(row.getByRole('button', { name: 'Replay' })).toHaveCount(0);

    receiver.answer(204);
    await row.getByRole('button', { name: 'Retry now' }).click();
    await expect(page.getByTestId('replay-notice')).toContainText('Retrying dlv_');
    await expect(row).toContainText('delivered');
    await expect(row.getByTestId('attempt-count')).toHaveText('2');
    await expect(page.getByTestId('deliveries').locator('tbody tr[data-id]')).toHaveCount(1);
    expect(receiver.received.length).toBe(2);
  } finally {
    await receiver.close();
  }
});

test('editing an endpoint saves what changed, and a field emptied goes back to its default', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Webhooks edit e2e');
  const made = await request.post(`/api/v1/tenants/${tenant}/webhooks`, {
    headers: auth,
    data: {
      url: 'https://example.com/in', events: ['new_lead'], description: 'front desk', max_attempts: 3, timeout_seconds: 7,
      backoff_base_seconds: 30, headers: { 'X-Team': 'desk' },
    },
  });
  expect(made.status()).toBe(201);
  const id = (await made.json()).id;
  await signIn(page);
  await open(page, `/tenants/${tenant}/webhooks`);

  await page.locator(`tr[data-id="${id}"]`).getByRole('button', { name: 'Edit' }).click();
  const form = page.getByRole('form', { name: 'Edit endpoint' });
  await expect(form.getByLabel('Max attempts (optional)')).toHaveValue('3');
  await expect(form.getByLabel('Retry backoff base in seconds (optional)')).toHaveValue('30');
  const headers = form.getByLabel(/^Custom headers/);
  await expect(headers).toHaveValue('X-Team: desk\n');
  // A line the form cannot read is refused before sending; one the server refuses shows its reason.
  await headers.fill('X-Team desk');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.locator('.field-error[data-field="headers"]')).toHaveText('line 1: write it as Name: value');
  await headers.fill('X-Team: desk\nWebhook-Id: mine');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.locator('.field-error[data-field="headers"]')).toContainText('is set by the hub');
  expect((await (await request.get(`/api/v1/tenants/${tenant}/webhooks/${id}`, { headers: auth })).json()).headers).toEqual({ 'X-Team': 'desk' });

  await headers.fill('X-Team: front\nX-Region: eu');
  await form.getByLabel('Retry backoff base in seconds (optional)').fill('');
  await form.getByLabel('Max attempts (optional)').fill('');
  await form.getByLabel('Timeout in seconds (optional)').fill('9');
  await form.getByLabel('Rate limit, sends a second (optional)').fill('5');
  await form.getByLabel('Description (optional)').fill('');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form).toHaveCount(0);

  const saved = await (await request.get(`/api/v1/tenants/${tenant}/webhooks/${id}`, { headers: auth })).json();
  expect([saved.max_attempts, saved.timeout_seconds, saved.backoff_base_seconds, saved.description, saved.url])
    .toEqual([null, 9, null, null, 'https://example.com/in']);
  expect(saved.headers).toEqual({ 'X-Region': 'eu', 'X-Team': 'front' });
  expect(saved.rate_limit_per_second).toBe(5);
  // The list shows the saved endpoint (the row is there, so "not containing" is not vacuous).
  const row = page.locator(`tr[data-id="${id}"]`);
  await expect(row).toContainText('https://example.com/in');
  await expect(row).not.toContainText('front desk');
  await expect(row.getByTestId('rate-limit')).toHaveText('at most 5 a second');

  // Emptying the box removes every custom header.
  await row.getByRole('button', { name: 'Edit' }).click();
  await expect(headers).toHaveValue('X-Region: eu\nX-Team: front\n');
  await expect(form.getByLabel('Rate limit, sends a second (optional)')).toHaveValue('5');
  await form.getByLabel('Rate limit, sends a second (optional)').fill('');
  await headers.fill('');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form).toHaveCount(0);
  const cleared = await (await request.get(`/api/v1/tenants/${tenant}/webhooks/${id}`, { headers: auth })).json();
  expect([cleared.headers, cleared.rate_limit_per_second]).toEqual([{}, null]);
  await expect(row.getByTestId('rate-limit')).toHaveCount(0);
});

test('an endpoint subscribes to a type not published yet and to a family of types', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Event families e2e');
  await signIn(page);
  await open(page, `/tenants/${tenant}/webhooks`);
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const form = page.getByRole('form', { name: 'Add endpoint' });
  await form.getByLabel('URL').fill('https://example.com/billing');
  const another = form.getByLabel('Another event type or family');
  // Refused before sending, with what is accepted.
  await another.fill('invoice*');
  await form.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(form.getByTestId('event-type-error')).toContainText('a family such as invoice.*');
  await another.fill('invoice.*');
  await another.press('Enter');
  await expect(form.getByRole('checkbox', { name: 'invoice.*' })).toBeChecked();
  await expect(form.getByTestId('event-type-error')).toHaveCount(0);
  await another.fill('refund.issued');
  await form.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(form.getByRole('checkbox', { name: 'refund.issued' })).toBeChecked();
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form).toHaveCount(0);
  const row = page.getByTestId('webhooks').locator('tr[data-id]').first();
  await expect(row).toContainText('invoice.*, refund.issued');

  // What the family covers, as the publish answers show: a delivery or none.
  const fannedOut = async (event_type: string) => {
    const res = await request.post(`/api/v1/tenants/${tenant}/events`, { headers: auth, data: { event_type, payload: {} } });
    expect(res.status()).toBe(202);
    return (await res.json()).deliveries.length;
  };
  expect([await fannedOut('invoice.paid'), await fannedOut('invoices.paid'), await fannedOut('refund.issued')]).toEqual([1, 0, 1]);

  // Editing shows the chosen family and type, though neither is in the catalogue as such.
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: 'Edit endpoint' });
  await expect(edit.getByRole('checkbox', { name: 'invoice.*' })).toBeChecked();
  await edit.getByRole('checkbox', { name: 'refund.issued' }).uncheck();
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toHaveCount(0);
  const id = await row.getAttribute('data-id');
  expect((await (await request.get(`/api/v1/tenants/${tenant}/webhooks/${id}`, { headers: auth })).json()).events).toEqual(['invoice.*']);
});

// Last in the run: it leaves 501 more tenants behind.
test('on a tenant past the first 500, the switcher shows that tenant, not "Choose a tenant"', async ({ page, request }) => {
  let last = '';
  for (let i = 0; i <= 500; i++) {
    last = await createTenant(request, `Crowd ${i} e2e`);
  }
  await signIn(page);
  await open(page, `/tenants/${last}/webhooks`);
  const switcher = page.getByTestId('tenant-switcher');
  await expect(switcher).toHaveValue(last);
  await expect(switcher.locator('option:checked')).toHaveText(last);
});

test('the delivery log names each delivery\'s endpoint, a deleted one by its id, and long URLs do not widen the pages', async ({ page, request }) => {
  const receiver = await startReceiver();
  try {
    const tenant = await createTenant(request, 'Endpoint column e2e');
    const longUrl = `${receiver.url}/${'a-rather-long-path-segment/'.repeat(6)}end`;
    const hooks: string[] = [];
    for (const url of [longUrl, `${receiver.url}/short`]) {
      const res = await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: { url, events: ['*'] } });
      expect(res.status()).toBe(201);
      hooks.push((await res.json()).id);
    }
    const published = await request.post(`/api/v1/tenants/${tenant}/events`, { headers: auth, data: { event_type: 'order.paid', payload: {} } });
    const event = (await published.json()).id;
    expect((await request.delete(`/api/v1/tenants/${tenant}/webhooks/${hooks[1]}`, { headers: auth })).status()).toBe(204);

    await page.setViewportSize({ width: 1024, height: 800 });
    await signIn(page);
    const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await open(page, `/tenants/${tenant}/webhooks`);
    await expect(page.locator(`tr[data-id="${hooks[0]}"]`)).toContainText(longUrl);
    expect(await sideways()).toBeLessThanOrEqual(0);

    await open(page, `/tenants/${tenant}/deliveries?event_id=${event}`);
    const endpoints = page.getByTestId('delivery-endpoint');
    await expect(endpoints).toHaveCount(2);
    await expect(endpoints.filter({ hasText: longUrl })).toHaveCount(1);
    await expect(endpoints.filter({ hasText: `deleted ${hooks[1]}` })).toHaveCount(1);
    expect(await sideways()).toBeLessThanOrEqual(0);
  } finally {
    await receiver.close();
  }
});

test('the Webhooks page sets FIFO ordering and shows an open circuit, as does the dashboard', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Circuit e2e');
  const receiver = await startReceiver();
  receiver.answer(500);
  await signIn(page);
  await open(page, `/tenants/${tenant}/webhooks`);

  // FIFO is chosen in the form and shown on the row.
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const form = page.getByRole('form', { name: 'Add endpoint' });
  await form.getByLabel('URL').fill(receiver.url);
  await form.getByRole('checkbox', { name: 'new_lead' }).check();
  await form.getByLabel('Ordering').selectOption('fifo');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form).toHaveCount(0);
  const list = await (await request.get(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth })).json();
  const fifo = list.data[0];
  expect([fifo.ordering, fifo.circuit.state]).toEqual(['fifo', 'closed']);
  const fifoRow = page.locator(`tr[data-id="${fifo.id}"]`);
  await expect(fifoRow.getByTestId('ordering')).toContainText('FIFO');
  await expect(fifoRow.getByTestId('circuit')).toHaveCount(0);

  // A parallel endpoint whose receiver fails five times in a row: its circuit opens.
  const created = await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: { url: receiver.url, events: ['request_submitted'] } });
  expect(created.status()).toBe(201);
  const id = (await created.json()).id;
  for (let i = 0; i < 5; i++) {
    const res = await request.post(`/api/v1/tenants/${tenant}/events`, { headers: auth, data: { event_type: 'request_submitted', payload: { i } } });
    expect(res.status()).toBe(202);
  }
  await expect.poll(async () => (await (await request.get(`/api/v1/tenants/${tenant}/webhooks/${id}`, { headers: auth })).json()).circuit.state).toBe('open');
  await open(page, `/tenants/${tenant}/webhooks`);
  const row = page.locator(`tr[data-id="${id}"]`);
  await expect(row.getByTestId('circuit')).toHaveAttribute('data-state', 'open');
  await expect(row.getByTestId('circuit')).toContainText('Circuit open: deliveries wait until');
  await open(page, `/tenants/${tenant}/dashboard`);
  await expect(page.getByTestId('endpoint-health').locator(`tr[data-webhook="${id}"]`).getByTestId('endpoint-state')).toHaveText('circuit open');
  await receiver.close();
});

test('an admin pauses an endpoint, its deliveries wait and the dashboard says so, then resumes it; its secret rotation schedule shows', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Pause e2e');
  const receiver = await startReceiver();
  const created = await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: { url: receiver.url, events: ['new_lead'] } });
  expect(created.status()).toBe(201);
  const id = (await created.json()).id;
  // A secret rotation schedule shows its next turn on the row.
  const scheduled = await request.put(`/api/v1/tenants/${tenant}/webhooks/${id}/rotation-schedule`, { headers: auth, data: { every_days: 30 } });
  expect(scheduled.status()).toBe(200);
  await signIn(page);
  await open(page, `/tenants/${tenant}/webhooks`);
  const row = page.locator(`tr[data-id="${id}"]`);
  await expect(row.getByTestId('secret-rotation')).toContainText('Secret rotates every 30 days; next');
  await row.getByRole('button', { name: 'Pause' }).click();
  await expect(row.getByTestId('paused')).toHaveText('Paused until resumed: deliveries wait');
  const published = await request.post(`/api/v1/tenants/${tenant}/events`, { headers: auth, data: { event_type: 'new_lead', payload: { n: 1 } } });
  expect(published.status()).toBe(202);
  const delivery = (await published.json()).deliveries[0];
  await open(page, `/tenants/${tenant}/dashboard`);
  await expect(page.getByTestId('endpoint-health').locator(`tr[data-webhook="${id}"]`).getByTestId('endpoint-state')).toHaveText('paused');
  const waiting = await (await request.get(`/api/v1/tenants/${tenant}/webhook-deliveries/${delivery}`, { headers: auth })).json();
  expect([waiting.status, waiting.attempt_count, receiver.received.length]).toEqual(['pending', 0, 0]);

  await open(page, `/tenants/${tenant}/webhooks`);
  await row.getByRole('button', { name: 'Resume' }).click();
  await expect(row.getByTestId('paused')).toHaveCount(0);
  await expect.poll(() => receiver.received.length).toBe(1);
  await receiver.close();
});
