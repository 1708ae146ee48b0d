// A local stand-in for Slack's Web API for the end-to-end tests (the hub's IH_SLACK_API_BASE
// points here). chat.postMessage is checked as Slack would: the bearer token, JSON, a known
// channel, a text; failures answer HTTP 200 with ok:false and Slack's error code.
// GET /posts lists what was accepted; GET /health tells Playwright it is up.
import * as http from 'node:http';

const port = Number(process.env.IH_E2E_SLACK_PORT ?? 3919);
const token = 'xoxb-e2e-token';
const channels = new Set(['#requests', '#ops']);
const posts = [];

const send = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/health') return send(res, 200, { ok: true });
    if (req.method === 'GET' && req.url === '/posts') return send(res, 200, posts);
    if (req.method !== 'POST' || req.url !== '/api/chat.postMessage') return send(res, 404, { ok: false, error: 'unknown_method' });
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) return send(res, 200, { ok: false, error: 'not_authed' });
    if (auth !== `Bearer ${token}`) return send(res, 200, { ok: false, error: 'invalid_auth' });
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 200, { ok: false, error: 'invalid_arguments' });
    let message;
    try { message = JSON.parse(body); } catch { return send(res, 200, { ok: false, error: 'invalid_json' }); }
    if (!channels.has(message.channel)) return send(res, 200, { ok: false, error: 'channel_not_found' });
    if (!message.text) return send(res, 200, { ok: false, error: 'no_text' });
    posts.push(message);
    send(res, 200, { ok: true, channel: message.channel, ts: `${Date.now() / 1000}` });
  });
}).listen(port, '127.0.0.1');
