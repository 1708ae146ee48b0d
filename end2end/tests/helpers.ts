import { APIRequestContext, expect, Page } from '@playwright/test';
import * as http from 'node:http';
import * as crypto from 'node:crypto';
import { AddressInfo } from 'node:net';
import { operatorToken } from '../playwright.config';

export { operatorToken };

export const auth = { Authorization: `Bearer ${operatorToken}` };

/** A key's rate limit counts over the calendar minute: a test that spends a small limit and
 * expects the next request to be refused waits, when less than five seconds of the minute are
 * left, for the next one (else the window could turn in between, about once in 10,000 runs). */
export async function clearOfAMinuteBoundary(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute >= 55_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 10));
}

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on 127.0.0.1 that records every request and answers 204 (or the
 * status set with `answer`). */
export async function startReceiver(): Promise<{ url: string; received: Received[]; answer: (status: number) => void; close: () => Promise<void> }> {
  const received: Received[] = [];
  let status = 204;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 400 ? `receiver says ${status}` : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    answer: (s: number) => { status = s; },
    // close() alone waits for every open connection to end: one the hub holds open without a
    // request in flight (its client's pool) kept a CI run waiting past the test's timeout after
    // every assertion had passed. The test is over, so its connections are cut.
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

/** Standard Webhooks verification, as an integrator would write it. */
export function verifySignature(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signed = `${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`;
  const expected = 'v1,' + crypto.createHmac('sha256', key).update(signed).digest('base64');
  return String(r.headers['webhook-signature']).split(' ').includes(expected);
}

export async function createTenant(request: APIRequestContext, name: string): Promise<string> {
  const res = await request.post('/api/v1/tenants', { headers: auth, data: { name } });
  expect(res.status()).toBe(201);
  return (await res.json()).id;
}

export async function signIn(page: Page, token = operatorToken) {
  await page.goto('/login');
  await page.getByLabel('Token or API key').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('actor')).toBeVisible();
}

/** Opens a signed-in page and waits until its wasm has hydrated it (the frame marks `<html>`),
 * so that controls which only work in the browser, such as the tenant switcher, are live. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('html[data-hydrated]')).toBeAttached();
}
