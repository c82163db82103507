// The cart service through the gateway and on the cart daemon directly:
// one cart per user (the user id comes from the token only), adding
// (merging into a line, stock, 99 of one product, 100 products, one
// currency), setting and removing lines, emptying the cart, the price rule
// (current product values, the price when added, deleted products shown
// unavailable), every bad input (malformed JSON, wrong types, missing and
// unknown fields, out-of-range numbers, unknown ids, other users' ids),
// tokens (missing, forged, revoked, a subject that is no user id),
// concurrent changes, the internal routes (the cart's GET /internal/carts
// and the product service's batch lookup), and /health, /ready, /metrics,
// X-Request-ID.
//
// Every user is fresh (a random UUID sub with a minted token); products are
// this file's own (sku ITEST-<run>-cart-<n>), created, changed and deleted
// while it holds the catalog lock, so the read-only catalog checks never
// see them come and go.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { env } from './lib/env.mjs';
import { client, show, assertJson, assertProblem, assertStatus, waitForHealthy, once, itAfter } from './lib/http.mjs';
import { acquireCatalogLock, getCategories } from './lib/catalog.mjs';
import { adminToken, badTokenMakers, mintToken } from './lib/jwt.mjs';
import { forgeriesFor, nonBearerAuths, registerUser } from './lib/users.mjs';
import {
	EMPTY_CART, MAX_LINES, MAX_QUANTITY, assertCart, assertCartAnswer, cartApi, internalToken, lineOf, linesOf,
	metricValue, productFactory, shopper, unknownId,
} from './lib/cart.mjs';

const gwHttp = client(env.gatewayUrl);
const cartHttp = client(env.cartUrl);
const productHttp = client(env.productUrl);
const gw = cartApi(gwHttp);
const direct = cartApi(cartHttp);
const targets = [
	{ label: 'gateway', api: gw },
	{ label: 'cart daemon', api: direct },
];

let release;
let products; // through the gateway
let bulk; // on the product daemon directly (many products at once)

const setup = once(async () => {
	await waitForHealthy(env.gatewayUrl);
	await waitForHealthy(env.cartUrl);
	await waitForHealthy(env.productUrl);
	adminToken(); // fail early, with the key path, when the key is unusable
	internalToken();
	release = await acquireCatalogLock();
	const cats = await getCategories(gwHttp);
	assert.ok(cats.length > 0, 'need at least one category');
	products = productFactory(gwHttp, { tag: 'cart', category: cats[0].slug });
	bulk = productFactory(productHttp, { tag: 'cartbulk', category: cats[0].slug });
});
const it = itAfter(setup, nodeIt);

after(async () => {
	try {
		await products?.sweep();
		await bulk?.sweep();
	} finally {
		release?.();
	}
});

/** The cart now (200, shape-checked). */
async function cartOf(user, api = gw, opts = {}) {
	return assertCartAnswer(await api.get(user.token), `GET /api/cart (${api === gw ? 'gateway' : 'cart daemon'})`, opts);
}

/** Adds and asserts 200; returns the cart. */
async function addOk(user, productId, quantity, api = gw) {
	return assertCartAnswer(await api.add(user.token, productId, quantity), `POST /api/cart/items ${productId} x${quantity}`);
}

/** Sends `raw` bytes as application/json (or `contentType`). */
function sendRaw(api, method, path, user, raw, contentType = 'application/json') {
	return api.http.send(method, path, { token: user.token, body: raw, contentType });
}

/** The field names of a 400 problem. */
const fieldsOf = (p) => (p.errors ?? []).map((e) => e.field).sort();

// ---------------------------------------------------------------- GET /api/cart

describe('GET /api/cart', () => {
	it('a new user has the empty cart: items [], item_count 0, total_cents 0, USD, updated_at null; Cache-Control: no-store', async () => {
		const u = shopper();
		for (const { label, api } of targets) {
			const res = await api.get(u.token);
			const cart = assertCartAnswer(res, `${label} GET /api/cart (new user)`, { prices: 'current' });
			assert.deepEqual(cart, EMPTY_CART, `${label}: the cart of a user who never had one\n${show(res)}`);
		}
	});

	it('reading a cart creates nothing: it stays the empty cart, also after a clear of nothing', async () => {
		const u = shopper();
		await cartOf(u);
		await cartOf(u, direct);
		const res = await gw.clear(u.token);
		assertStatus(res, 204, 'DELETE /api/cart of a user with no cart');
		assert.deepEqual(await cartOf(u), EMPTY_CART, 'the cart of a user who never added anything stays the empty cart (updated_at null)');
	});
});

// ---------------------------------------------------------------- POST /api/cart/items

