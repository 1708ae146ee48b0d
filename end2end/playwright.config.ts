import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';

// Each run gets its own data folder, so the hub starts on an empty SQLite file.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-e2e-'));
const port = Number(process.env.IH_E2E_PORT ?? 3917);
export const slackPort = Number(process.env.IH_E2E_SLACK_PORT ?? 3919);
export const operatorToken = 'e2e-operator-token-0123456789abcdef';
// A page served on this port (another origin than the hub) may call the REST API; one on
// corsPort + 1 may not (cors.spec.ts).
export const corsPort = Number(process.env.IH_E2E_CORS_PORT ?? 3921);

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: {
          // Debian's Chromium: Playwright must never download a browser of its own.
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          args: [
            '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
          ],
        },
      },
    },
  ],
  webServer: [{
    // The fake Slack the hub's Slack connector posts to.
    command: 'node fake-slack.mjs',
    url: `http://127.0.0.1:${slackPort}/health`,
    reuseExistingServer: false,
    timeout: 10_000,
    env: { IH_E2E_SLACK_PORT: String(slackPort) },
  }, {
    command: process.env.IH_E2E_BINARY ?? '../target/debug/integrations-hub',
    url: `http://127.0.0.1:${port}/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      IH_BIND: `127.0.0.1:${port}`,
      IH_DATA_DIR: dataDir,
      IH_ADMIN_TOKEN: operatorToken,
      IH_SITE_ROOT: path.resolve(__dirname, '../target/site'),
      // The receivers of these tests listen on 127.0.0.1.
      IH_ALLOW_PRIVATE_TARGETS: 'true',
      IH_DELIVERY_POLL_INTERVAL_SECONDS: '1',
      IH_LOG_LEVEL: 'warn',
      IH_SLACK_API_BASE: `http://127.0.0.1:${slackPort}/api`,
      // Not the defaults, so that the pages' retention footnotes are seen to come from here.
      IH_RETENTION_DAYS: '45',
      IH_AUDIT_RETENTION_DAYS: '400',
      IH_CORS_ALLOWED_ORIGINS: `http://127.0.0.1:${corsPort}`,
    },
  }],
});
