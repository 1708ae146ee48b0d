import { test, expect } from '@playwright/test';
import { auth, createTenant, signIn, open } from './helpers';
import { slackPort } from '../playwright.config';

const fakeSlack = `http://127.0.0.1:${slackPort}`;

async function slackPosts(): Promise<any[]> {
  const res = await fetch(`${fakeSlack}/posts`);
  return res.json();
}

test('the Slack page connects a channel, sends a test message and shows what Slack said', async ({ page, request }) => {
  const tenant = await createTenant(request, 'Slack e2e');
  const before = (await slackPosts()).length;
  await signIn(page);
  await open(page, `/tenants/${tenant}/slack`);

  // This hub has no default token or channel: both are required, shown next to their fields.
  await page.getByRole('button', { name: 'Connect Slack' }).click();
  await expect(page.locator('[data-field="bot_token"]')).toContainText('IH_SLACK_BOT_TOKEN');
  await expect(page.locator('[data-field="channel"]')).toContainText('IH_SLACK_DEFAULT_CHANNEL');

  await page.getByLabel('Bot token').fill('xoxb-e2e-token');
  await page.getByLabel('Channel').fill('#requests');
  await page.getByLabel('webhook.failing (alert)').check();
  await page.getByRole('button', { name: 'Connect Slack' }).click();
  await expect(page.getByTestId('slack-saved')).toBeVisible();
  await expect(page.getByTestId('slack-status')).toContainText('posting to #requests');
  await expect(page.getByTestId('slack-status')).toContainText('Token: set on this connector');
  // The token is never sent back to the browser.
  await expect(page.getByLabel('Bot token')).toHaveValue('');
  expect(await page.content()).not.toContain('xoxb-e2e-token');

  await page.getByRole('button', { name: 'Send a test message' }).click();
  await expect(page.getByTestId('slack-test-result')).toContainText('delivered');
  await expect(page.getByTestId('slack-test-result')).toContainText('Posted: HTTP 200');
  const posts = await slackPosts();
  expect(posts.length).toBe(before + 1);
  expect(posts[posts.length - 1].channel).toBe('#requests');

  // A published request reaches Slack through the delivery engine.
  const res = await request.post(`/api/v1/tenants/${tenant}/events`, {
    headers: auth, data: { event_type: 'request_submitted', payload: { title: 'Badge for Grace', requester: 'Grace Hopper' } },
  });
  expect(res.status()).toBe(202);
  await expect.poll(async () => (await slackPosts()).map((p) => p.text)).toContain('Badge for Grace — Grace Hopper');

  // A channel Slack does not know: the test shows Slack's refusal, dead-lettered at once.
  await page.getByLabel('Channel').fill('#missing');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('slack-status')).toContainText('posting to #missing');
  await page.getByRole('button', { name: 'Send a test message' }).click();
  await expect(page.getByTestId('slack-test-result')).toContainText('dead_letter');
  await expect(page.getByTestId('slack-test-result')).toContainText('channel_not_found');

  // Removed, the page offers to connect again.
  await page.getByRole('button', { name: 'Remove…' }).click();
  await page.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Connect Slack' })).toBeVisible();
});
