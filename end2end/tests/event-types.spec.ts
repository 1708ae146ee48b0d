import { test, expect } from '@playwright/test';
import { auth, createTenant, signIn, startReceiver, open } from './helpers';

test('an admin registers an event type with a schema, a test event that fails it is refused with the reason, and a transformation is tried before it is saved', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Event types e2e');
  const receiver = await startReceiver();
  await signIn(page);
  await open(page, `/tenants/${tenant}/event-types`);
  const table = page.getByTestId('event-types');
  await expect(table.locator('tr[data-type="new_lead"]')).toContainText('built-in');
  await table.locator('tr[data-type="new_lead"]').getByRole('button', { name: 'View' }).click();
  await expect(page.getByTestId('schema-view')).toContainText('lead_id');
  await expect(page.getByTestId('example-view')).toContainText('lead_77');

  await page.getByRole('button', { name: 'New event type' }).click();
  const form = page.getByRole('form', { name: 'New event type' });
  await form.getByLabel('Name').fill('order.paid');
  // Not JSON: caught on the page. Not a schema: the server names the path.
  await form.getByLabel('JSON Schema').fill('{"type": ');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByTestId('problem-fields')).toContainText('not valid JSON');
  await form.getByLabel('JSON Schema').fill('{"type": "nonsense"}');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByTestId('problem-fields')).toContainText('schema/type');
  await form.getByLabel('JSON Schema').fill('{"type": "object", "required": ["order_id", "amount"], "properties": {"amount": {"type": "number"}}}');
  await form.getByLabel('Example').fill('{"order_id": "o_1", "amount": 12.5}');
  await form.getByRole('checkbox', { name: /Validate published payloads/ }).check();
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form).toHaveCount(0);
  const row = table.locator('tr[data-type="order.paid"]');
  await expect(row.getByTestId('validate')).toHaveText('on');

  // The Test dialog starts from the type's example and checks the payload before sending.
  const made = await request.post(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth, data: { url: receiver.url, events: ['order.paid'] } });
  expect(made.status()).toBe(201);
  await open(page, `/tenants/${tenant}/webhooks`);
  await page.getByTestId('webhooks').locator('tr[data-id]').first().getByRole('button', { name: 'Test' }).click();
  const dialog = page.getByRole('dialog', { name: 'Send a test event' });
  await expect(dialog.getByLabel('Payload')).toHaveValue(/"o_1"/);
  await dialog.getByLabel('Payload').fill('{"amount": "twelve"}');
  await dialog.getByRole('button', { name: 'Send' }).click();
  const problem = dialog.getByTestId('problem-fields');
  await expect(problem).toContainText('payload/amount');
  await expect(problem).toContainText('order_id');
  expect(receiver.received.length).toBe(0);
  await dialog.getByLabel('Payload').fill('{"order_id": "o_2", "amount": 3}');
  await dialog.getByRole('button', { name: 'Send' }).click();
  await expect(dialog.getByTestId('test-result')).toContainText('delivered');

  await dialog.getByRole('button', { name: 'Close' }).click();

  // A transformation, tried on the latest events before it is saved.
  await page.getByTestId('webhooks').locator('tr[data-id]').first().getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: 'Edit endpoint' });
  await edit.getByTestId('transformation').fill('{');
  await edit.getByRole('button', { name: 'Try it on the latest events' }).click();
  await expect(edit.getByTestId('problem-fields')).toContainText('transformation');
  await edit.getByTestId('transformation').fill('{kind: .type, amount: .data.amount}');
  await edit.getByRole('button', { name: 'Try it on the latest events' }).click();
  await expect(edit.getByTestId('try-results')).toContainText('"kind":"order.paid"');
  await expect(edit.getByTestId('try-results')).toContainText('"amount":3');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toHaveCount(0);
  await expect(page.getByTestId('webhooks').locator('tr[data-id]').first().getByTestId('transformed')).toBeVisible();

  // Publishing through the API is refused the same way.
  const refused = await request.post(`/api/v1/tenants/${tenant}/events`, { headers: auth, data: { event_type: 'order.paid', payload: { amount: 1 } } });
  expect(refused.status()).toBe(422);
  await receiver.close();
});
