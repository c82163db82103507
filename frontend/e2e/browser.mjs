// Headless Debian Chromium driven by playwright-core (never a downloaded
// browser), against the gateway of a running fleet.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

export const GATEWAY = (process.env.SHOP_GATEWAY_URL ?? 'http://127.0.0.1:9000').replace(/\/$/, '');
export const CHROMIUM = process.env.SHOP_CHROMIUM ?? '/usr/bin/chromium';
export const OUTPUT = process.env.SHOP_E2E_OUTPUT ?? path.join(repoRoot, 'test-output', 'e2e');
// the sanitizer fleet is several times slower: every wait scales with this
export const SLOW = Number(process.env.SHOP_E2E_SLOWDOWN ?? 1) || 1;
export const TIMEOUT = 15000 * SLOW;

export async function launch() {
  mkdirSync(OUTPUT, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // as root in a sandbox without a network: no sandbox, nothing that
    // calls home (the machine refuses such connections)
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** A fresh page (own cookies and storage) that fails the test on a page error. */
export async function newPage(browser, { width = 1280, height = 900, isMobile = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, isMobile, hasTouch: isMobile, baseURL: GATEWAY });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

export async function shot(page, name, opts = {}) {
  const file = path.join(OUTPUT, `${name}.png`);
  await page.screenshot({ path: file, ...opts });
  return file;
}

export async function api(pathname, { method = 'GET', token, body } = {}) {
  const res = await fetch(GATEWAY + pathname, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(TIMEOUT),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text };
}
