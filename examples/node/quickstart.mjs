#!/usr/bin/env node
// Integrations Hub quick start, Node.js 18+ standard library only (fetch, http, crypto).
//
// Starts a receiver on 127.0.0.1, subscribes it to `new_lead`, publishes a lead, and verifies both
// signatures of the delivery (Standard Webhooks and the classic X-Webhook-Signature). Exits 0 when
// the delivery arrived and verified. Env: IH_URL (default http://127.0.0.1:3000), IH_API_KEY.
import crypto from 'node:crypto';
import http from 'node:http';

const HUB = (process.env.IH_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
const KEY = process.env.IH_API_KEY;
const TOLERANCE = 300; // seconds: refuse deliveries signed more than 5 minutes from now

async function api(method, path, body) {
  const res = await fetch(HUB + path, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((e) => { throw new Error(`cannot reach the hub at ${HUB}: ${e.cause?.message ?? e.message}`); });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const fresh = (ts) => /^\d+$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) <= TOLERANCE;
const same = (a, b) => a.length === b.length && crypto.timingSafeEqual(a, b);

// webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">, space-separated.
function verifyStandard(secret, headers, body /* Buffer */) {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
  const id = headers['webhook-id'] ?? '', ts = headers['webhook-timestamp'] ?? '';
  if (!fresh(ts)) return false;
  const mac = crypto.createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64');
  const expected = Buffer.from(`v1,${mac}`);
  return (headers['webhook-signature'] ?? '').split(' ').some((s) => same(Buffer.from(s), expected));
}

// X-Webhook-Signature: hex HMAC-SHA256 of "{timestamp}.{body}", keyed by the secret's bytes.
function verifyClassic(secret, headers, body) {
  const ts = headers['x-webhook-timestamp'] ?? '';
  if (!fresh(ts)) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${ts}.`).update(body).digest('hex');
  return same(Buffer.from(headers['x-webhook-signature'] ?? ''), Buffer.from(expected));
}

let secret; // set once the endpoint exists
let onDelivery;
const delivered = new Promise((resolve) => (onDelivery = resolve));
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const ok = [verifyStandard(secret, req.headers, body), verifyClassic(secret, req.headers, body)];
    res.writeHead(ok.every(Boolean) ? 204 : 401).end(); // a 4xx tells the hub not to retry
    onDelivery({ headers: req.headers, body, ok });
  });
});

async function main() {
  if (!KEY) throw new Error('set IH_API_KEY to an API key (sk_...)');
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/webhooks`;

  // The key-scoped route: the endpoint belongs to the key's tenant. The hub generates a `whsec_`
  // secret, which the endpoint's secret route reveals.
  const endpoint = await api('POST', '/api/v1/subscriptions', { url, events: ['new_lead'] });
  const path = `/api/v1/tenants/${endpoint.tenant_id}/webhooks/${endpoint.id}`;
  console.log(`endpoint ${endpoint.id} -> ${url}`);
  try {
    secret = (await api('GET', `${path}/secret`)).secret;
    const lead = { lead_id: 'lead_42', name: 'Ada Lovelace', email: 'ada@example.com',
      company: 'Analytical Engines', source: 'node-quickstart' };
    const event = await api('POST', '/api/v1/events', { event_type: 'new_lead', payload: lead });
    console.log(`published ${event.id} (${event.deliveries.length} deliveries)`);

    let timer;
    const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no delivery within 30 s')), 30_000)));
    const { headers, body, ok: [standardOk, classicOk] } = await Promise.race([delivered, timeout]);
    clearTimeout(timer);
    console.log(`received webhook-id ${headers['webhook-id']}: ${body}`);
    console.log(`Standard Webhooks signature: ${standardOk ? 'valid' : 'INVALID'}`);
    console.log(`X-Webhook-Signature:         ${classicOk ? 'valid' : 'INVALID'}`);
    if (!standardOk || !classicOk || headers['webhook-id'] !== event.id) throw new Error('verification failed');
    if (JSON.parse(body).data.email !== lead.email) throw new Error('the payload differs from what was published');
    console.log('ok');
  } finally {
    await api('DELETE', path);
  }
}

main()
  .catch((e) => { console.error(e.message); process.exitCode = 1; })
  .finally(() => { server.closeAllConnections(); server.close(); });
