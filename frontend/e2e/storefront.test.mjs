// The storefront in a real browser against the real fleet: browse, search
// with a typo, register, add two products, check out with the succeeding
// card (confirmed) and the declined one (failed), the order history, a
// revoked session, field errors, the API down, a phone-sized screen.
// Screenshots of each main page go to test-output/e2e/ (SHOP_E2E_OUTPUT).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GATEWAY, SLOW, TIMEOUT, api, launch, newPage, shot } from './browser.mjs';

const ORDER_TIMEOUT = 30000 * SLOW;

let browser;
before(async () => {
  const health = await api('/health').catch((e) => ({ status: 0, text: String(e) }));
  assert.equal(health.status, 200, `the gateway at ${GATEWAY} must answer /health: ${health.text}`);
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Seeded products with enough stock for a test (never ones tests create). */
async function productsInStock(n) {
  const r = await api('/api/products?sort=name&page_size=100');
  assert.equal(r.status, 200);
  const ok = r.json.items.filter((p) => !p.sku.startsWith('ITEST-') && p.stock >= 10 && p.image_url);
  assert.ok(ok.length >= n, `need ${n} seeded products with stock >= 10, found ${ok.length}`);
  return ok.slice(0, n);
}

/** The grid once the results of the current URL are in (the previous
 * results stay on screen, dimmed and aria-busy, while new ones load). */
async function settledGrid(page) {
  await page.locator('ul[aria-label="Products"][aria-busy="false"]').waitFor();
}

function noPageErrors(page) {
  assert.deepEqual(page.errors, [], `errors in the page: ${page.errors.join('; ')}`);
}

async function fillAddress(page) {
  await page.getByLabel('Full name').fill('Grace Hopper');
  await page.getByLabel('Address', { exact: true }).fill('10 Downing Street');
  await page.getByLabel('City').fill('London');
  await page.getByLabel('Postal code').fill('SW1A 2AA');
  await page.getByLabel('Country').fill('GB');
}

async function cartCount(page) {
  return Number(await page.getByTestId('cart-count').textContent());
}

describe('storefront (Chromium)', { timeout: 300000 * SLOW }, () => {
  it('browses the catalog, filters by category, opens a product', async () => {
    const page = await newPage(browser);
    await page.goto('/');
    await page.getByTestId('product-card').first().waitFor();
    const cards = await page.getByTestId('product-card').count();
    assert.ok(cards >= 4, `the grid shows products (${cards})`);
    // images load (no broken image)
    const img = page.locator('.card img').first();
    await img.waitFor();
    assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth > 0), 'the first product image loads');
    await shot(page, '01-catalog');

    await page.getByRole('button', { name: 'Books', exact: true }).click();
    await page.waitForURL(/category=books/);
    await page.getByRole('heading', { level: 1, name: 'Books' }).waitFor();
    await settledGrid(page);
    const names = await page.locator('.card-title').allTextContents();
    const books = (await api('/api/products?category=books&page_size=12')).json.items.map((p) => p.name);
    assert.deepEqual(names, books, 'the grid shows what the API says is in Books');

    await page.getByTestId('product-card').first().locator('a').click();
    await page.waitForURL(/\/products\//);
    await page.getByRole('button', { name: /Add .* to cart/ }).waitFor();
    const id = page.url().split('/products/')[1];
    const p = (await api(`/api/products/${id}`)).json;
    await page.getByRole('heading', { level: 1, name: p.name }).waitFor();
    assert.match(await page.locator('.product-price').textContent(), /^\$[\d,]+\.\d\d$/);
    assert.ok((await page.locator('.description').textContent()).includes(p.description.slice(0, 20)));
    await shot(page, '02-product');
    noPageErrors(page);
    await page.context().close();
  });

  it('searches with a typo and finds the right products', async () => {
    const page = await newPage(browser);
    await page.goto('/');
    await page.getByTestId('product-card').first().waitFor();
    await page.getByRole('searchbox', { name: 'Search products' }).pressSequentially('hedphones', { delay: 40 });
    await page.waitForURL(/q=hedphones/);
    await page.getByRole('heading', { level: 1, name: 'Results for “hedphones”' }).waitFor();
    await settledGrid(page);
    const names = await page.locator('.card-title').allTextContents();
    assert.ok(names.length > 0 && names.every((n) => /headphone/i.test(n)), `only headphones for "hedphones": ${names}`);
    await shot(page, '03-search-typo');
    noPageErrors(page);
    await page.context().close();
  });

  describe('a new shopper', () => {
    let page;
    const email = `e2e-${randomUUID().slice(0, 8)}@example.com`;
    let products;

    before(async () => {
      products = await productsInStock(3);
      page = await newPage(browser);
    });
    after(async () => {
      await page?.context().close();
    });

    it('registers, and stays logged in across a reload', async () => {
      await page.goto('/register');
      await page.getByLabel('Name').fill('Grace Hopper');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('short');
      await page.getByRole('button', { name: 'Create account' }).click();
      // the API's field error, under the field
      await page.locator('#reg-password-error').waitFor();
      assert.match(await page.locator('#reg-password-error').textContent(), /at least 8/);
      await shot(page, '04-register-errors');
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${GATEWAY}/`);
      await page.locator('.who', { hasText: 'Grace Hopper' }).waitFor();
      await page.reload();
      await page.locator('.who', { hasText: 'Grace Hopper' }).waitFor();
      assert.equal(await cartCount(page), 0);
    });

    it('adds two products, one from the grid and one from its page; the badge follows', async () => {
      const [a, b] = products;
      await page.goto(`/?q=${encodeURIComponent(a.name)}`);
      await page.getByRole('button', { name: `Add ${a.name} to cart` }).first().click();
      await page.waitForFunction(() => document.querySelector('[data-testid=cart-count]')?.textContent === '1');
      await page.goto(`/products/${b.id}`);
      await page.getByLabel('Quantity').selectOption('2');
      await page.getByRole('button', { name: `Add ${b.name} to cart` }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid=cart-count]')?.textContent === '3');

      await page.getByRole('link', { name: /^Cart, 3 items$/ }).click();
      await page.waitForURL(/\/cart$/);
      await page.getByTestId('cart-line').nth(1).waitFor();
      assert.equal(await page.getByTestId('cart-line').count(), 2);
      const cart = (await api('/api/cart', { token: await tokenOf(page) })).json;
      assert.equal(cart.item_count, 3);
      const total = await page.locator('.summary-row.total').textContent();
      assert.ok(total.includes((cart.total_cents / 100).toFixed(2)), `the total ${total} is the cart's ${cart.total_cents}`);

      // change a quantity, and back
      await page.getByRole('button', { name: `One fewer ${b.name}` }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid=cart-count]')?.textContent === '2');
      await page.getByRole('button', { name: `One more ${b.name}` }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid=cart-count]')?.textContent === '3');
      await shot(page, '05-cart');
    });

    it('checks out with the succeeding card and watches the order become confirmed', async () => {
      const [a, b] = products;
      const before = Object.fromEntries(
        await Promise.all([a, b].map(async (p) => [p.id, (await api(`/api/products/${p.id}`)).json.stock])),
      );
      await page.getByRole('link', { name: 'Check out' }).click();
      await page.waitForURL(/\/checkout$/);
      // nothing filled in: the API's field errors under each field
      await page.getByLabel('Full name').fill('');
      await page.getByRole('button', { name: 'Place order' }).click();
      await page.locator('#ship-city-error').waitFor();
      assert.match(await page.locator('#ship-city-error').textContent(), /must/);
      await shot(page, '06-checkout-errors');

      await fillAddress(page);
      await page.getByLabel(/Visa ending 4242/).check();
      await shot(page, '07-checkout');
      await page.getByRole('button', { name: 'Place order' }).click();
      await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
      await page.getByRole('heading', { name: 'Your order is confirmed' }).waitFor({ timeout: ORDER_TIMEOUT });
      assert.equal(await page.getByTestId('order-status').textContent(), 'Confirmed');
      await page.getByTestId('payment').getByText('Succeeded').waitFor();
      // the confirmation email, once the email service has sent it
      await page.getByTestId('emails').getByText('Order confirmation').waitFor({ timeout: ORDER_TIMEOUT });
      await page.getByTestId('emails').locator('.pill-sent').waitFor({ timeout: ORDER_TIMEOUT });
      await shot(page, '08-order-confirmed', { fullPage: true });

      // the cart is empty, the badge says so, the stock went down
      await page.waitForFunction(() => document.querySelector('[data-testid=cart-count]')?.textContent === '0', null, {
        timeout: ORDER_TIMEOUT,
      });
      const cart = (await api('/api/cart', { token: await tokenOf(page) })).json;
      assert.equal(cart.item_count, 0);
      const afterA = (await api(`/api/products/${a.id}`)).json.stock;
      const afterB = (await api(`/api/products/${b.id}`)).json.stock;
      assert.ok(afterA <= before[a.id] - 1 && afterB <= before[b.id] - 2, 'the stock went down');
      noPageErrors(page);
    });

    it('checks out with the declined card and sees it fail, plainly', async () => {
      const [, , c] = products;
      await page.goto(`/products/${c.id}`);
      await page.getByRole('button', { name: `Add ${c.name} to cart` }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid=cart-count]')?.textContent === '1');
      await page.goto('/checkout');
      await fillAddress(page);
      await page.getByLabel(/Visa ending 0002/).check();
      await page.getByRole('button', { name: 'Place order' }).click();
      await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
      await page.getByRole('heading', { name: 'Your payment failed' }).waitFor({ timeout: ORDER_TIMEOUT });
      assert.match(await page.locator('.headline-failed').textContent(), /the card was declined/);
      assert.equal(await page.getByTestId('order-status').textContent(), 'Failed');
      await page.getByTestId('payment').getByText(/Declined/).waitFor();
      await page.getByTestId('emails').getByText('Payment failed').waitFor({ timeout: ORDER_TIMEOUT });
      await shot(page, '09-order-failed', { fullPage: true });
      noPageErrors(page);
    });

    it('sees the order history, newest first, and an order’s timeline', async () => {
      await page.getByRole('link', { name: 'Orders', exact: true }).click();
      await page.waitForURL(/\/orders$/);
      await page.getByTestId('order-row').nth(1).waitFor();
      const statuses = await page.getByTestId('order-status').allTextContents();
      assert.deepEqual(statuses, ['Failed', 'Confirmed']);
      await shot(page, '10-order-history');
      await page.getByTestId('order-row').nth(1).locator('a').click();
      await page.getByRole('list', { name: 'Order status history' }).waitFor();
      const steps = await page.locator('.timeline .tl-label').allTextContents();
      assert.deepEqual(steps, ['Order placed', 'Payment received, order confirmed']);
    });

    it('a revoked token sends the shopper back to log in with a message', async () => {
      const token = await tokenOf(page);
      const out = await api('/api/auth/logout', { method: 'POST', token });
      assert.equal(out.status, 204);
      await page.goto('/cart');
      await page.waitForURL(/\/login/, { timeout: TIMEOUT });
      await page.getByText('Your session has ended. Please log in again.').waitFor();
      await shot(page, '11-session-ended');
      // and logging in again works
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await page.waitForURL(/\/cart$/);
      await page.locator('.who', { hasText: 'Grace Hopper' }).waitFor();
      noPageErrors(page);
    });
  });

  it('logs in as the test user with the development shortcut', async () => {
    const page = await newPage(browser);
    await page.goto('/login');
    await page.getByRole('button', { name: 'Log in as test user' }).click();
    await page.waitForURL(`${GATEWAY}/`);
    await page.locator('.who', { hasText: 'Pain Test' }).waitFor();
    await page.context().close();
  });

  it('the API down: a retry banner, and Retry brings the page back', async () => {
    const page = await newPage(browser);
    // the browser's requests to the catalog fail as if the network were gone
    await page.route('**/api/products**', (route) => route.abort('connectionrefused'));
    await page.goto('/');
    await page.getByText('The shop is having trouble right now.').waitFor();
    await shot(page, '12-api-down');
    await page.unroute('**/api/products**');
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByTestId('product-card').first().waitFor();
    assert.equal(await page.getByText('The shop is having trouble right now.').count(), 0);
    await page.context().close();
  });

  it('works on a phone-sized screen', async () => {
    const page = await newPage(browser, { width: 390, height: 844, isMobile: true });
    await page.goto('/');
    await page.getByTestId('product-card').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow}px too wide)`);
    await shot(page, '13-phone-catalog');
    await page.getByTestId('product-card').first().locator('a').click();
    await page.getByRole('button', { name: /Add .* to cart|sold out/ }).waitFor();
    const overflow2 = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow2 <= 0, `the product page fits a phone (${overflow2}px too wide)`);
    await shot(page, '14-phone-product');
    noPageErrors(page);
    await page.context().close();
  });

  it('is usable with the keyboard alone: skip link, search, a product', async () => {
    const page = await newPage(browser);
    await page.goto('/');
    await page.getByTestId('product-card').first().waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    // every image has a text alternative
    const missingAlt = await page.evaluate(() => [...document.images].filter((i) => !i.alt).length);
    assert.equal(missingAlt, 0, 'every image has alt text');
    // every form control has a label
    const unlabelled = await page.evaluate(
      () => [...document.querySelectorAll('input, select')].filter((e) => !e.labels?.length && !e.getAttribute('aria-label')).length,
    );
    assert.equal(unlabelled, 0, 'every input and select has a label');
    await page.context().close();
  });
});

async function tokenOf(page) {
  const raw = await page.evaluate(() => localStorage.getItem('shop.session'));
  assert.ok(raw, 'a session is stored');
  return JSON.parse(raw).token;
}