describe('POST /api/cart/items', () => {
	it('adds a line with the product\'s current values: 200 and the whole cart', async () => {
		const p = await products.create({ price_cents: 1234, stock: 20 });
		const u = shopper();
		const before = Date.now();
		const res = await gw.add(u.token, p.id, 3);
		const cart = assertCartAnswer(res, 'POST /api/cart/items', { prices: 'current' });
		assert.deepEqual(cart.items, [{
			product_id: p.id, sku: p.sku, name: p.name, unit_price_cents: 1234, added_price_cents: 1234,
			quantity: 3, line_total_cents: 3702, available: true,
		}], `the cart must hold exactly the new line\n${show(res)}`);
		assert.equal(cart.item_count, 3);
		assert.equal(cart.total_cents, 3702);
		assert.equal(cart.currency, 'USD');
		assert.ok(Math.abs(Date.parse(cart.updated_at) - before) < 5 * 60 * 1000, `updated_at must be now: ${cart.updated_at}`);
		assert.deepEqual(await cartOf(u), cart, 'GET /api/cart must show what the add answered');
		assert.deepEqual(await cartOf(u, direct), cart, 'the cart daemon directly shows the same cart');
	});

	it('merges into the existing line (also for an upper-case id); lines stay oldest first', async () => {
		const [a, b, c] = await Promise.all([products.create(), products.create(), products.create()]);
		const u = shopper();
		await addOk(u, a.id, 2);
		await addOk(u, b.id, 1);
		await addOk(u, c.id, 1);
		let cart = await addOk(u, a.id, 3);
		assert.deepEqual(linesOf(cart), [`${a.id}:5`, `${b.id}:1`, `${c.id}:1`], 'adding again merges into the line and keeps its place');
		cart = await addOk(u, c.id.toUpperCase(), 2);
		assert.deepEqual(linesOf(cart), [`${a.id}:5`, `${b.id}:1`, `${c.id}:3`], 'an upper-case product id is the same product (one line, lower-case id)');
		cart = assertCartAnswer(await gw.set(u.token, b.id, 4), 'PUT b 4');
		assert.deepEqual(linesOf(cart), [`${a.id}:5`, `${b.id}:4`, `${c.id}:3`], 'PUT keeps the line\'s place');
		assertCartAnswer(await gw.remove(u.token, a.id), 'DELETE a');
		cart = await addOk(u, a.id, 1);
		assert.deepEqual(linesOf(cart), [`${b.id}:4`, `${c.id}:3`, `${a.id}:1`], 'a line removed and added again is the newest');
		assert.equal(cart.item_count, 8);
		assert.deepEqual(linesOf(await cartOf(u)), linesOf(cart));
	});

	it('accepts Content-Type: application/json; charset=utf-8', async () => {
		const p = await products.create();
		const u = shopper();
		const res = await gw.add(u.token, p.id, 1, { headers: { 'content-type': 'application/json; charset=utf-8' } });
		const cart = assertCartAnswer(res, 'POST with charset=utf-8');
		assert.deepEqual(linesOf(cart), [`${p.id}:1`]);
	});

	it('an unknown product is a 404 problem and changes nothing', async () => {
		const u = shopper();
		const id = unknownId();
		for (const { label, api } of targets) {
			const res = await api.add(u.token, id, 1);
			const p = assertProblem(res, 404, { what: `${label} add an unknown product` });
			assert.equal(p.detail, `product '${id}' not found`, `${label}: the 404 names the product\n${show(res)}`);
		}
		assert.deepEqual(await cartOf(u), EMPTY_CART, 'a refused add leaves the empty cart as it was (no cart row either: updated_at null)');
	});

	it('quantity must be an integer 1..99: 0, 100, -1, 1.5, "1", null, true, 1e2, 1.0, huge numbers are 400 naming quantity; nothing changes', async () => {
		const p = await products.create({ stock: 1000 });
		const u = shopper();
		await addOk(u, p.id, 1);
		const before = await cartOf(u);
		const values = [0, 100, -1, 1.5, '1', '', null, true, false, [], [1], {}, 101, 1000, -99, 2 ** 31, 2 ** 32 + 1, -(2 ** 31), 0.5, 98.9];
		for (const q of values) {
			const res = await gw.add(u.token, p.id, q);
			const prob = assertProblem(res, 400, { field: 'quantity', what: `quantity ${JSON.stringify(q)}` });
			assert.deepEqual(fieldsOf(prob), ['quantity'], `quantity ${JSON.stringify(q)}: only quantity is wrong\n${show(res)}`);
		}
		// Literals JSON.stringify cannot write.
		for (const raw of ['1e2', '1.0', '99.0', '1E0', '9007199254740993', '9223372036854775807', '-9223372036854775808', '-0.0']) {
			const res = await sendRaw(gw, 'POST', '/api/cart/items', u, `{"product_id":"${p.id}","quantity":${raw}}`);
			assertProblem(res, 400, { field: 'quantity', what: `quantity ${raw}` });
		}
		// Beyond 64 bits / beyond a double: the body is refused (400) whether or not a field is named.
		for (const raw of ['9223372036854775808', '-9223372036854775809', '1000000000000000000000000000000', '1e400', '-1e400']) {
			const res = await sendRaw(gw, 'POST', '/api/cart/items', u, `{"product_id":"${p.id}","quantity":${raw}}`);
			const prob = assertProblem(res, 400, { what: `quantity ${raw}` });
			if (prob.errors) assert.ok(fieldsOf(prob).every((f) => f === 'quantity' || f === ''), `quantity ${raw}: only quantity may be named\n${show(res)}`);
		}
		assert.deepEqual(await cartOf(u), before, 'a refused add changes nothing');
		// The bounds themselves are accepted.
		assert.equal(lineOf(await addOk(u, p.id, 1), p.id).quantity, 2);
		const u2 = shopper();
		assert.equal(lineOf(await addOk(u2, p.id, MAX_QUANTITY), p.id).quantity, MAX_QUANTITY);
	});

	it('product_id must be a UUID: wrong types and malformed ids are 400 naming product_id', async () => {
		const p = await products.create();
		const u = shopper();
		const id = p.id;
		const values = [
			123, null, true, '', ' ', 'nope', id.replace(/-/g, ''), `{${id}}`, `${id} `, ` ${id}`, `${id}0`, id.slice(0, 35),
			`urn:uuid:${id}`, `${id.slice(0, 35)}g`, id.replace(/-/g, '_'), [id], { id },
		];
		for (const v of values) {
			const res = await gw.addJson(u.token, { product_id: v, quantity: 1 });
			const prob = assertProblem(res, 400, { field: 'product_id', what: `product_id ${JSON.stringify(v)}` });
			assert.deepEqual(fieldsOf(prob), ['product_id'], `product_id ${JSON.stringify(v)}: only product_id is wrong\n${show(res)}`);
		}
		// Both wrong: both named.
		const res = await gw.addJson(u.token, { product_id: 'nope', quantity: 0 });
		assert.deepEqual(fieldsOf(assertProblem(res, 400, { field: 'product_id' })), ['product_id', 'quantity'], `both fields are wrong\n${show(res)}`);
		assert.deepEqual(await cartOf(u), EMPTY_CART, 'nothing was added');
	});

	it('missing, unknown and mistyped fields: 400 listing each (unknown: "unknown field")', async () => {
		const p = await products.create();
		const u = shopper();
		const other = shopper();
		const cases = [
			[{}, ['product_id', 'quantity']],
			[{ quantity: 1 }, ['product_id']],
			[{ product_id: p.id }, ['quantity']],
			[{ product_id: p.id, quantity: 1, extra: 1 }, ['extra']],
			[{ product_id: p.id, quantity: 1, user_id: other.id }, ['user_id']],
			[{ product_id: p.id, quantity: 1, price_cents: 1 }, ['price_cents']],
			[{ product_id: p.id, quantity: 1, id: p.id }, ['id']],
			[{ product_id: p.id, quantity: 1, extra: 1, other: 'x' }, ['extra', 'other']],
			[{ extra: 1 }, ['extra', 'product_id', 'quantity']],
			[{ product_id: 5, quantity: 'x', extra: true }, ['extra', 'product_id', 'quantity']],
			[{ productId: p.id, qty: 1 }, ['productId', 'product_id', 'qty', 'quantity']],
		];
		for (const [body, want] of cases) {
			const res = await gw.addJson(u.token, body);
			const prob = assertProblem(res, 400, { field: want, what: `body ${JSON.stringify(body)}` });
			assert.deepEqual(fieldsOf(prob), [...want].sort(), `body ${JSON.stringify(body)} must name exactly ${want.join(', ')}\n${show(res)}`);
			for (const e of prob.errors) {
				if (!['product_id', 'quantity'].includes(e.field)) assert.equal(e.message, 'unknown field', `${e.field} is an unknown field\n${show(res)}`);
			}
		}
		assert.deepEqual(await cartOf(u), EMPTY_CART, 'nothing was added');
		assert.deepEqual(await cartOf(other), EMPTY_CART, 'a user_id in the body reaches no other cart');
	});

	it('malformed and non-JSON bodies: 400 / 415 problem+json, nothing changes', async () => {
		const p = await products.create();
		const u = shopper();
		await addOk(u, p.id, 1);
		const before = await cartOf(u);
		const valid = JSON.stringify({ product_id: p.id, quantity: 1 });
		const cases = [
			['malformed JSON', '{bad', 'application/json', 400],
			['a cut-off object', valid.slice(0, -1), 'application/json', 400],
			['an empty body', '', 'application/json', 400],
			['a list', '[]', 'application/json', 400],
			['a list holding the object', `[${valid}]`, 'application/json', 400],
			['a string', '"x"', 'application/json', 400],
			['null', 'null', 'application/json', 400],
			['a number', '42', 'application/json', 400],
			['trailing data', `${valid} x`, 'application/json', 400],
			['two objects', `${valid}{}`, 'application/json', 400],
			['a duplicate key', `{"product_id":"${p.id}","quantity":1,"quantity":2}`, 'application/json', 400],
			['a NUL in a string', `{"product_id":"${p.id}\\u0000","quantity":1}`, 'application/json', 400],
			['invalid UTF-8', Buffer.concat([Buffer.from(`{"product_id":"${p.id}","quantity":1,"x":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 'application/json', 400],
			['text/plain', valid, 'text/plain', 415],
			['application/jsonx', valid, 'application/jsonx', 415],
			['a form', 'product_id=x&quantity=1', 'application/x-www-form-urlencoded', 415],
			['no Content-Type', valid, null, 415],
		];
		for (const [what, raw, ct, status] of cases) {
			const res = await gw.http.send('POST', '/api/cart/items', { token: u.token, body: raw, contentType: ct });
			assertProblem(res, status, { what: `POST /api/cart/items with ${what}` });
		}
		// No body at all: with a JSON Content-Type 400 (a JSON object is required), without one 415.
		let res = await gw.http.send('POST', '/api/cart/items', { token: u.token, headers: { 'content-type': 'application/json' } });
		assertProblem(res, 400, { what: 'POST /api/cart/items with no body (Content-Type: application/json)' });
		res = await gw.http.send('POST', '/api/cart/items', { token: u.token });
		assertProblem(res, 415, { what: 'POST /api/cart/items with no body and no Content-Type' });
		// The same on the daemon directly.
		assertProblem(await sendRaw(direct, 'POST', '/api/cart/items', u, '{bad'), 400, { what: 'cart daemon: malformed JSON' });
		assertProblem(await sendRaw(direct, 'POST', '/api/cart/items', u, valid, 'text/plain'), 415, { what: 'cart daemon: text/plain' });
		// Big bodies: 900 KiB is read and judged (400 product_id), 1.5 MiB is a 413 answer.
		for (const { label, api } of targets) {
			assertProblem(await api.addJson(u.token, { product_id: 'a'.repeat(900 * 1024), quantity: 1 }), 400, { field: 'product_id', what: `${label}: a 900 KiB product_id` });
			const big = `{"product_id":"${'a'.repeat(1536 * 1024)}","quantity":1}`;
			const r = await api.http.raw('POST', '/api/cart/items', { headers: { authorization: `Bearer ${u.token}` }, contentType: 'application/json', body: big });
			assertProblem(r, 413, { what: `${label}: a 1.5 MiB body` });
		}
		assert.deepEqual(await cartOf(u), before, 'a refused add changes nothing');
	});
});

// ---------------------------------------------------------------- stock and limits

describe('stock and the cart\'s limits (409)', () => {
	it('more than the stock is 409 "only N of \'<name>\' (<id>) in stock; the cart holds M"', async () => {
		const p = await products.create({ stock: 5 });
		const u = shopper();
		let res = await gw.add(u.token, p.id, 6);
		let prob = assertProblem(res, 409, { what: 'add 6 of 5 in stock' });
		assert.equal(prob.detail, `only 5 of '${p.name}' (${p.id}) in stock; the cart holds 0`, show(res));
		await addOk(u, p.id, 3);
		res = await gw.add(u.token, p.id, 3);
		prob = assertProblem(res, 409, { what: '3 + 3 of 5 in stock' });
		assert.equal(prob.detail, `only 5 of '${p.name}' (${p.id}) in stock; the cart holds 3`, show(res));
		assert.equal(lineOf(await addOk(u, p.id, 2), p.id).quantity, 5, 'exactly the stock fits');
		res = await gw.add(u.token, p.id, 1);
		prob = assertProblem(res, 409, { what: '5 + 1 of 5 in stock' });
		assert.equal(prob.detail, `only 5 of '${p.name}' (${p.id}) in stock; the cart holds 5`, show(res));
		res = await gw.set(u.token, p.id, 6);
		prob = assertProblem(res, 409, { what: 'PUT 6 of 5 in stock' });
		assert.equal(prob.detail, `only 5 of '${p.name}' (${p.id}) in stock; the cart holds 5`, show(res));
		assert.deepEqual(linesOf(await cartOf(u)), [`${p.id}:5`], 'the refused changes left the line at 5');
	});

	it('a product out of stock is 409 "\'<name>\' (<id>) is out of stock"', async () => {
		const p = await products.create({ stock: 0 });
		const u = shopper();
		for (const { label, api } of targets) {
			const res = await api.add(u.token, p.id, 1);
			const prob = assertProblem(res, 409, { what: `${label}: add of a product with stock 0` });
			assert.equal(prob.detail, `'${p.name}' (${p.id}) is out of stock`, show(res));
		}
		assert.deepEqual(await cartOf(u), EMPTY_CART);
	});

	it('after a PATCH lowers the stock, adds and PUTs beyond it are 409; the line stays and can shrink', async () => {
		const p = await products.create({ stock: 10 });
		const u = shopper();
		await addOk(u, p.id, 6);
		await products.patch(p.id, { stock: 4 });
		let res = await gw.add(u.token, p.id, 1);
		let prob = assertProblem(res, 409, { what: 'add after the stock fell below the line' });
		assert.equal(prob.detail, `only 4 of '${p.name}' (${p.id}) in stock; the cart holds 6`, show(res));
		res = await gw.set(u.token, p.id, 5);
		prob = assertProblem(res, 409, { what: 'PUT 5 with 4 in stock' });
		assert.equal(prob.detail, `only 4 of '${p.name}' (${p.id}) in stock; the cart holds 6`, show(res));
		let cart = await cartOf(u);
		assert.deepEqual(linesOf(cart), [`${p.id}:6`], 'the line keeps its quantity');
		assert.equal(lineOf(cart, p.id).available, true, 'a product short of stock is still available');
		cart = assertCartAnswer(await gw.set(u.token, p.id, 4), 'PUT 4 with 4 in stock');
		assert.deepEqual(linesOf(cart), [`${p.id}:4`]);
		await products.patch(p.id, { stock: 0 });
		res = await gw.add(u.token, p.id, 1);
		prob = assertProblem(res, 409, { what: 'add after the stock fell to 0' });
		assert.equal(prob.detail, `'${p.name}' (${p.id}) is out of stock`, show(res));
		assert.deepEqual(linesOf(await cartOf(u)), [`${p.id}:4`]);
		cart = assertCartAnswer(await gw.set(u.token, p.id, 0), 'PUT 0 of a product out of stock');
		assert.deepEqual(cart.items, [], 'PUT 0 removes the line even when out of stock');
	});

	it('at most 99 of one product (stock 100): 409 "a cart holds at most 99 of one product..."', async () => {
		const p = await products.create({ stock: 100 });
		const u = shopper();
		assert.equal(lineOf(await addOk(u, p.id, 99), p.id).quantity, 99, 'an add of 99 fits');
		let res = await gw.add(u.token, p.id, 1);
		let prob = assertProblem(res, 409, { what: '99 + 1' });
		assert.ok(prob.detail.startsWith('a cart holds at most 99 of one product'), `detail: ${prob.detail}`);
		assert.ok(prob.detail.includes(p.id), `the detail names the product: ${prob.detail}`);
		const u2 = shopper();
		await addOk(u2, p.id, 50);
		res = await gw.add(u2.token, p.id, 50);
		prob = assertProblem(res, 409, { what: '50 + 50' });
		assert.equal(prob.detail, `a cart holds at most 99 of one product; it holds 50 of '${p.name}' (${p.id})`, show(res));
		assert.equal(lineOf(assertCartAnswer(await gw.set(u2.token, p.id, 99), 'PUT 99'), p.id).quantity, 99);
		assertProblem(await gw.set(u2.token, p.id, 100), 400, { field: 'quantity', what: 'PUT 100' });
		assert.deepEqual(linesOf(await cartOf(u)), [`${p.id}:99`]);
	});

	it('at most 100 different products: the 101st is 409; merging and a freed place still work', async () => {
		const made = [];
		for (let i = 0; i < MAX_LINES + 1; i += 20) {
			made.push(...(await Promise.all(Array.from({ length: Math.min(20, MAX_LINES + 1 - i) }, () => bulk.create({ stock: 5, price_cents: 100 })))));
		}
		const u = shopper();
		const first = made.slice(0, MAX_LINES);
		const extra = made[MAX_LINES];
		// Parallel adds of different products all land.
		for (let i = 0; i < first.length; i += 25) {
			const answers = await Promise.all(first.slice(i, i + 25).map((p) => direct.add(u.token, p.id, 1)));
			answers.forEach((res, k) => assertJson(res, 200, `add of product ${i + k + 1} of ${MAX_LINES}`));
		}
		let cart = await cartOf(u, direct);
		assert.equal(cart.items.length, MAX_LINES, `the cart holds all ${MAX_LINES} products`);
		assert.deepEqual(new Set(cart.items.map((l) => l.product_id)), new Set(first.map((p) => p.id)));
		assert.equal(cart.item_count, MAX_LINES);
		assert.equal(cart.total_cents, MAX_LINES * 100);
		const res = await direct.add(u.token, extra.id, 1);
		const prob = assertProblem(res, 409, { what: `product ${MAX_LINES + 1}` });
		assert.match(prob.detail, /at most 100 different products/, show(res));
		assertProblem(await gw.add(u.token, extra.id, 1), 409, { what: `product ${MAX_LINES + 1} through the gateway` });
		assert.deepEqual(await cartOf(u, direct), cart, 'the refused adds changed nothing (updated_at included)');
		assert.equal(lineOf(assertCartAnswer(await direct.add(u.token, first[0].id, 2), 'merge into a line of a full cart'), first[0].id).quantity, 3);
		assertCartAnswer(await direct.remove(u.token, first[1].id), 'remove one line of a full cart');
		cart = assertCartAnswer(await direct.add(u.token, extra.id, 1), 'add into the freed place');
		assert.equal(cart.items.length, MAX_LINES);
		assert.equal(cart.items.at(-1).product_id, extra.id);
	});

	it('one currency per cart: a product in another currency is 409', async () => {
		const usd = await products.create({ price_cents: 500 });
		const eur = await products.create({ price_cents: 700, currency: 'EUR' });
		const u = shopper();
		const before = await addOk(u, usd.id, 1);
		let res = await gw.add(u.token, eur.id, 1);
		let prob = assertProblem(res, 409, { what: 'EUR product into a USD cart' });
		assert.match(prob.detail, /the cart is in USD/, show(res));
		assert.ok(prob.detail.includes(eur.id) && prob.detail.includes(eur.name), `the detail names the product: ${prob.detail}`);
		assert.deepEqual(await cartOf(u), before, 'the refused add changed nothing (updated_at included)');

		const u2 = shopper();
		let cart = await addOk(u2, eur.id, 2);
		assert.equal(cart.currency, 'EUR', 'a cart of EUR products is in EUR');
		assert.equal(cart.total_cents, 1400);
		res = await gw.add(u2.token, usd.id, 1);
		prob = assertProblem(res, 409, { what: 'USD product into an EUR cart' });
		assert.match(prob.detail, /the cart is in EUR/, show(res));
		assertStatus(await gw.clear(u2.token), 204);
		cart = await addOk(u2, usd.id, 1);
		assert.equal(cart.currency, 'USD', 'an emptied cart takes any currency again');
	});

	it('a product whose currency changes while in a cart: a PUT of its line does not switch the cart\'s currency', async () => {
		const x = await products.create({ price_cents: 1000 });
		const y = await products.create({ price_cents: 500 });
		const u = shopper();
		await addOk(u, x.id, 1);
		await addOk(u, y.id, 1);
		await products.patch(x.id, { currency: 'EUR' });
		// The read: x cannot be bought from this USD cart any more, so it is
		// shown unavailable (with its snapshot) and left out of the totals.
		const before = await cartOf(u);
		const lx = before.items.find((l) => l.product_id === x.id);
		assert.equal(lx.available, false, `x is now priced in EUR: unavailable in a USD cart\n${JSON.stringify(before)}`);
		assert.equal(lx.unit_price_cents, 1000, 'shown with its snapshot price');
		assert.deepEqual([before.currency, before.item_count, before.total_cents], ['USD', 1, 500], 'only y counts');
		const put = await gw.set(u.token, x.id, 2);
		assertProblem(put, 409, { what: 'PUT of the line whose product is now in EUR' });
		assert.match(put.body.detail, /USD/, 'the detail names the cart\'s currency');
		const cart = await cartOf(u);
		assert.equal(cart.items.find((l) => l.product_id === x.id).quantity, 1, 'the refused PUT changed nothing');
		assert.equal(cart.currency, 'USD',
			`the cart still holds '${y.name}' in USD; a PUT of another line must not switch it to EUR (one currency per cart), ` +
			`nor add EUR cents to its total: ${JSON.stringify(cart)}`);
		const res = await gw.add(u.token, y.id, 1);
		assertCartAnswer(res, `adding one more of '${y.name}' (USD, already in the USD cart)`);
	});
});

// ---------------------------------------------------------------- PUT /api/cart/items/{id}

describe('PUT /api/cart/items/{product_id}', () => {
	it('sets the quantity (200 cart); 0 removes the line; then it is 404', async () => {
		const [a, b] = await Promise.all([products.create({ price_cents: 300 }), products.create({ price_cents: 200 })]);
		const u = shopper();
		await addOk(u, a.id, 1);
		await addOk(u, b.id, 1);
		let cart = assertCartAnswer(await gw.set(u.token, a.id, 7), 'PUT a 7');
		assert.deepEqual(linesOf(cart), [`${a.id}:7`, `${b.id}:1`]);
		assert.equal(cart.total_cents, 7 * 300 + 200);
		cart = assertCartAnswer(await direct.set(u.token, a.id.toUpperCase(), 2), 'PUT with an upper-case id, on the daemon');
		assert.deepEqual(linesOf(cart), [`${a.id}:2`, `${b.id}:1`]);
		cart = assertCartAnswer(await gw.set(u.token, a.id, 0), 'PUT a 0');
		assert.deepEqual(linesOf(cart), [`${b.id}:1`], 'quantity 0 removes the line');
		const res = await gw.set(u.token, a.id, 0);
		const prob = assertProblem(res, 404, { what: 'PUT 0 of a removed line' });
		assert.equal(prob.detail, `product '${a.id}' is not in your cart`, show(res));
	});

	it('a product not in the cart, an unknown id or a non-UUID is 404 "product \'<id>\' is not in your cart"', async () => {
		const p = await products.create();
		const u = shopper();
		for (const { label, api } of targets) {
			for (const id of [p.id, unknownId(), 'nope', '12345', `${p.id}x`]) {
				const res = await api.set(u.token, id, 1);
				const prob = assertProblem(res, 404, { what: `${label} PUT ${id}` });
				assert.equal(prob.detail, `product '${id}' is not in your cart`, show(res));
			}
		}
		assert.deepEqual(await cartOf(u), EMPTY_CART, 'PUT never creates a line');
	});

	it('quantity must be an integer 0..99: -1, 100, 1.5, "1", null, missing, huge are 400 naming quantity; unknown fields and bad bodies too', async () => {
		const p = await products.create({ stock: 1000 });
		const u = shopper();
		await addOk(u, p.id, 3);
		const before = await cartOf(u);
		for (const q of [-1, 100, 101, 1.5, '1', '0', null, true, [], {}, -(2 ** 31), 2 ** 32]) {
			const res = await gw.set(u.token, p.id, q);
			assertProblem(res, 400, { field: 'quantity', what: `PUT quantity ${JSON.stringify(q)}` });
		}
		for (const raw of ['1.0', '1e1', '9007199254740993', '9223372036854775807', '-9223372036854775808']) {
			assertProblem(await sendRaw(gw, 'PUT', `/api/cart/items/${p.id}`, u, `{"quantity":${raw}}`), 400, { field: 'quantity', what: `PUT quantity ${raw}` });
		}
		for (const raw of ['9223372036854775808', '100000000000000000000000', '1e400']) {
			assertProblem(await sendRaw(gw, 'PUT', `/api/cart/items/${p.id}`, u, `{"quantity":${raw}}`), 400, { what: `PUT quantity ${raw}` });
		}
		let res = await gw.http.put(`/api/cart/items/${p.id}`, {}, { token: u.token });
		assert.deepEqual(fieldsOf(assertProblem(res, 400, { field: 'quantity', what: 'PUT {}' })), ['quantity'], show(res));
		res = await gw.http.put(`/api/cart/items/${p.id}`, { quantity: 1, product_id: p.id }, { token: u.token });
		let prob = assertProblem(res, 400, { field: 'product_id', what: 'PUT with product_id in the body' });
		assert.equal(prob.errors.find((e) => e.field === 'product_id').message, 'unknown field', show(res));
		res = await gw.http.put(`/api/cart/items/${p.id}`, { quantity: 1, extra: 1, user_id: shopper().id }, { token: u.token });
		prob = assertProblem(res, 400, { field: ['extra', 'user_id'], what: 'PUT with unknown fields' });
		assert.deepEqual(fieldsOf(prob), ['extra', 'user_id'], show(res));
		for (const [what, raw, ct, status] of [
			['malformed JSON', '{"quantity":', 'application/json', 400],
			['an empty body', '', 'application/json', 400],
			['a list', '[1]', 'application/json', 400],
			['a bare number', '1', 'application/json', 400],
			['trailing data', '{"quantity":1}x', 'application/json', 400],
			['a duplicate key', '{"quantity":1,"quantity":2}', 'application/json', 400],
			['text/plain', '{"quantity":1}', 'text/plain', 415],
			['no Content-Type', '{"quantity":1}', null, 415],
		]) {
			assertProblem(await sendRaw(gw, 'PUT', `/api/cart/items/${p.id}`, u, raw, ct), status, { what: `PUT with ${what}` });
		}
		assertProblem(await gw.http.send('PUT', `/api/cart/items/${p.id}`, { token: u.token }), 415, { what: 'PUT with no body and no Content-Type' });
		assert.deepEqual(await cartOf(u), before, 'a refused PUT changes nothing');
	});
});

// ---------------------------------------------------------------- DELETE

describe('DELETE /api/cart/items/{product_id} and DELETE /api/cart', () => {
	it('DELETE of a line: 200 and the cart without it; again, or for a line never added, 404', async () => {
		const [a, b] = await Promise.all([products.create(), products.create()]);
		const u = shopper();
		await addOk(u, a.id, 2);
		await addOk(u, b.id, 3);
		let cart = assertCartAnswer(await gw.remove(u.token, a.id), 'DELETE line a');
		assert.deepEqual(linesOf(cart), [`${b.id}:3`]);
		for (const { label, api } of targets) {
			for (const id of [a.id, unknownId(), 'nope']) {
				const res = await api.remove(u.token, id);
				const prob = assertProblem(res, 404, { what: `${label} DELETE ${id}` });
				assert.equal(prob.detail, `product '${id}' is not in your cart`, show(res));
			}
		}
		cart = assertCartAnswer(await direct.remove(u.token, b.id.toUpperCase()), 'DELETE with an upper-case id, on the daemon');
		assert.deepEqual(cart.items, []);
		assert.equal(cart.item_count, 0);
		assert.equal(cart.total_cents, 0);
	});

	it('DELETE /api/cart: 204 with no body, the cart is empty; again 204', async () => {
		const [a, b] = await Promise.all([products.create(), products.create()]);
		const u = shopper();
		await addOk(u, a.id, 2);
		await addOk(u, b.id, 1);
		for (const { label, api } of targets) {
			const res = await api.clear(u.token);
			assertStatus(res, 204, `${label} DELETE /api/cart`);
			assert.equal(res.text, '', `${label}: a 204 has no body\n${show(res)}`);
			const cart = await cartOf(u, api);
			assert.deepEqual([cart.items, cart.item_count, cart.total_cents, cart.currency], [[], 0, 0, 'USD'], `${label}: the cart is empty`);
		}
		assert.equal(lineOf(await addOk(u, a.id, 1), a.id).quantity, 1, 'an emptied cart starts from zero');
	});
});

// ---------------------------------------------------------------- prices

describe('the price rule', () => {
	it('a line shows the product\'s current price, name and sku, and the price when it was last added or changed', async () => {
		const p = await products.create({ price_cents: 1000, stock: 50 });
		const u = shopper();
		let cart = await addOk(u, p.id, 2);
		assert.deepEqual([lineOf(cart, p.id).unit_price_cents, lineOf(cart, p.id).added_price_cents], [1000, 1000]);

		await products.patch(p.id, { price_cents: 1500 });
		for (const { label, api } of targets) {
			cart = await cartOf(u, api, { prices: 'current' });
			const l = lineOf(cart, p.id);
			assert.equal(l.unit_price_cents, 1500, `${label}: unit_price_cents is the product's price now`);
			assert.equal(l.added_price_cents, 1000, `${label}: added_price_cents is the price when added`);
			assert.equal(l.line_total_cents, 3000, `${label}: the line total uses the current price`);
			assert.equal(cart.total_cents, 3000);
		}
		const internal = assertCartAnswer(await direct.internal(u.id), 'GET /internal/carts/{id}');
		assert.deepEqual(internal, cart, 'the internal read shows the same prices');

		const renamed = { name: `${p.name} Renamed`, sku: `${p.sku}-R` };
		await products.patch(p.id, renamed);
		cart = await cartOf(u);
		assert.deepEqual([lineOf(cart, p.id).name, lineOf(cart, p.id).sku], [renamed.name, renamed.sku], 'name and sku are the product\'s current ones');

		cart = await addOk(u, p.id, 1);
		assert.deepEqual([lineOf(cart, p.id).quantity, lineOf(cart, p.id).unit_price_cents, lineOf(cart, p.id).added_price_cents], [3, 1500, 1500],
			'adding again refreshes the price when added');
		await products.patch(p.id, { price_cents: 1200 });
		cart = await cartOf(u);
		assert.deepEqual([lineOf(cart, p.id).unit_price_cents, lineOf(cart, p.id).added_price_cents], [1200, 1500]);
		cart = assertCartAnswer(await gw.set(u.token, p.id, 4), 'PUT 4');
		assert.deepEqual([lineOf(cart, p.id).unit_price_cents, lineOf(cart, p.id).added_price_cents, cart.total_cents], [1200, 1200, 4800],
			'changing the quantity refreshes it too');
	});

	it('a line whose product was deleted shows available:false, its stored values, and is left out of the totals', async () => {
		const [gone, kept] = await Promise.all([products.create({ price_cents: 1000 }), products.create({ price_cents: 250 })]);
		const u = shopper();
		await addOk(u, gone.id, 2);
		await addOk(u, kept.id, 3);
		await products.remove(gone.id);
		for (const { label, api } of targets) {
			const cart = await cartOf(u, api, { prices: 'current' });
			assert.deepEqual(linesOf(cart), [`${gone.id}:2`, `${kept.id}:3`], `${label}: the line stays, in its place`);
			assert.deepEqual(lineOf(cart, gone.id), {
				product_id: gone.id, sku: gone.sku, name: gone.name, unit_price_cents: 1000, added_price_cents: 1000,
				quantity: 2, line_total_cents: 0, available: false,
			}, `${label}: the deleted product's line`);
			assert.equal(lineOf(cart, kept.id).available, true);
			assert.equal(cart.item_count, 3, `${label}: item_count leaves the unavailable line out`);
			assert.equal(cart.total_cents, 750, `${label}: total_cents leaves the unavailable line out`);
		}
		let res = await gw.add(u.token, gone.id, 1);
		assert.equal(assertProblem(res, 404, { what: 'add of a deleted product' }).detail, `product '${gone.id}' not found`, show(res));
		res = await gw.set(u.token, gone.id, 3);
		assertProblem(res, 404, { what: 'PUT 3 of a deleted product' });
		assert.deepEqual(linesOf(await cartOf(u)), [`${gone.id}:2`, `${kept.id}:3`], 'refused changes leave the line');
		const cart = assertCartAnswer(await gw.remove(u.token, gone.id), 'DELETE the unavailable line');
		assert.deepEqual(linesOf(cart), [`${kept.id}:3`]);
	});
});

// ---------------------------------------------------------------- one cart per user

describe('one cart per user', () => {
	it('user B can neither see nor change nor empty user A\'s cart', async () => {
		const [p, q] = await Promise.all([products.create(), products.create()]);
		const a = shopper();
		const b = shopper();
		await addOk(a, p.id, 2);
		const aBefore = await cartOf(a);
		for (const { label, api } of targets) {
			assert.deepEqual(assertCartAnswer(await api.get(b.token), `${label} B's GET`), EMPTY_CART, `${label}: B sees an empty cart`);
			let res = await api.set(b.token, p.id, 5);
			assert.equal(assertProblem(res, 404, { what: `${label} B's PUT of A's product` }).detail, `product '${p.id}' is not in your cart`, show(res));
			res = await api.remove(b.token, p.id);
			assert.equal(assertProblem(res, 404, { what: `${label} B's DELETE of A's product` }).detail, `product '${p.id}' is not in your cart`, show(res));
			assertStatus(await api.clear(b.token), 204, `${label} B's DELETE /api/cart`);
			// Nothing in the request names another user.
			for (const path of [`/api/cart?user_id=${a.id}`, `/api/cart?user=${a.id}&sub=${a.id}`]) {
				res = await api.http.get(path, { token: b.token });
				if (res.status === 200) assert.deepEqual(assertCart(res.body), EMPTY_CART, `${label} ${path}: B's own cart only\n${show(res)}`);
				else assertProblem(res, res.status, { what: `${label} ${path}` });
				assert.ok(res.status < 500 && !res.text.includes(p.id), `${label} ${path} must never show A's lines\n${show(res)}`);
			}
			res = await api.get(b.token, { headers: { 'x-user-id': a.id, 'x-forwarded-user': a.id } });
			assert.deepEqual(assertCartAnswer(res, `${label} B's GET with an X-User-ID header`), EMPTY_CART);
			assertProblem(await api.addJson(b.token, { product_id: q.id, quantity: 1, user_id: a.id }), 400, { field: 'user_id' });
		}
		assert.deepEqual(await cartOf(a), aBefore, 'A\'s cart is unchanged, updated_at included');
		// B's own cart is B's.
		const bCart = await addOk(b, p.id, 1);
		assert.deepEqual(linesOf(bCart), [`${p.id}:1`]);
		assert.deepEqual(await cartOf(a), aBefore, 'B\'s add went to B\'s cart only');
		assert.deepEqual(assertCartAnswer(await direct.internal(a.id), 'internal A'), aBefore);
		assert.deepEqual(linesOf(assertCartAnswer(await direct.internal(b.id), 'internal B')), [`${p.id}:1`]);
		// An admin is a shopper like any other here.
		const admin = shopper('admin');
		assert.deepEqual(await cartOf(admin), EMPTY_CART);
		assertProblem(await gw.remove(admin.token, p.id), 404);
		assert.deepEqual(await cartOf(a), aBefore);
	});

	it('a token whose subject is not a user id is 401 (gateway and daemon)', async () => {
		for (const sub of ['not-a-uuid', `${crypto.randomUUID()}x`, '']) {
			const token = mintToken({ sub });
			for (const { label, api } of targets) {
				const res = await api.get(token);
				assertProblem(res, 401, { what: `${label} GET /api/cart with sub ${JSON.stringify(sub)}` });
				assertProblem(await api.add(token, unknownId(), 1), 401, { what: `${label} POST with sub ${JSON.stringify(sub)}` });
			}
		}
	});
});

// ---------------------------------------------------------------- tokens

describe('authentication', () => {
	const routes = (id) => [
		['GET', '/api/cart'],
		['DELETE', '/api/cart'],
		['POST', '/api/cart/items', { product_id: id, quantity: 1 }],
		['PUT', `/api/cart/items/${id}`, { quantity: 1 }],
		['DELETE', `/api/cart/items/${id}`],
	];

	it('no token, Basic, a bare Bearer: 401 problem+json on every route, at the gateway and on the daemon', async () => {
		const id = unknownId();
		for (const { label, api } of targets) {
			for (const [method, path, json] of routes(id)) {
				for (const { name, headers } of nonBearerAuths()) {
					const res = await api.http.send(method, path, { headers, json });
					assertProblem(res, 401, { what: `${label} ${method} ${path} with ${name}` });
					assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/i, `${label} ${method} ${path} with ${name}: WWW-Authenticate: Bearer\n${show(res)}`);
				}
			}
		}
	});

	it('expired, foreign, forged and garbage tokens: 401 on every route; a forgery for a real shopper changes nothing', async () => {
		const p = await products.create();
		const victim = shopper();
		await addOk(victim, p.id, 1);
		const before = await cartOf(victim);
		for (const { label, api } of targets) {
			for (const { name, make } of badTokenMakers()) {
				for (const [method, path, json] of routes(p.id)) {
					const res = await api.http.send(method, path, { token: make(), json });
					assertProblem(res, 401, { what: `${label} ${method} ${path} with a token ${name}` });
				}
			}
			for (const { name, make } of forgeriesFor({ id: victim.id, email: `itest-${victim.id.slice(0, 8)}@example.com`, role: 'customer' })) {
				for (const [method, path, json] of [['POST', '/api/cart/items', { product_id: p.id, quantity: 1 }], ['DELETE', '/api/cart'], ['GET', '/api/cart']]) {
					const res = await api.http.send(method, path, { token: make(), json });
					assertProblem(res, 401, { what: `${label} ${method} ${path} with the victim's token ${name}` });
					assert.ok(!res.text.includes(p.id), `${label}: a forged token must not read the victim's cart\n${show(res)}`);
				}
			}
		}
		assert.deepEqual(await cartOf(victim), before, 'the forged tokens changed nothing');
	});

	it('the token is checked before the body: a bad token with a malformed body is 401', async () => {
		for (const { label, api } of targets) {
			const res = await api.http.send('POST', '/api/cart/items', { token: 'not.a.jwt', body: '{bad', contentType: 'application/json' });
			assertProblem(res, 401, { what: `${label} bad token + malformed body` });
		}
	});

	it('a signed-out (revoked) token is 401 at the gateway and on the cart daemon', async () => {
		const account = await registerUser(gwHttp, { tag: 'cart' });
		const u = { id: account.user.id, token: account.token };
		const p = await products.create();
		await addOk(u, p.id, 1);
		assert.deepEqual(linesOf(await cartOf(u, direct)), [`${p.id}:1`]);
		assertStatus(await gwHttp.post('/api/auth/logout', undefined, { token: u.token }), 204, 'POST /api/auth/logout');
		for (const { label, api } of targets) {
			// The revocation reaches every daemon through Redis: allow it a moment.
			const deadline = Date.now() + 5000;
			let res;
			for (;;) {
				res = await api.get(u.token);
				if (res.status === 401 || Date.now() > deadline) break;
				await new Promise((r) => setTimeout(r, 100));
			}
			assertProblem(res, 401, { what: `${label} GET /api/cart with a revoked token` });
			assertProblem(await api.add(u.token, p.id, 1), 401, { what: `${label} POST with a revoked token` });
		}
		assert.deepEqual(linesOf(assertCartAnswer(await direct.internal(u.id), 'internal read of the signed-out user')), [`${p.id}:1`], 'the refused add changed nothing');
	});
});

// ---------------------------------------------------------------- concurrency

describe('concurrent changes', () => {
	it('two parallel adds of one product end with the summed quantity', async () => {
		const p = await products.create({ stock: 1000 });
		for (let round = 0; round < 5; round++) {
			const u = shopper();
			const answers = await Promise.all([gw.add(u.token, p.id, 3), direct.add(u.token, p.id, 4)]);
			answers.forEach((res) => assertCartAnswer(res, 'a parallel add'));
			assert.deepEqual(linesOf(await cartOf(u)), [`${p.id}:7`], `round ${round}: 3 + 4 in parallel`);
		}
	});

	it('20 parallel adds of 1 end with 20; parallel adds of 10 different products all land', async () => {
		const p = await products.create({ stock: 1000 });
		const u = shopper();
		const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? gw : direct).add(u.token, p.id, 1)));
		answers.forEach((res, i) => assertCartAnswer(res, `parallel add ${i}`));
		const quantities = answers.map((res) => lineOf(res.body, p.id).quantity).sort((x, y) => x - y);
		assert.deepEqual(quantities, Array.from({ length: 20 }, (_, i) => i + 1), 'each add saw the line one larger: they ran one at a time');
		assert.deepEqual(linesOf(await cartOf(u)), [`${p.id}:20`]);

		const many = await Promise.all(Array.from({ length: 10 }, () => products.create({ price_cents: 10 })));
		const v = shopper();
		(await Promise.all(many.map((m, i) => (i % 2 ? gw : direct).add(v.token, m.id, 2)))).forEach((res, i) => assertCartAnswer(res, `parallel add of product ${i}`));
		const cart = await cartOf(v);
		assert.deepEqual(new Set(cart.items.map((l) => l.product_id)), new Set(many.map((m) => m.id)), 'every product landed');
		assert.equal(cart.item_count, 20);
		assert.equal(cart.total_cents, 200);
	});

	it('parallel adds never pass the stock or 99: exactly as many succeed as fit', async () => {
		const scarce = await products.create({ stock: 5 });
		const u = shopper();
		const answers = await Promise.all(Array.from({ length: 12 }, () => gw.add(u.token, scarce.id, 1)));
		const ok = answers.filter((r) => r.status === 200);
		const refused = answers.filter((r) => r.status !== 200);
		refused.forEach((res) => assert.match(assertProblem(res, 409, { what: 'a parallel add beyond the stock' }).detail, /^only 5 of /));
		assert.equal(ok.length, 5, `5 in stock: exactly 5 of 12 parallel adds succeed (got ${answers.map((r) => r.status).join(' ')})`);
		assert.deepEqual(linesOf(await cartOf(u)), [`${scarce.id}:5`]);

		const plenty = await products.create({ stock: 1000 });
		const w = shopper();
		const three = await Promise.all([gw.add(w.token, plenty.id, 40), direct.add(w.token, plenty.id, 40), gw.add(w.token, plenty.id, 40)]);
		assert.deepEqual(three.map((r) => r.status).sort(), [200, 200, 409], `3 x 40 in parallel: two fit under 99 (got ${three.map((r) => r.status).join(' ')})`);
		assert.ok(assertProblem(three.find((r) => r.status === 409), 409).detail.startsWith('a cart holds at most 99 of one product'));
		assert.deepEqual(linesOf(await cartOf(w)), [`${plenty.id}:80`]);
	});

	it('parallel adds, PUTs, removals and clears of one cart never fail with a 5xx', async () => {
		const [p, q] = await Promise.all([products.create({ stock: 1000 }), products.create({ stock: 1000 })]);
		for (let round = 0; round < 6; round++) {
			const u = shopper();
			await addOk(u, p.id, 1);
			const ops = [];
			for (let i = 0; i < 6; i++) {
				ops.push(direct.add(u.token, i % 2 ? p.id : q.id, 1));
				ops.push(direct.clear(u.token));
				ops.push(direct.set(u.token, p.id, 2));
				ops.push(direct.remove(u.token, q.id));
			}
			for (const res of await Promise.all(ops)) {
				assert.ok([200, 204, 404].includes(res.status), `a concurrent change must be 200/204 (or 404 for a line just removed), got\n${show(res)}`);
				if (res.status === 404) assertProblem(res, 404);
			}
			const cart = await cartOf(u, direct);
			assert.ok(cart.items.every((l) => (l.product_id === p.id || l.product_id === q.id) && l.quantity <= 99), JSON.stringify(cart));
		}
	});
});

