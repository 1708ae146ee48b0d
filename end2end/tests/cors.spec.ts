import { test, expect } from '@playwright/test';
import * as http from 'node:http';
import { auth, createTenant } from './helpers';
import { corsPort } from '../playwright.config';

/** A page on another origin (another port of 127.0.0.1) with nothing on it: the test runs its
 * `fetch` there, as a browser application of an integrator would. */
async function servePage(port: number): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>integrator app</title><p>app</p>');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

test('a page on an allowed origin calls the REST API with a key; another origin is blocked by the browser', async ({ page, request, baseURL }) => {
  const tenant = await createTenant(request, 'CORS e2e');
  const made = await request.post(`/api/v1/tenants/${tenant}/api-keys`, { headers: auth, data: { name: 'browser app', role: 'admin' } });
  expect(made.status()).toBe(201);
  const key = (await made.json()).key as string;
  const allowed = await servePage(corsPort);
  const other = await servePage(corsPort + 1);
  try {
    // From the allowed origin: the preflight (JSON body, Authorization, Idempotency-Key) passes
    // and the page reads the answer and the rate-limit headers it is allowed to see.
    await page.goto(allowed.url);
    const result = await page.evaluate(async ({ hub, key }) => {
      const res = await fetch(`${hub}/api/v1/webhooks`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'cors-1' },
        body: JSON.stringify({ url: 'https://example.com/from-the-browser', events: ['new_lead'] }),
      });
      return { status: res.status, body: await res.json(), remaining: res.headers.get('X-RateLimit-Remaining') };
    }, { hub: baseURL, key });
    expect(result.status).toBe(201);
    expect(result.body.url).toBe('https://example.com/from-the-browser');
    expect(Number(result.remaining)).toBeGreaterThan(0);

    // From an origin not listed: the browser refuses to hand the answer to the page.
    await page.goto(other.url);
    const blocked = await page.evaluate(async ({ hub, key }) => {
      try {
        await fetch(`${hub}/api/v1/whoami`, { headers: { Authorization: `Bearer ${key}` } });
        return 'answered';
      } catch (e) {
        return `blocked: ${e}`;
      }
    }, { hub: baseURL, key });
    expect(blocked).toMatch(/^blocked: TypeError/);
    // The endpoint made from the allowed origin exists; nothing was made from the other.
    const list = await request.get(`/api/v1/tenants/${tenant}/webhooks`, { headers: auth });
    expect((await list.json()).data).toHaveLength(1);
  } finally {
    await allowed.close();
    await other.close();
  }
});
