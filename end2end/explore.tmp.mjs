import { chromium } from '@playwright/test';
const base = 'http://127.0.0.1:3000';
const token = process.env.TOKEN;
const h = { Authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const post = async (p, body) => (await fetch(base + p, { method: 'POST', headers: h, body: JSON.stringify(body) })).json();
const t = await post('/api/v1/tenants', { name: 'Explore Co' });
const wh = await post(`/api/v1/tenants/${t.id}/webhooks`, { url: `${base}/echo/${t.id}/inbox`, events: ['*'], description: 'echo' });
const bad = await post(`/api/v1/tenants/${t.id}/webhooks`, { url: 'http://127.0.0.1:9/nothing', events: ['new_lead'], max_attempts: 2, backoff_base_seconds: 1 });
for (let i = 0; i < 3; i++) await post(`/api/v1/tenants/${t.id}/events`, { event_type: 'new_lead', payload: { n: i } });
await post(`/api/v1/tenants/${t.id}/api-keys`, { name: 'ci', role: 'read_write' });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.on('console', m => { if (m.type() === 'error') console.log('console error', m.text()); });
await page.goto(base + '/login');
await page.getByLabel('Token or API key').fill(token);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForTimeout(1500);
for (const p of ['', 'dashboard', 'webhooks', 'deliveries', 'dead-letters', 'echo', 'api-keys', 'audit', 'slack']) {
  await page.goto(p ? `${base}/tenants/${t.id}/${p}` : base + '/');
  await page.waitForTimeout(2500);
  await page.screenshot({ path: `/tmp/shots/${p || 'home'}.png`, fullPage: true });
}
await browser.close();
console.log('ok', t.id);