// ---------------------------------------------------------------- internal routes

describe('GET /internal/carts/{user_id} (cart daemon)', () => {
	it('with the service token: 200, the same cart the user sees; an unknown user has the empty cart', async () => {
		const p = await products.create();
		const u = shopper();
		await addOk(u, p.id, 4);
		const mine = await cartOf(u);
		const res = await direct.internal(u.id);
		assert.deepEqual(assertCartAnswer(res, 'GET /internal/carts/{id}'), mine);
		assert.deepEqual(assertCartAnswer(await direct.internal(unknownId()), 'internal read of an unknown user'), EMPTY_CART);
	});

	it('?prices=stored (the order service at checkout): the same lines from their snapshots; an unknown query parameter or value is a 400 problem', async () => {
		const p = await products.create();
		const u = shopper();
		await addOk(u, p.id, 2);
		const mine = await cartOf(u);
		const stored = assertCartAnswer(await cartHttp.get(`/internal/carts/${u.id}?prices=stored`, { headers: { 'x-internal-token': internalToken() } }), 'GET /internal/carts/{id}?prices=stored');
		assert.equal(stored.prices, 'stored', JSON.stringify(stored));
		assert.deepEqual(linesOf(stored), linesOf(mine));
		assert.equal(stored.total_cents, mine.total_cents);
		for (const q of ['prices=bogus', 'x=1', 'prices=stored&page=2']) {
			const res = await cartHttp.get(`/internal/carts/${u.id}?${q}`, { headers: { 'x-internal-token': internalToken() } });
			const body = assertProblem(res, 400, { what: `GET /internal/carts/{id}?${q}` });
			assert.match(body.detail, /unknown query parameter '(prices|x|page)'/, show(res));
		}
	});

	it('without or with a wrong service token: 401; a non-UUID user id: 404', async () => {
		const u = shopper();
		const good = internalToken();
		for (const [name, headers] of [
			['no token', {}],
			['a wrong token', { 'x-internal-token': crypto.randomBytes(24).toString('hex') }],
			['the token plus a character', { 'x-internal-token': `${good}x` }],
			['the token minus its last character', { 'x-internal-token': good.slice(0, -1) }],
			['an empty token', { 'x-internal-token': '' }],
			['the token as a bearer token', { authorization: `Bearer ${good}` }],
			['a user\'s JWT', { authorization: `Bearer ${u.token}` }],
		]) {
			const res = await cartHttp.get(`/internal/carts/${u.id}`, { headers });
			assertProblem(res, 401, { what: `GET /internal/carts with ${name}` });
		}
		for (const id of ['nope', '12345', `${u.id}x`]) {
			const res = await direct.internal(id);
			assert.equal(assertProblem(res, 404, { what: `GET /internal/carts/${id}` }).detail, `user '${id}' not found`, show(res));
		}
		// The service token is no user token.
		assertProblem(await cartHttp.get('/api/cart', { headers: { 'x-internal-token': good } }), 401, { what: 'GET /api/cart with only the service token' });
	});

	it('the gateway never routes /internal/: 404 problem, with or without the token', async () => {
		const p = await products.create();
		const u = shopper();
		await addOk(u, p.id, 1);
		for (const path of [`/internal/carts/${u.id}`, `/internal/products?ids=${p.id}`]) {
			for (const headers of [{}, { 'x-internal-token': internalToken() }]) {
				const res = await gwHttp.get(path, { headers, token: u.token });
				assert.ok(res.status >= 400 && res.status < 500, `the gateway must not serve ${path} (got ${res.status})\n${show(res)}`);
				assertProblem(res, 404, { what: `gateway GET ${path}` });
				assert.ok(!res.text.includes(p.sku), `the gateway leaked an internal answer\n${show(res)}`);
			}
		}
	});
});

