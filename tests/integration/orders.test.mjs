// The order service through the gateway (and on its daemon directly where
// a test needs it): POST /api/orders and every bad input (malformed JSON,
// not an object, missing, unknown and mistyped fields at the top and
// inside shipping_address, empty and too-long fields, control characters,
// bad countries and token kinds, bad Idempotency-Keys, no or forged
// tokens, an empty cart); the saga end to end (stock reserved at once, the
// cart emptied by order.created, the order confirmed or failed by the
// payment, the stock back after a decline, one payment per order);
// insufficient stock (409 naming the product, nothing reserved, no order);
// the Idempotency-Key (replays, reordered bodies, another body, another
// user, concurrent twins); 12 buyers racing for 5 units; other users'
// orders and payments (404) and the admin's view; GET /api/orders
// pagination and bad queries; a late payment result that must not move a
// confirmed order; and every order.* message of a checkout checked against
// shared/events/*.schema.json with the POST's X-Request-ID as its
// correlation_id.
//
// Shoppers are fresh random user ids with minted tokens (one registered
// account for the happy path); products are this file's own (sku
// ITEST-<run>-order-<n>), created while it holds the catalog lock. Events
// are watched on a throw-away queue bound to order.* and payment.*.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { env } from './lib/env.mjs';
import { client, show, assertJson, assertProblem, waitForHealthy, once, itAfter } from './lib/http.mjs';
import { acquireCatalogLock, getCategories } from './lib/catalog.mjs';
import { adminToken, badTokenMakers } from './lib/jwt.mjs';
import { registerUser } from './lib/users.mjs';
import { productFactory, shopper } from './lib/cart.mjs';
import { acquireBrokerLock, declareTestQueue, deleteQueue, eventTimeoutMs, mgmtApi, takeMessages } from './lib/broker.mjs';
import { ajvErrors, assertEnvelope, compileSchema } from './lib/events.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const uuid = () => crypto.randomUUID();

const gw = client(env.gatewayUrl);
const orderHttp = client(env.orderUrl);