describe('GET /internal/products?ids=... (product daemon)', () => {
	const internalGet = (query, headers = { 'x-internal-token': internalToken() }) => productHttp.get(`/internal/products${query}`, { headers });

	it('answers {"items": [product...]} in the order asked; unknown and deleted ids are left out', async () => {
		const [a, b, c] = await Promise.all([products.create(), products.create(), products.create()]);
		await products.remove(c.id);
		const res = await internalGet(`?ids=${b.id},${unknownId()},${a.id},${c.id}`);
		const body = assertJson(res, 200, 'GET /internal/products');
		assert.deepEqual(Object.keys(body), ['items'], show(res));
		assert.deepEqual(body.items.map((x) => x.id), [b.id, a.id], `in the order asked, unknown and deleted left out\n${show(res)}`);
		const full = assertJson(await productHttp.get(`/api/products/${b.id}`), 200);
		const keys = ['id', 'sku', 'name', 'price_cents', 'currency', 'stock'];
		assert.deepEqual(body.items[0], Object.fromEntries(keys.map((k) => [k, full[k]])), 'an item is what the callers need of the product, as GET /api/products/{id} shows it');
		const only = assertJson(await internalGet(`?ids=${a.id}`), 200);
		assert.deepEqual(only.items.map((x) => x.id), [a.id]);
		assert.deepEqual(assertJson(await internalGet(`?ids=${unknownId()}`), 200), { items: [] }, 'only unknown ids: an empty list');
		// 200 ids is the most.
		const ids200 = [...Array.from({ length: 199 }, unknownId), a.id];
		assert.deepEqual(assertJson(await internalGet(`?ids=${ids200.join(',')}`), 200, '200 ids').items.map((x) => x.id), [a.id]);
	});

	it('no ids, a non-UUID, more than 200 ids or another parameter: 400; no or a wrong token: 401', async () => {
		const a = await products.create();
		const ids201 = [...Array.from({ length: 200 }, unknownId), a.id];
		for (const [what, query, field] of [
			['no query', '', 'ids'],
			['ids=', '?ids=', 'ids'],
			['ids=,', '?ids=,', 'ids'],
			['a non-UUID', '?ids=nope', 'ids'],
			['a non-UUID among UUIDs', `?ids=${a.id},nope`, 'ids'],
			['a UUID with a suffix', `?ids=${a.id}x`, 'ids'],
			['201 ids', `?ids=${ids201.join(',')}`, 'ids'],
			['ids twice', `?ids=${a.id}&ids=${a.id}`, 'ids'],
			['another parameter', `?ids=${a.id}&page=1`, 'page'],
			['only another parameter', '?id=1', 'id'],
		]) {
			assertProblem(await internalGet(query), 400, { field, what: `GET /internal/products with ${what}` });
		}
		for (const [what, headers] of [
			['no token', {}],
			['a wrong token', { 'x-internal-token': 'x'.repeat(32) }],
			['an admin JWT', { authorization: `Bearer ${adminToken()}` }],
		]) {
			assertProblem(await internalGet(`?ids=${a.id}`, headers), 401, { what: `GET /internal/products with ${what}` });
		}
	});
});