const ORDER_KEYS = ['id', 'user_id', 'status', 'items', 'total_cents', 'currency', 'shipping_address', 'payment', 'status_history', 'created_at', 'updated_at'];
const ITEM_KEYS = ['product_id', 'sku', 'name', 'unit_price_cents', 'quantity', 'line_total_cents'];
const ADDRESS_KEYS = ['name', 'line1', 'line2', 'city', 'postal_code', 'country'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;
/** How long a payment may take to settle an order. */
const SETTLE_MS = Math.max(15000, eventTimeoutMs);
const ORDER_EVENTS = ['order.created', 'order.confirmed', 'order.failed'];

const ADDRESS = Object.freeze({ name: 'Ada Lovelace', line1: '12 Analytical Row', line2: 'Flat 3', city: 'London', postal_code: 'NW1 6XE', country: 'GB' });
const body = (over = {}, addr = {}) => ({ payment_token: 'tok_visa', shipping_address: { ...ADDRESS, ...addr }, ...over });

let releaseCatalog;
let releaseBroker;
let products;
let queue;
let schemas;
/** Every message taken off `queue` so far (tests share it). */
const inbox = [];

const setup = once(async () => {
	await waitForHealthy(env.gatewayUrl);
	await waitForHealthy(env.orderUrl);
	await waitForHealthy(env.paymentUrl);
	await waitForHealthy(env.productUrl);
	await waitForHealthy(env.cartUrl);
	adminToken(); // fail early, with the key path, when the key is unusable
	// broker first, then catalog: the order every other file takes them in
	releaseBroker = await acquireBrokerLock('shared'); // never while broker-outage.test.mjs has the broker down
	releaseCatalog = await acquireCatalogLock();
	const cats = await getCategories(gw);
	assert.ok(cats.length > 0, 'need at least one category');
	products = productFactory(gw, { tag: 'order', category: cats[0].slug });
	queue = await declareTestQueue('orders', [...ORDER_EVENTS, 'payment.completed', 'payment.failed']);
	schemas = {};
	for (const t of ORDER_EVENTS) schemas[t] = await compileSchema(t);
});
const it = itAfter(setup, nodeIt);

after(async () => {
	try {
		if (queue) await deleteQueue(queue);
		await products?.sweep();
	} finally {
		releaseBroker?.();
		releaseCatalog?.();
	}
});

// ---------------------------------------------------------------- helpers

/** Adds each [product, quantity] to the user's cart through the gateway. */
async function fillCart(user, lines) {
	for (const [p, q] of lines) {
		assertJson(await gw.post('/api/cart/items', { product_id: p.id, quantity: q }, { token: user.token }), 200, `POST /api/cart/items ${p.id} x${q}`);
	}
}

/** POST /api/orders through the gateway (or `http`), with an optional key and request id. */
function placeOrder(user, json = body(), { key, rid, http = gw, raw } = {}) {
	const headers = {};
	if (key !== undefined) headers['idempotency-key'] = key;
	if (rid !== undefined) headers['x-request-id'] = rid;
	if (raw !== undefined) return http.send('POST', '/api/orders', { token: user.token, body: raw, contentType: 'application/json', headers });
	return http.post('/api/orders', json, { token: user.token, headers });
}

const stockOf = async (id) => assertJson(await gw.get(`/api/products/${id}`), 200, `GET /api/products/${id}`).stock;
const getOrder = (user, id, http = gw) => http.get(`/api/orders/${id}`, { token: user.token });
const listOrders = async (user, query = '') => assertJson(await gw.get(`/api/orders${query}`, { token: user.token }), 200, `GET /api/orders${query}`);

/** Polls `probe()` every 150 ms until it returns a truthy value or `ms` pass; returns it. `what` (a string or a function) explains a timeout. */
async function until(probe, what, ms = SETTLE_MS) {
	const deadline = Date.now() + ms;
	let last;
	for (;;) {
		last = await probe();
		if (last) return last;
		assert.ok(Date.now() < deadline, `${typeof what === 'function' ? what() : what} within ${ms} ms`);
		await sleep(150);
	}
}

/** Polls the order until it leaves pending; returns it. */
async function settled(user, id) {
	return until(async () => {
		const o = assertJson(await getOrder(user, id), 200, `GET /api/orders/${id}`);
		return o.status !== 'pending' ? o : null;
	}, `order ${id} must leave pending`);
}

/** Polls until the user's cart is empty. */
async function cartEmptied(user) {
	return until(async () => {
		const c = assertJson(await gw.get('/api/cart', { token: user.token }), 200, 'GET /api/cart');
		return c.items.length === 0 ? c : null;
	}, 'the cart must be emptied by order.created');
}

/** Polls until the product's stock is `want`. */
async function stockBecomes(id, want, what, ms = SETTLE_MS) {
	let last;
	await until(async () => (last = await stockOf(id)) === want, () => `${what}: the stock of ${id} must become ${want} (is ${last})`, ms);
}

/** Asserts the Order shape (API.md); returns it. */
function assertOrder(o, where = 'order') {
	const j = JSON.stringify(o);
	assert.ok(o && typeof o === 'object' && !Array.isArray(o), `${where} must be an object: ${j}`);
	assert.deepEqual(Object.keys(o).sort(), [...ORDER_KEYS].sort(), `${where} must have exactly ${ORDER_KEYS.join(', ')}: ${j}`);
	assert.match(o.id, UUID_RE, `${where}.id: ${j}`);
	assert.match(o.user_id, UUID_RE, `${where}.user_id: ${j}`);
	assert.ok(['pending', 'confirmed', 'failed'].includes(o.status), `${where}.status: ${j}`);
	assert.ok(Array.isArray(o.items) && o.items.length > 0, `${where}.items must be a non-empty list: ${j}`);
	let total = 0;
	for (const it of o.items) {
		assert.deepEqual(Object.keys(it).sort(), [...ITEM_KEYS].sort(), `${where}: every item has exactly ${ITEM_KEYS.join(', ')}: ${j}`);
		assert.ok(Number.isSafeInteger(it.unit_price_cents) && it.unit_price_cents >= 0, `${where}: unit_price_cents: ${j}`);
		assert.ok(Number.isSafeInteger(it.quantity) && it.quantity >= 1, `${where}: quantity: ${j}`);
		assert.equal(it.line_total_cents, it.unit_price_cents * it.quantity, `${where}: line_total_cents = unit x quantity: ${j}`);
		total += it.line_total_cents;
	}
	assert.equal(o.total_cents, total, `${where}.total_cents must be the sum of the lines: ${j}`);
	assert.match(o.currency, /^[A-Z]{3}$/, `${where}.currency: ${j}`);
	assert.deepEqual(Object.keys(o.shipping_address).sort(), [...ADDRESS_KEYS].sort(), `${where}.shipping_address: ${j}`);
	if (o.payment !== null) {
		assert.deepEqual(Object.keys(o.payment).sort(), ['failure_reason', 'payment_id', 'status'], `${where}.payment: ${j}`);
		assert.ok(['succeeded', 'declined'].includes(o.payment.status), `${where}.payment.status: ${j}`);
		assert.match(o.payment.payment_id, UUID_RE, `${where}.payment.payment_id: ${j}`);
	}
	assert.ok(Array.isArray(o.status_history) && o.status_history.length >= 1, `${where}.status_history: ${j}`);
	for (const h of o.status_history) {
		assert.deepEqual(Object.keys(h).sort(), ['at', 'status'], `${where}.status_history entries: ${j}`);
		assert.match(h.at, RFC3339_UTC, `${where}.status_history[].at: ${j}`);
	}
	assert.equal(o.status_history[0].status, 'pending', `${where}: the history starts pending: ${j}`);
	assert.equal(o.status_history.at(-1).status, o.status, `${where}: the history ends with the status: ${j}`);
	assert.match(o.created_at, RFC3339_UTC, `${where}.created_at: ${j}`);
	assert.match(o.updated_at, RFC3339_UTC, `${where}.updated_at: ${j}`);
	assert.ok(Math.abs(Date.parse(o.created_at) - Date.now()) < 10 * 60 * 1000, `${where}.created_at must be about now: ${j}`);
	return o;
}

/** Asserts a 201 order answer (Location, no-store); returns the order. */
function assertCreated(res, what = 'POST /api/orders') {
	const o = assertOrder(assertJson(res, 201, what), what);
	assert.equal(res.headers.get('location'), `/api/orders/${o.id}`, `${what}: Location must name the order\n${show(res)}`);
	assert.match(res.headers.get('cache-control') ?? '', /no-store/, `${what}: Cache-Control: no-store\n${show(res)}`);
	return o;
}

const orderOf = (m) => String(m.body?.data?.order_id ?? '').toLowerCase();

/** Waits until the messages of `types` for the order arrived (at least one each), then `settleMs` more; returns the order's messages. */
async function eventsOf(orderId, types, { settleMs = 0 } = {}) {
	const mine = () => inbox.filter((m) => orderOf(m) === orderId.toLowerCase());
	const deadline = Date.now() + eventTimeoutMs;
	for (;;) {
		inbox.push(...(await takeMessages(queue)));
		if (types.every((t) => mine().some((m) => m.routingKey === t))) break;
		if (Date.now() > deadline) {
			assert.fail(`${types.join(', ')} for order ${orderId} did not arrive within ${eventTimeoutMs} ms; seen:\n  ${mine().map((m) => `${m.routingKey} ${m.payload.slice(0, 300)}`).join('\n  ')}`);
		}
		await sleep(150);
	}
	const settle = Date.now() + settleMs;
	while (Date.now() < settle) {
		await sleep(Math.min(250, Math.max(0, settle - Date.now())));
		inbox.push(...(await takeMessages(queue)));
	}
	return mine();
}

/** Checks every order.* message of an order: envelope, schema, correlation id; exactly one of each expected type, none other. */
function assertOrderEvents(msgs, order, { rid, expect, email, reason }) {
	const own = msgs.filter((m) => ORDER_EVENTS.includes(m.routingKey));
	assert.deepEqual(own.map((m) => m.routingKey).sort(), [...expect].sort(), `the order service must publish exactly ${expect.join(', ')} for order ${order.id}; got:\n  ${own.map((m) => m.payload.slice(0, 300)).join('\n  ')}`);
	for (const m of own) {
		const e = assertEnvelope(m, { eventType: m.routingKey, producer: 'order' });
		assert.ok(schemas[m.routingKey](e), `${m.routingKey} must match shared/events/${m.routingKey}.schema.json:\n  ${ajvErrors(schemas[m.routingKey])}\n  ${m.payload}`);
		if (rid !== undefined) assert.equal(e.correlation_id, rid, `${m.routingKey}: correlation_id must be the POST's X-Request-ID: ${m.payload}`);
		const d = e.data;
		assert.equal(d.order_id, order.id, `${m.routingKey}.order_id: ${m.payload}`);
		assert.equal(d.user_id, order.user_id, `${m.routingKey}.user_id: ${m.payload}`);
		if (email) assert.equal(d.user_email, email, `${m.routingKey}.user_email: ${m.payload}`);
		assert.equal(d.total_cents, order.total_cents, `${m.routingKey}.total_cents: ${m.payload}`);
		assert.equal(d.currency, order.currency, `${m.routingKey}.currency: ${m.payload}`);
		assert.deepEqual(d.items.map((i) => [i.product_id, i.sku, i.name, i.quantity, i.unit_price_cents]),
			order.items.map((i) => [i.product_id, i.sku, i.name, i.quantity, i.unit_price_cents]), `${m.routingKey}.items must be the order's: ${m.payload}`);
		if (m.routingKey === 'order.failed') assert.equal(d.reason, reason, `order.failed.reason: ${m.payload}`);
	}
	return own;
}

// ---------------------------------------------------------------- bad input

describe('POST /api/orders: bad input (400, 401, 422)', () => {
	const long = (n) => 'x'.repeat(n);
	const without = (k) => {
		const a = { ...ADDRESS };
		delete a[k];
		return a;
	};
	const cases = [
		['missing payment_token', { shipping_address: ADDRESS }, 'payment_token'],
		['unknown token kind tok_amex', body({ payment_token: 'tok_amex' }), 'payment_token'],
		['empty payment_token', body({ payment_token: '' }), 'payment_token'],
		['payment_token a number', body({ payment_token: 4242 }), 'payment_token'],
		['payment_token null', body({ payment_token: null }), 'payment_token'],
		['payment_token a list', body({ payment_token: ['tok_visa'] }), 'payment_token'],
		['missing shipping_address', { payment_token: 'tok_visa' }, 'shipping_address'],
		['shipping_address a string', body({ shipping_address: '12 Analytical Row' }), 'shipping_address'],
		['shipping_address a list', body({ shipping_address: [ADDRESS] }), 'shipping_address'],
		['shipping_address null', body({ shipping_address: null }), 'shipping_address'],
		['unknown top-level field', body({ coupon: 'FREE' }), 'coupon'],
		['unknown field inside shipping_address', body({}, { state: 'CA' }), ['shipping_address', 'shipping_address.state']],
		...['name', 'line1', 'city', 'postal_code', 'country'].map((k) => [`missing shipping_address.${k}`, { payment_token: 'tok_visa', shipping_address: without(k) }, `shipping_address.${k}`]),
		['name a number', body({}, { name: 42 }), 'shipping_address.name'],
		['line1 null', body({}, { line1: null }), 'shipping_address.line1'],
		['line2 a number', body({}, { line2: 5 }), 'shipping_address.line2'],
		['city a bool', body({}, { city: true }), 'shipping_address.city'],
		['postal_code a number', body({}, { postal_code: 12345 }), 'shipping_address.postal_code'],
		['country an object', body({}, { country: { code: 'GB' } }), 'shipping_address.country'],
		['empty name', body({}, { name: '' }), 'shipping_address.name'],
		['space-only name', body({}, { name: '    ' }), 'shipping_address.name'],
		['space-only line1', body({}, { line1: ' ' }), 'shipping_address.line1'],
		['empty city', body({}, { city: '' }), 'shipping_address.city'],
		['empty postal_code', body({}, { postal_code: '' }), 'shipping_address.postal_code'],
		['name of 201', body({}, { name: long(201) }), 'shipping_address.name'],
		['line1 of 201', body({}, { line1: long(201) }), 'shipping_address.line1'],
		['line2 of 201', body({}, { line2: long(201) }), 'shipping_address.line2'],
		['city of 101', body({}, { city: long(101) }), 'shipping_address.city'],
		['postal_code of 21', body({}, { postal_code: long(21) }), 'shipping_address.postal_code'],
		['country gb', body({}, { country: 'gb' }), 'shipping_address.country'],
		['country GBR', body({}, { country: 'GBR' }), 'shipping_address.country'],
		['country G', body({}, { country: 'G' }), 'shipping_address.country'],
		['country 12', body({}, { country: '12' }), 'shipping_address.country'],
		['empty country', body({}, { country: '' }), 'shipping_address.country'],
		['newline in name', body({}, { name: 'Ada\nLovelace' }), 'shipping_address.name'],
		['tab in line1', body({}, { line1: '12\tAnalytical Row' }), 'shipping_address.line1'],
		['carriage return in line2', body({}, { line2: 'Flat 3\r' }), 'shipping_address.line2'],
		['BEL in city', body({}, { city: 'Lon\u0007don' }), 'shipping_address.city'],
		['DEL in postal_code', body({}, { postal_code: 'NW1\u007f' }), 'shipping_address.postal_code'],
	];

	it('every bad body is 400 problem+json naming the field; nothing is reserved or stored', async () => {
		const p = await products.create({ stock: 7, price_cents: 500 });
		const u = shopper();
		await fillCart(u, [[p, 2]]);
		for (let i = 0; i < cases.length; i += 10) {
			await Promise.all(cases.slice(i, i + 10).map(async ([what, json, field]) => {
				assertProblem(await placeOrder(u, json), 400, { field, what });
			}));
		}
		// Several mistakes at once inside the address: each is named.
		const prob = assertProblem(await placeOrder(u, body({ payment_token: 'tok_amex' }, { name: ' ', country: 'gbr', city: long(101) })), 400, { field: 'payment_token', what: 'several mistakes' });
		for (const f of ['shipping_address.name', 'shipping_address.country', 'shipping_address.city']) {
			assert.ok(prob.errors.some((e) => e.field === f), `every mistake must be named (${f}): ${JSON.stringify(prob)}`);
		}
		assert.equal(await stockOf(p.id), 7, 'a refused order reserves nothing');
		const list = await listOrders(u);
		assert.equal(list.total, 0, `a refused order is not stored: ${JSON.stringify(list)}`);
		const cart = assertJson(await gw.get('/api/cart', { token: u.token }), 200, 'GET /api/cart');
		assert.equal(cart.items.length, 1, 'the cart is untouched');
	});

	it('malformed JSON and bodies that are not an object are 400', async () => {
		const u = shopper();
		for (const raw of ['{"payment_token": "tok_visa", ', '{bad', 'tok_visa', '']) {
			assertProblem(await placeOrder(u, undefined, { raw }), 400, { what: `raw body ${JSON.stringify(raw)}` });
		}
		for (const raw of ['[]', '"tok_visa"', '42', 'null', '[{"payment_token": "tok_visa"}]']) {
			assertProblem(await placeOrder(u, undefined, { raw }), 400, { what: `body ${raw}` });
		}
	});

	it('a bad Idempotency-Key (256 characters, a space, empty) is 400 naming it; 255 visible characters are fine', async () => {
		const p = await products.create({ stock: 5 });
		const u = shopper();
		await fillCart(u, [[p, 1]]);
		for (const key of ['k'.repeat(256), 'has space', ' ', '']) {
			assertProblem(await placeOrder(u, body(), { key }), 400, { field: 'Idempotency-Key', what: `Idempotency-Key ${JSON.stringify(key.slice(0, 20))} (${key.length})` });
		}
		assert.equal(await stockOf(p.id), 5, 'nothing reserved');
		assertCreated(await placeOrder(u, body(), { key: `${'K'.repeat(254)}~` }), 'a 255-character key');
	});

	it('no token and forged tokens are 401, at the gateway and on the order daemon', async () => {
		for (const http of [gw, orderHttp]) {
			const res = await http.post('/api/orders', body());
			assertProblem(res, 401, { what: `${http.baseUrl}: no token` });
			for (const { name, make } of badTokenMakers()) {
				assertProblem(await http.post('/api/orders', body(), { token: make() }), 401, { what: `${http.baseUrl}: ${name}` });
			}
			assertProblem(await http.get('/api/orders'), 401, { what: `${http.baseUrl}: GET /api/orders without a token` });
			assertProblem(await http.get(`/api/orders/${uuid()}`), 401, { what: `${http.baseUrl}: GET /api/orders/{id} without a token` });
		}
	});

	it('an empty cart is 422', async () => {
		const u = shopper();
		const prob = assertProblem(await placeOrder(u, body()), 422, { what: 'empty cart' });
		assert.match(prob.detail, /empty/i, JSON.stringify(prob));
		assert.equal((await listOrders(u)).total, 0);
	});

	it('the lengths are counted in characters, not bytes (order daemon)', async () => {
		const p = await products.create({ stock: 5 });
		const u = shopper();
		await fillCart(u, [[p, 1]]);
		// 200 two-byte characters is 200 characters; 201 is too many.
		assertProblem(await placeOrder(u, body({}, { name: 'é'.repeat(201) }), { http: orderHttp }), 400, { field: 'shipping_address.name', what: '201 characters' });
		const o = assertCreated(await placeOrder(u, body({}, { name: 'é'.repeat(200), city: 'ü'.repeat(100), postal_code: '€'.repeat(20) }), { http: orderHttp }), '200 two-byte characters');
		assert.equal(o.shipping_address.name, 'é'.repeat(200));
	});
});

// ---------------------------------------------------------------- the saga

describe('checkout: the saga end to end', () => {
	it('tok_visa: 201 pending, stock reserved at once, the cart emptied, then confirmed with one succeeded payment; events valid', async () => {
		const [a, b] = await Promise.all([products.create({ stock: 10, price_cents: 1999 }), products.create({ stock: 4, price_cents: 350 })]);
		const { user, token, email } = await registerUser(gw, { tag: 'order' });
		const u = { id: user.id, token };
		await fillCart(u, [[a, 2], [b, 1]]);
		const rid = `itest-order-${uuid()}`;
		const res = await placeOrder(u, body(), { rid });
		const o = assertCreated(res);
		assert.equal(res.headers.get('x-request-id'), rid, 'the X-Request-ID is answered back');
		assert.equal(res.headers.get('idempotent-replayed'), null, 'a first order is no replay');
		assert.equal(o.status, 'pending');
		assert.equal(o.user_id, user.id);
		// The lines in any order (API.md fixes none).
		const byId = (x, y) => (x[0] < y[0] ? -1 : 1);
		assert.deepEqual(o.items.map((i) => [i.product_id, i.sku, i.name, i.unit_price_cents, i.quantity, i.line_total_cents]).sort(byId),
			[[a.id, a.sku, a.name, 1999, 2, 3998], [b.id, b.sku, b.name, 350, 1, 350]].sort(byId), JSON.stringify(o));
		assert.equal(o.total_cents, 4348);
		assert.equal(o.currency, 'USD');
		assert.deepEqual(o.shipping_address, ADDRESS);
		assert.equal(o.payment, null);
		assert.deepEqual(o.status_history.map((h) => h.status), ['pending']);
		// Reserved at once (before the response).
		assert.equal(await stockOf(a.id), 8, 'the stock drops at once');
		assert.equal(await stockOf(b.id), 3, 'the stock drops at once');

		await cartEmptied(u);
		const done = assertOrder(await settled(u, o.id), 'settled order');
		assert.equal(done.status, 'confirmed', JSON.stringify(done));
		assert.equal(done.payment.status, 'succeeded', JSON.stringify(done));
		assert.equal(done.payment.failure_reason, null, JSON.stringify(done));
		assert.deepEqual(done.status_history.map((h) => h.status), ['pending', 'confirmed']);
		assert.equal(done.created_at, o.created_at);
		assert.deepEqual(done.items, o.items);

		const pays = assertJson(await gw.get(`/api/payments?order_id=${o.id}`, { token }), 200, 'GET /api/payments?order_id=');
		assert.equal(pays.items.length, 1, `exactly one payment: ${JSON.stringify(pays)}`);
		const pay = pays.items[0];
		assert.equal(pay.id, done.payment.payment_id);
		assert.equal(pay.order_id, o.id);
		assert.equal(pay.status, 'succeeded');
		assert.equal(pay.amount_cents, o.total_cents);
		assert.equal(pay.currency, o.currency);
		const one = assertJson(await gw.get(`/api/payments/${pay.id}`, { token }), 200, 'GET /api/payments/{id}');
		assert.equal(one.id, pay.id);

		// Confirmed: the reservation is committed, the stock stays down.
		assert.equal(await stockOf(a.id), 8);
		const msgs = await eventsOf(o.id, ['order.created', 'order.confirmed'], { settleMs: 800 });
		const own = assertOrderEvents(msgs, o, { rid, expect: ['order.created', 'order.confirmed'], email });
		const created = own.find((m) => m.routingKey === 'order.created').body;
		assert.equal(created.data.payment_token, 'tok_visa');
	});

	it('tok_chargeDeclined and tok_insufficientFunds: failed with their reasons, the stock comes back; events valid', async () => {
		const run = async (token, reason) => {
			const p = await products.create({ stock: 6, price_cents: 2500 });
			const u = shopper();
			await fillCart(u, [[p, 3]]);
			const rid = `itest-order-${uuid()}`;
			const o = assertCreated(await placeOrder(u, body({ payment_token: token }), { rid }), token);
			// Reserved at once; but a declined payment can release it again
			// before this read (the saga takes milliseconds), so 3 or 6.
			const seen = await stockOf(p.id);
			assert.ok(seen === 3 || seen === 6, `${token}: reserved at once (3), or already released (6): ${seen}`);
			const done = assertOrder(await settled(u, o.id));
			assert.equal(done.status, 'failed', JSON.stringify(done));
			assert.deepEqual(done.payment && { status: done.payment.status, failure_reason: done.payment.failure_reason }, { status: 'declined', failure_reason: reason }, JSON.stringify(done));
			assert.deepEqual(done.status_history.map((h) => h.status), ['pending', 'failed']);
			await stockBecomes(p.id, 6, `${token}: released after order.failed`);
			const pays = assertJson(await gw.get(`/api/payments?order_id=${o.id}`, { token: u.token }), 200, 'GET /api/payments?order_id=');
			assert.equal(pays.items.length, 1, JSON.stringify(pays));
			assert.deepEqual([pays.items[0].id, pays.items[0].status, pays.items[0].failure_reason], [done.payment.payment_id, 'declined', reason]);
			const msgs = await eventsOf(o.id, ['order.created', 'order.failed'], { settleMs: 800 });
			assertOrderEvents(msgs, o, { rid, expect: ['order.created', 'order.failed'], reason });
		};
		await Promise.all([run('tok_chargeDeclined', 'card_declined'), run('tok_insufficientFunds', 'insufficient_funds')]);
	});

	it('insufficient stock: 409 naming the product, nothing reserved, no order, the cart kept', async () => {
		const [p, plenty] = await Promise.all([products.create({ stock: 3 }), products.create({ stock: 9 })]);
		const u = shopper();
		await fillCart(u, [[plenty, 1], [p, 2]]);
		await products.patch(p.id, { stock: 1 });
		const res = await placeOrder(u, body());
		const prob = assertProblem(res, 409, { what: '2 ordered, 1 in stock' });
		assert.ok(prob.detail.includes(p.id), `the detail must name the product: ${prob.detail}`);
		assert.ok(prob.detail.includes(p.name), `the detail must name the product: ${prob.detail}`);
		assert.equal(await stockOf(p.id), 1, 'nothing reserved');
		assert.equal(await stockOf(plenty.id), 9, 'all or nothing: the other line is not reserved either');
		assert.equal((await listOrders(u)).total, 0, 'no order');
		const cart = assertJson(await gw.get('/api/cart', { token: u.token }), 200, 'GET /api/cart');
		assert.equal(cart.items.length, 2, 'the cart is kept');
	});
});

// ---------------------------------------------------------------- Idempotency-Key

describe('Idempotency-Key', () => {
	it('the same key and body answer the same order (also reordered and re-spaced); another body is 422; another user gets their own', async () => {
		const p = await products.create({ stock: 10, price_cents: 700 });
		const u = shopper();
		const other = shopper();
		await fillCart(u, [[p, 2]]);
		await fillCart(other, [[p, 1]]);
		const key = `itest-${uuid()}`;
		const first = await placeOrder(u, body(), { key });
		const o = assertCreated(first, 'first');
		assert.equal(first.headers.get('idempotent-replayed'), null, 'the first answer is no replay');
		assert.equal(await stockOf(p.id), 8);

		await cartEmptied(u); // a replay must not read the (now empty) cart
		const again = await placeOrder(u, body(), { key });
		const o2 = assertCreated(again, 'the same request again');
		assert.equal(o2.id, o.id);
		assert.equal(again.headers.get('idempotent-replayed'), 'true', show(again));
		const reordered = JSON.stringify({ shipping_address: Object.fromEntries(Object.entries(ADDRESS).reverse()), payment_token: 'tok_visa' }, null, 3);
		const again2 = await placeOrder(u, undefined, { key, raw: `\n ${reordered} \n` });
		assert.equal(assertCreated(again2, 'reordered, re-spaced').id, o.id);
		assert.equal(again2.headers.get('idempotent-replayed'), 'true', show(again2));

		for (const [what, json] of [['another token', body({ payment_token: 'tok_mastercard' })], ['another city', body({}, { city: 'Paris' })], ['line2 left out', body({}, { line2: undefined })]]) {
			const prob = assertProblem(await placeOrder(u, json, { key }), 422, { what: `same key, ${what}` });
			assert.match(prob.detail, /Idempotency-Key/i, prob.detail);
		}
		const list = await listOrders(u);
		assert.equal(list.total, 1, `one order only: ${JSON.stringify(list)}`);
		assert.equal(await stockOf(p.id), 8, 'the stock dropped once');

		const theirs = await placeOrder(other, body(), { key });
		const ot = assertCreated(theirs, 'another user, same key');
		assert.notEqual(ot.id, o.id);
		assert.equal(ot.user_id, other.id);
		assert.equal(theirs.headers.get('idempotent-replayed'), null);
		assert.equal(await stockOf(p.id), 7);
	});

	it('5 concurrent identical requests with one key: one order, the same id for all, the stock dropped once', async () => {
		const p = await products.create({ stock: 10 });
		const u = shopper();
		await fillCart(u, [[p, 2]]);
		const key = `itest-${uuid()}`;
		const answers = await Promise.all(Array.from({ length: 5 }, () => placeOrder(u, body(), { key })));
		const ids = answers.map((r) => assertCreated(r, 'concurrent twin').id);
		assert.equal(new Set(ids).size, 1, `every twin answers the same order: ${ids.join(', ')}`);
		assert.equal(answers.filter((r) => r.headers.get('idempotent-replayed') === null).length, 1, 'exactly one answer is the original');
		assert.equal((await listOrders(u)).total, 1, 'exactly one order');
		await stockBecomes(p.id, 8, 'the losers give their reservations back');
		const done = await settled(u, ids[0]);
		assert.equal(done.status, 'confirmed');
		const pays = assertJson(await gw.get(`/api/payments?order_id=${ids[0]}`, { token: u.token }), 200, 'payments');
		assert.equal(pays.items.length, 1, 'one payment');
	});
});

// ---------------------------------------------------------------- the race

describe('12 buyers, 5 units', () => {
	it('exactly 5 orders are placed and 7 refused with 409; the stock ends at 0', async () => {
		const p = await products.create({ stock: 5, price_cents: 999 });
		const buyers = Array.from({ length: 12 }, () => shopper());
		await Promise.all(buyers.map((u) => fillCart(u, [[p, 1]])));
		const answers = await Promise.all(buyers.map((u) => placeOrder(u, body())));
		const ok = answers.filter((r) => r.status === 201);
		const refused = answers.filter((r) => r.status === 409);
		assert.equal(ok.length, 5, `exactly 5 x 201: ${answers.map((r) => r.status).join(' ')}\n${answers.filter((r) => r.status !== 201 && r.status !== 409).map(show).join('\n')}`);
		assert.equal(refused.length, 7, `exactly 7 x 409: ${answers.map((r) => r.status).join(' ')}`);
		for (const r of refused) assert.ok(assertProblem(r, 409).detail.includes(p.id), show(r));
		// Read through the product service's caches: a stale entry left
		// by racing reservations shows here.
		await stockBecomes(p.id, 0, '5 of 5 units ordered', 2000);
		const placed = ok.map((r) => assertCreated(r));
		await Promise.all(placed.map((o, i) => settled(buyers[answers.indexOf(ok[i])], o.id).then((d) => assert.equal(d.status, 'confirmed'))));
		assert.equal(await stockOf(p.id), 0, 'confirmed: the stock stays 0');
	});
});

// ---------------------------------------------------------------- other users

describe('other users\' orders and payments', () => {
	it('another user gets 404 and never sees them; an admin reads them; unknown and malformed ids are 404', async () => {
		const p = await products.create({ stock: 5 });
		const a = shopper();
		const b = shopper();
		await fillCart(a, [[p, 1]]);
		const o = assertCreated(await placeOrder(a, body()));
		const done = await settled(a, o.id);
		assert.equal(done.status, 'confirmed');
		const payId = done.payment.payment_id;

		assertProblem(await getOrder(b, o.id), 404, { what: 'B reads A\'s order' });
		assertProblem(await getOrder(b, o.id.toUpperCase()), 404, { what: 'B reads A\'s order (upper case)' });
		assertProblem(await getOrder(b, o.id, orderHttp), 404, { what: 'B reads A\'s order on the daemon' });
		const bl = await listOrders(b);
		assert.equal(bl.total, 0, `B's list holds none of A's orders: ${JSON.stringify(bl)}`);
		assert.ok(!bl.items.some((x) => x.id === o.id));
		assertProblem(await gw.get(`/api/payments/${payId}`, { token: b.token }), 404, { what: 'B reads A\'s payment' });
		const bp = assertJson(await gw.get(`/api/payments?order_id=${o.id}`, { token: b.token }), 200, 'B lists the payments of A\'s order');
		assert.equal(bp.items.length, 0, JSON.stringify(bp));

		const admin = { token: adminToken() };
		const seen = assertOrder(assertJson(await getOrder(admin, o.id), 200, 'the admin reads A\'s order'));
		assert.equal(seen.user_id, a.id);
		assert.equal(seen.status, 'confirmed');
		assert.equal(assertJson(await gw.get(`/api/payments/${payId}`, { token: admin.token }), 200, 'the admin reads A\'s payment').id, payId);
		assert.equal(assertJson(await getOrder(a, o.id.toUpperCase()), 200, 'A reads its own (upper-case id)').id, o.id);

		for (const id of [uuid(), 'nope', '123', `${o.id}0`, o.id.slice(0, 35), 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz']) {
			assertProblem(await getOrder(a, id), 404, { what: `GET /api/orders/${id}` });
		}
	});
});

// ---------------------------------------------------------------- listing

describe('GET /api/orders', () => {
	it('newest first, page and page_size, total; bad page, page_size and unknown parameters are 400', async () => {
		const p = await products.create({ stock: 10 });
		const u = shopper();
		const ids = [];
		for (let i = 0; i < 3; i++) {
			await fillCart(u, [[p, 1]]);
			ids.push(assertCreated(await placeOrder(u, body())).id);
			await cartEmptied(u); // else the next order would take this line's leftovers
		}
		const newest = [...ids].reverse();
		const all = await listOrders(u);
		assert.deepEqual([all.page, all.page_size, all.total], [1, 20, 3], JSON.stringify(all));
		assert.deepEqual(all.items.map((o) => o.id), newest, 'newest first');
		all.items.forEach((o) => assertOrder(o, 'listed order'));
		const p1 = await listOrders(u, '?page=1&page_size=2');
		assert.deepEqual([p1.page, p1.page_size, p1.total, p1.items.map((o) => o.id)], [1, 2, 3, newest.slice(0, 2)], JSON.stringify(p1));
		const p2 = await listOrders(u, '?page=2&page_size=2');
		assert.deepEqual([p2.page, p2.page_size, p2.total, p2.items.map((o) => o.id)], [2, 2, 3, newest.slice(2)], JSON.stringify(p2));
		const p9 = await listOrders(u, '?page=9&page_size=2');
		assert.deepEqual([p9.total, p9.items.length], [3, 0], JSON.stringify(p9));
		const max = await listOrders(u, '?page_size=100');
		assert.equal(max.items.length, 3);

		for (const [q, field] of [['page=0', 'page'], ['page=-1', 'page'], ['page=abc', 'page'], ['page=1.5', 'page'], ['page=', 'page'],
			['page_size=0', 'page_size'], ['page_size=101', 'page_size'], ['page_size=x', 'page_size'], ['status=pending', 'status'], ['user_id=' + uuid(), 'user_id']]) {
			assertProblem(await gw.get(`/api/orders?${q}`, { token: u.token }), 400, { field, what: `GET /api/orders?${q}` });
		}
	});
});

// ---------------------------------------------------------------- late results

/** Publishes an envelope on shop.events as its producer would. */
async function publish(envelope) {
	const res = await mgmtApi('POST', `/api/exchanges/%2F/${encodeURIComponent('shop.events')}/publish`, {
		properties: { content_type: 'application/json', delivery_mode: 2, type: envelope.event_type, message_id: envelope.event_id, correlation_id: envelope.correlation_id },
		routing_key: envelope.event_type,
		payload: JSON.stringify(envelope),
		payload_encoding: 'string',
	});
	assert.equal(res.status, 200, `publish through the management API failed\n${show(res)}`);
	assert.equal(res.body?.routed, true, `the message was not routed\n${show(res)}`);
}

/** Waits until the order service's result queue is drained (nothing ready or unacked). */
async function resultsDrained() {
	await sleep(300);
	await until(async () => {
		const res = await mgmtApi('GET', '/api/queues/%2F/order.payment-results');
		return res.status === 200 && res.body.messages === 0 && (res.body.messages_unacknowledged ?? 0) === 0;
	}, 'order.payment-results must drain', 10000);
	await sleep(300);
}

describe('a late or duplicate payment result', () => {
	it('never moves a confirmed order, and publishes nothing more', async () => {
		const p = await products.create({ stock: 5 });
		const u = shopper();
		await fillCart(u, [[p, 1]]);
		const rid = `itest-order-${uuid()}`;
		const o = assertCreated(await placeOrder(u, body(), { rid }));
		const done = await settled(u, o.id);
		assert.equal(done.status, 'confirmed');
		const before = await eventsOf(o.id, ['order.created', 'order.confirmed', 'payment.completed']);
		const completed = before.find((m) => m.routingKey === 'payment.completed').body;

		// The same payment.completed again (a redelivery), a late
		// payment.failed (new event id), a second payment.completed.
		await publish(completed);
		await publish({ ...completed, event_id: uuid(), event_type: 'payment.failed', correlation_id: `itest-late-${uuid()}`,
			data: { payment_id: uuid(), order_id: o.id, user_id: o.user_id, amount_cents: o.total_cents, currency: o.currency, reason: 'card_declined' } });
		await publish({ ...completed, event_id: uuid(), correlation_id: `itest-late-${uuid()}`, data: { ...completed.data, payment_id: uuid() } });
		await resultsDrained();

		const after = assertOrder(assertJson(await getOrder(u, o.id), 200, 'after the late results'));
		assert.equal(after.status, 'confirmed', JSON.stringify(after));
		assert.deepEqual(after.payment, done.payment, 'the payment is the first one');
		assert.deepEqual(after.status_history.map((h) => h.status), ['pending', 'confirmed']);
		assert.equal(after.updated_at, done.updated_at);
		assert.equal(await stockOf(p.id), 4, 'no release');
		const msgs = await eventsOf(o.id, ['order.created', 'order.confirmed'], { settleMs: 1500 });
		assertOrderEvents(msgs, o, { rid, expect: ['order.created', 'order.confirmed'] });
	});
});