// ---------------------------------------------------------------- platform

describe('cart daemon: /health, /ready, /metrics, X-Request-ID, routing', () => {
	it('/health names the cart; /ready is 200 with database, redis and the product circuit', async () => {
		const health = assertJson(await cartHttp.get('/health'), 200, 'cart /health');
		assert.equal(health.service, 'cart');
		const res = await cartHttp.get('/ready');
		const ready = assertJson(res, 200, 'cart /ready');
		assert.deepEqual(Object.keys(ready.checks ?? {}).sort(), ['broker', 'database', 'product_circuit', 'redis'], show(res));
		assert.equal(ready.checks.database, 'ok', show(res));
		assert.equal(ready.checks.redis, 'ok', show(res));
		assert.ok(['closed', 'half-open', 'open'].includes(ready.checks.product_circuit), show(res));
		assert.equal(ready.checks.product_circuit, 'closed', `the fleet's product service is up: its circuit is closed\n${show(res)}`);
	});

	it('/metrics: the product client\'s breaker state (0) and its calls by result', async () => {
		const p = await products.create();
		await addOk(shopper(), p.id, 1);
		const res = await cartHttp.get('/metrics');
		assertStatus(res, 200, 'cart /metrics');
		assert.equal(res.contentType, 'text/plain', show(res));
		assert.match(res.text, /^# TYPE http_client_breaker_state gauge$/m);
		assert.equal(metricValue(res.text, 'http_client_breaker_state', { upstream: 'product' }), 0, 'breaker state 0 (closed)');
		assert.ok(metricValue(res.text, 'http_client_requests_total', { upstream: 'product', result: '2xx' }) >= 1, 'the add asked the product service');
		assert.match(res.text, /^http_requests_total\{[^}]*route="\/api\/cart\/items"/m, 'request counts labelled by route');
	});

	it('X-Request-ID comes back exactly once, as sent (gateway and daemon), also on errors; else one is generated', async () => {
		const p = await products.create();
		const u = shopper();
		for (const { label, api } of targets) {
			const answers = [
				['GET 200', (h) => api.get(u.token, h)],
				['POST 200', (h) => api.add(u.token, p.id, 1, h)],
				['POST 400', (h) => api.add(u.token, p.id, 0, h)],
				['POST 404', (h) => api.add(u.token, unknownId(), 1, h)],
				['PUT 404', (h) => api.set(u.token, unknownId(), 1, h)],
				['DELETE 204', (h) => api.clear(u.token, h)],
				['GET 401', (h) => api.get('not.a.jwt', h)],
			];
			for (const [what, send] of answers) {
				const rid = `itest-cart-${crypto.randomBytes(6).toString('hex')}`;
				const res = await send({ headers: { 'x-request-id': rid } });
				assert.ok(res.status < 500, show(res));
				assert.equal(res.headers.get('x-request-id'), rid, `${label} ${what}: X-Request-ID must come back exactly once, as sent\n${show(res)}`);
			}
			const one = (await api.get(u.token)).headers.get('x-request-id');
			const two = (await api.get(u.token)).headers.get('x-request-id');
			assert.ok(one && two && one !== two && !one.includes(','), `${label}: a generated X-Request-ID is unique per request (${one}, ${two})`);
		}
	});

	it('methods a route does not have: 405 with Allow', async () => {
		const u = shopper();
		const id = unknownId();
		for (const { label, api } of targets) {
			for (const [method, path, allow] of [
				['PATCH', '/api/cart', ['GET', 'DELETE']],
				['POST', '/api/cart', ['GET', 'DELETE']],
				['GET', '/api/cart/items', ['POST']],
				['POST', `/api/cart/items/${id}`, ['PUT', 'DELETE']],
				['GET', `/api/cart/items/${id}`, ['PUT', 'DELETE']],
			]) {
				const res = await api.http.send(method, path, { token: u.token, json: method === 'GET' ? undefined : {} });
				assertProblem(res, 405, { what: `${label} ${method} ${path}` });
				const got = (res.headers.get('allow') ?? '').split(',').map((s) => s.trim()).filter(Boolean).sort();
				assert.deepEqual(got, [...allow].sort(), `${label} ${method} ${path}: Allow must list ${allow.join(', ')}\n${show(res)}`);
			}
		}
		assertProblem(await cartHttp.get('/api/carts', { token: u.token }), 404, { what: 'an unknown path on the cart daemon' });
	});
});
