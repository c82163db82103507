// Stock reservations on the product daemon (services/product, ARCHITECTURE.md
// "The order saga"), called directly with the internal service token:
// POST /internal/reservations (every bad input, the token, unknown products,
// mixed currencies; a reservation's answer, its prices and total, stock
// taken at once; the same request again; other items for the same order;
// all lines or none), the race for the last units (never oversold) and
// buyers locking shared products in opposite orders (no deadlock),
// DELETE /internal/reservations/{order_id} (stock back, idempotent, the
// order's reservation is then gone), the orders' outcomes as the order
// service would publish them on shop.events (order.failed releases,
// order.confirmed commits, duplicates change nothing), and expiry (the
// daemon's sweeper gives an expired hold back; a late order.confirmed takes
// the stock again).
//
// Products are this file's own (sku ITEST-<run>-resv-<n>), created and
// deleted on the product daemon while it holds the catalog lock, so the
// read-only catalog checks never see them come and go. Events are
// published through the RabbitMQ management API (an order service's
// envelope, valid against shared/events/); every order id is fresh.
//
// SHOP_RESERVATION_EXPIRY_TIMEOUT_MS (default 45000): how long an expired
// hold may take to come back (the daemon sweeps every
// RESERVATION_SWEEP_INTERVAL_S: 1 s in the test fleet, 30 s in a dev fleet).
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { env } from './lib/env.mjs';
import { client, show, assertJson, assertProblem, assertStatus, waitForHealthy, once, itAfter } from './lib/http.mjs';
import { acquireCatalogLock, getCategories } from './lib/catalog.mjs';
import { acquireBrokerLock, EXCHANGE, eventTimeoutMs, mgmtApi } from './lib/broker.mjs';
import { ajvErrors, compileSchema } from './lib/events.mjs';
import { adminToken } from './lib/jwt.mjs';
import { internalToken, metricValue, productFactory } from './lib/cart.mjs';

const productHttp = client(env.productUrl);
const expiryTimeoutMs = Number(process.env.SHOP_RESERVATION_EXPIRY_TIMEOUT_MS) || 45000;
/** How long a consumed event may take to show (publish -> consumer -> commit). */
const consumeTimeoutMs = Math.max(eventTimeoutMs, 10000);

const UUID_LOWER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339_UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const RESERVATION_KEYS = ['order_id', 'status', 'expires_at', 'currency', 'total_cents', 'items'];
const LINE_KEYS = ['product_id', 'sku', 'name', 'unit_price_cents', 'quantity', 'line_total_cents'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const newId = () => crypto.randomUUID();

let release;
let releaseBroker;
let products;
let validators;

const setup = once(async () => {
	await waitForHealthy(env.productUrl);
	adminToken(); // fail early, with the key path, when the key is unusable
	internalToken();
	releaseBroker = await acquireBrokerLock('shared');
	release = await acquireCatalogLock();
	const cats = await getCategories(productHttp);
	assert.ok(cats.length > 0, 'need at least one category');
	products = productFactory(productHttp, { tag: 'resv', category: cats[0].slug });
	validators = {
		'order.failed': await compileSchema('order.failed'),
		'order.confirmed': await compileSchema('order.confirmed'),
	};
});
const it = itAfter(setup, nodeIt);

after(async () => {
	try {
		await products?.sweep();
	} finally {
		release?.();
		releaseBroker?.();
	}
});

// ---------------------------------------------------------------- helpers

const internal = (extra = {}) => ({ 'x-internal-token': internalToken(), ...extra });

/** POST /internal/reservations with the service token (or `headers`); the raw answer. */
function reserve(json, { headers = internal(), timeoutMs } = {}) {
	return productHttp.post('/internal/reservations', json, { headers, timeoutMs });
}

/** Sends `raw` bytes as the body of POST /internal/reservations. */
function reserveRaw(raw, { headers = internal(), contentType = 'application/json' } = {}) {
	return productHttp.send('POST', '/internal/reservations', { headers, body: raw, contentType });
}

/** DELETE /internal/reservations/{order_id}; the raw answer. */
function cancel(orderId, { headers = internal() } = {}) {
	return productHttp.delete(`/internal/reservations/${orderId}`, { headers });
}

/** A reservation request body. */
const body = (orderId, items, over = {}) => ({
	order_id: orderId,
	items: items.map(([p, quantity]) => ({ product_id: typeof p === 'string' ? p : p.id, quantity })),
	...over,
});

/**
 * Asserts `r` is exactly a Reservation of `orderId` with these [product,
 * quantity] lines at the products' prices, and its arithmetic. Returns r.
 */
function assertReservation(r, { orderId, lines, status = 'held', currency = 'USD', where = 'reservation' }) {
	const j = JSON.stringify(r);
	assert.ok(r && typeof r === 'object' && !Array.isArray(r), `${where} must be a JSON object: ${j}`);
	assert.deepEqual(Object.keys(r).sort(), [...RESERVATION_KEYS].sort(), `${where} must have exactly the fields ${RESERVATION_KEYS.join(', ')}: ${j}`);
	assert.equal(r.order_id.toLowerCase(), orderId.toLowerCase(), `${where}.order_id: ${j}`);
	assert.equal(r.status, status, `${where}.status must be "${status}": ${j}`);
	assert.equal(r.currency, currency, `${where}.currency: ${j}`);
	assert.ok(typeof r.expires_at === 'string' && RFC3339_UTC_SECONDS.test(r.expires_at) && !Number.isNaN(Date.parse(r.expires_at)),
		`${where}.expires_at must be RFC 3339 UTC with second precision: ${j}`);
	assert.ok(Array.isArray(r.items), `${where}.items must be a list: ${j}`);
	assert.equal(r.items.length, lines.length, `${where} must hold ${lines.length} line(s): ${j}`);
	let total = 0;
	for (const [p, quantity] of lines) {
		const l = r.items.find((x) => x.product_id === p.id);
		assert.ok(l, `${where} must hold a line of product ${p.id}: ${j}`);
		assert.deepEqual(Object.keys(l).sort(), [...LINE_KEYS].sort(), `${where} lines must have exactly the fields ${LINE_KEYS.join(', ')}: ${j}`);
		assert.match(l.product_id, UUID_LOWER, `${where}: product_id must be a lower-case UUID: ${j}`);
		assert.deepEqual(l, {
			product_id: p.id, sku: p.sku, name: p.name, unit_price_cents: p.price_cents, quantity, line_total_cents: p.price_cents * quantity,
		}, `${where}: the line of ${p.id} must carry the product's sku, name and price: ${j}`);
		total += l.line_total_cents;
	}
	assert.equal(r.total_cents, total, `${where}.total_cents must be the sum of the lines (${total}): ${j}`);
	return r;
}

/** The product's stock now (GET /api/products/{id} on the daemon). */
async function stockOf(p) {
	const res = await productHttp.get(`/api/products/${p.id ?? p}`);
	return assertJson(res, 200, `GET /api/products/${p.id ?? p}`).stock;
}

/** The product's stock as the listing shows it (read from the database, never a cache), or undefined. */
async function listedStock(p) {
	const word = p.name.split(' ')[2] ?? p.name;
	const res = await productHttp.get(`/api/products?q=${encodeURIComponent(word)}&page_size=100`);
	return assertJson(res, 200, 'GET /api/products?q=...').items?.find((x) => x.id === p.id)?.stock;
}

/** Asserts each [product, stock] pair, saying when a stale cache is what differs. */
async function assertFreshStocks(pairs, what) {
	for (const [p, want] of pairs) {
		const got = await stockOf(p);
		if (got === want) continue;
		const listed = await listedStock(p);
		assert.equal(got, want, `${what}: product ${p.id} (${p.sku}) must have stock ${want}; GET /api/products/{id} says ${got}, ` +
			`the listing (the database) says ${listed}${listed === want ? ' — the product caches were not refreshed' : ''}`);
	}
}

/** Asserts each [product, stock] pair. */
async function assertStocks(pairs, what) {
	for (const [p, want] of pairs) {
		assert.equal(await stockOf(p), want, `${what}: product ${p.id} (${p.sku}) must have stock ${want}`);
	}
}

/** Polls `probe()` (every 200 ms) until `ok(value)`; returns the value or fails with `what`. */
async function pollUntil(probe, ok, { timeoutMs, what }) {
	const deadline = Date.now() + timeoutMs;
	let last;
	for (;;) {
		last = await probe();
		if (ok(last)) return last;
		if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms (last seen: ${JSON.stringify(last)})`);
		await sleep(200);
	}
}

/** Waits until the product's stock is `want`. */
function waitForStock(p, want, { timeoutMs = consumeTimeoutMs, what = '' } = {}) {
	return pollUntil(() => stockOf(p), (s) => s === want, { timeoutMs, what: `${what ? `${what}: ` : ''}product ${p.id} did not reach stock ${want}` });
}

/** Asserts the stock stays `want` for `ms` (nothing more happens). */
async function assertStockStays(p, want, ms, what) {
	const until = Date.now() + ms;
	do {
		assert.equal(await stockOf(p), want, `${what}: product ${p.id} must keep stock ${want}`);
		await sleep(200);
	} while (Date.now() < until);
}

/**
 * Publishes an order service's `eventType` for `order` (its id and
 * [product, quantity] lines) on shop.events through the management API,
 * with EVENTS.md's AMQP properties; checks it against its schema first
 * and that the broker routed it. Returns the envelope.
 */
async function publishOrderEvent(eventType, order, { eventId = newId() } = {}) {
	const items = order.lines.map(([p, quantity]) => ({ product_id: p.id, sku: p.sku, name: p.name, quantity, unit_price_cents: p.price_cents }));
	const data = {
		order_id: order.id,
		user_id: order.userId,
		user_email: 'itest-reservations@example.com',
		items,
		total_cents: items.reduce((t, l) => t + l.quantity * l.unit_price_cents, 0),
		currency: 'USD',
	};
	if (eventType === 'order.failed') data.reason = 'payment_failed';
	const envelope = {
		event_id: eventId,
		event_type: eventType,
		event_version: 1,
		occurred_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
		producer: 'order',
		correlation_id: `itest-resv-${newId()}`,
		data,
	};
	const validate = validators[eventType];
	assert.ok(validate(envelope), `the test's own ${eventType} must match shared/events/${eventType}.schema.json:\n  ${ajvErrors(validate)}`);
	const res = await mgmtApi('POST', `/api/exchanges/%2F/${encodeURIComponent(EXCHANGE)}/publish`, {
		properties: {
			delivery_mode: 2,
			content_type: 'application/json',
			message_id: eventId,
			type: eventType,
			correlation_id: envelope.correlation_id,
		},
		routing_key: eventType,
		payload: JSON.stringify(envelope),
		payload_encoding: 'string',
	});
	assert.ok(res.status === 200 && res.body?.routed === true,
		`publishing ${eventType} on ${EXCHANGE} must be routed (is the queue product.order-results declared and bound?)\n${show(res)}`);
	return envelope;
}

/** A fresh order of these [product, quantity] lines, reserved (201); returns it with its reservation. */
async function reservedOrder(lines, over = {}) {
	const order = { id: newId(), userId: newId(), lines };
	const res = await reserve(body(order.id, lines, over));
	order.reservation = assertReservation(assertJson(res, 201, `POST /internal/reservations (setup of order ${order.id})`), { orderId: order.id, lines });
	return order;
}

/** The order's reservation answered again (same lines): the raw answer. */
const replay = (order) => reserve(body(order.id, order.lines));

/** Waits until a replay of the order's reservation says `status` (the event was consumed). */
async function waitForStatus(order, status, { timeoutMs = consumeTimeoutMs } = {}) {
	return pollUntil(async () => {
		const res = await replay(order);
		return { status: res.status, body: res.body };
	}, (r) => r.status === 200 && r.body?.status === status, { timeoutMs, what: `the reservation of order ${order.id} did not become "${status}"` });
}

/** The product daemon's events_consumed_total for the queue, type and result. */
async function consumedCount(eventType, result) {
	const res = await productHttp.get('/metrics');
	assertStatus(res, 200, 'GET /metrics (product)');
	return metricValue(res.text, 'events_consumed_total', { queue: 'product.order-results', event_type: eventType, result }) ?? 0;
}

const fieldsOf = (p) => (p.errors ?? []).map((e) => e.field);

// ---------------------------------------------------------------- bad input

describe('POST /internal/reservations: bad input', () => {
	it('malformed JSON, trailing data, an empty body, an integer beyond 64 bits → 400 problem+json, nothing reserved', async () => {
		const p = await products.create({ stock: 10 });
		const orderId = newId();
		const good = JSON.stringify(body(orderId, [[p, 1]]));
		const huge = `{"order_id":"${orderId}","items":[{"product_id":"${p.id}","quantity":100000000000000000000}]}`;
		for (const raw of ['{bad', good.slice(0, -1), `${good} {}`, `${good}x`, '', huge]) {
			const res = await reserveRaw(raw);
			const prob = assertProblem(res, 400, { what: `POST /internal/reservations ${JSON.stringify(raw.slice(0, 80))}` });
			if (prob.errors !== undefined) assert.ok(Array.isArray(prob.errors), `errors must be a list\n${show(res)}`);
		}
		assert.equal(await stockOf(p), 10, 'a refused request takes no stock');
		// Nothing was recorded for the order: the same id now reserves.
		assertJson(await reserve(body(orderId, [[p, 1]])), 201, 'the order id of refused requests reserves afterwards');
	});

	it('a body that is not an object → 400 with errors[]', async () => {
		for (const json of [[], [body(newId(), [[newId(), 1]])], 'x', 1, true, null]) {
			assertProblem(await reserve(json), 400, { field: ['', 'body'], what: `body ${JSON.stringify(json).slice(0, 80)}` });
		}
	});

	it('wrong types, missing and unknown fields, at the top and in an item → 400 naming the field', async () => {
		const p = await products.create({ stock: 10 });
		const item = { product_id: p.id, quantity: 1 };
		const cases = [
			// [body, acceptable field names]
			[{ items: [item] }, ['order_id']],
			[{ order_id: newId() }, ['items']],
			[{}, ['order_id', 'items']],
			[{ order_id: 12, items: [item] }, ['order_id']],
			[{ order_id: null, items: [item] }, ['order_id']],
			[{ order_id: [newId()], items: [item] }, ['order_id']],
			[{ order_id: newId(), items: item }, ['items']],
			[{ order_id: newId(), items: 'x' }, ['items']],
			[{ order_id: newId(), items: null }, ['items']],
			[{ order_id: newId(), items: [item], hold_seconds: '60' }, ['hold_seconds']],
			[{ order_id: newId(), items: [item], hold_seconds: 1.5 }, ['hold_seconds']],
			[{ order_id: newId(), items: [item], hold_seconds: true }, ['hold_seconds']],
			[{ order_id: newId(), items: [item], hold_seconds: null }, ['hold_seconds']],
			[{ order_id: newId(), items: [item], colour: 'red' }, ['colour']],
			[{ order_id: newId(), items: [item], user_id: newId() }, ['user_id']],
			[{ order_id: newId(), items: ['x'] }, ['items', 'items[]']],
			[{ order_id: newId(), items: [null] }, ['items', 'items[]']],
			[{ order_id: newId(), items: [[p.id, 1]] }, ['items', 'items[]']],
			[{ order_id: newId(), items: [{ product_id: p.id }] }, ['items', 'items[].quantity']],
			[{ order_id: newId(), items: [{ quantity: 1 }] }, ['items', 'items[].product_id']],
			[{ order_id: newId(), items: [{ ...item, price_cents: 1 }] }, ['items', 'items[].price_cents']],
			[{ order_id: newId(), items: [{ product_id: 7, quantity: 1 }] }, ['items', 'items[].product_id']],
			[{ order_id: newId(), items: [{ product_id: p.id, quantity: '2' }] }, ['items', 'items[].quantity']],
			[{ order_id: newId(), items: [{ product_id: p.id, quantity: 1.5 }] }, ['items', 'items[].quantity']],
			[{ order_id: newId(), items: [{ product_id: p.id, quantity: null }] }, ['items', 'items[].quantity']],
		];
		for (const [json, field] of cases) {
			assertProblem(await reserve(json), 400, { field, what: `body ${JSON.stringify(json).slice(0, 200)}` });
		}
		assert.equal(await stockOf(p), 10, 'refused requests take no stock');
	});

	it('empty items, 201 items, bad UUIDs, quantities 0 and 1000001, a product twice, hold_seconds 0, -1, 86401 → 400 naming the field', async () => {
		const p = await products.create({ stock: 10 });
		const q = await products.create({ stock: 10 });
		const many = Array.from({ length: 201 }, () => [newId(), 1]);
		const cases = [
			[body(newId(), []), ['items']],
			[body(newId(), many), ['items']],
			[body('nope', [[p, 1]]), ['order_id']],
			[body('', [[p, 1]]), ['order_id']],
			[body(newId().replaceAll('-', ''), [[p, 1]]), ['order_id']],
			[body(`${newId()}0`, [[p, 1]]), ['order_id']],
			[body(`{${newId()}}`, [[p, 1]]), ['order_id']],
			[body(newId(), [['nope', 1]]), ['items[].product_id']],
			[body(newId(), [[p, 1], [`${q.id.slice(0, 35)}g`, 1]]), ['items[].product_id']],
			[body(newId(), [[p, 0]]), ['items[].quantity']],
			[body(newId(), [[p, -1]]), ['items[].quantity']],
			[body(newId(), [[p, 1000001]]), ['items[].quantity']],
			[body(newId(), [[p, 1], [q, 1000001]]), ['items[].quantity']],
			[body(newId(), [[p, 1], [p, 1]]), ['items']],
			[body(newId(), [[p, 1], [q, 2], [p.id.toUpperCase(), 1]]), ['items']],
			[body(newId(), [[p, 1]], { hold_seconds: 0 }), ['hold_seconds']],
			[body(newId(), [[p, 1]], { hold_seconds: -1 }), ['hold_seconds']],
			[body(newId(), [[p, 1]], { hold_seconds: 86401 }), ['hold_seconds']],
			[body(newId(), [[p, 1]], { hold_seconds: 2 ** 53 }), ['hold_seconds']],
		];
		for (const [json, field] of cases) {
			const res = await reserve(json);
			const prob = assertProblem(res, 400, { field, what: `body ${JSON.stringify(json).slice(0, 200)}` });
			const fields = fieldsOf(prob);
			assert.equal(new Set(fields).size, fields.length, `each field is named once: ${JSON.stringify(fields)}\n${show(res)}`);
		}
		// Several problems at once: each named.
		const prob = assertProblem(await reserve(body('nope', [[p, 0], [p, 1]], { hold_seconds: 86401 })), 400);
		for (const f of ['order_id', 'items[].quantity', 'items', 'hold_seconds']) {
			assert.ok(fieldsOf(prob).includes(f), `errors must name ${f}: ${JSON.stringify(prob.errors)}`);
		}
		await assertStocks([[p, 10], [q, 10]], 'refused requests take no stock');
	});

	it('the bounds themselves are valid: 200 items, quantity 1000000, hold_seconds 1 and 86400 (here: unknown products, 422)', async () => {
		const many = Array.from({ length: 200 }, () => [newId(), 1]);
		for (const json of [
			body(newId(), many),
			body(newId(), [[newId(), 1000000]]),
			body(newId(), [[newId(), 1]], { hold_seconds: 1 }),
			body(newId(), [[newId(), 1]], { hold_seconds: 86400 }),
		]) {
			const res = await reserve(json);
			const prob = assertProblem(res, 422, { what: `body ${JSON.stringify(json).slice(0, 200)}` });
			assert.ok(json.items.some((i) => prob.detail.includes(i.product_id)), `the 422 must name the unknown product\n${show(res)}`);
		}
	});

	it('without X-Internal-Token, or with a wrong one → 401 (before the body is looked at), POST and DELETE', async () => {
		const p = await products.create({ stock: 10 });
		const token = internalToken();
		const wrong = [
			{},
			{ 'x-internal-token': '' },
			{ 'x-internal-token': `${token}x` },
			{ 'x-internal-token': token.slice(0, -1) },
			{ 'x-internal-token': token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase() },
			{ 'x-internal-token': crypto.randomBytes(32).toString('hex') },
			{ authorization: `Bearer ${adminToken()}` },
		];
		for (const headers of wrong) {
			const label = JSON.stringify(Object.keys(headers));
			const orderId = newId();
			assertProblem(await reserve(body(orderId, [[p, 1]]), { headers }), 401, { what: `POST with ${label}` });
			assertProblem(await reserveRaw('{bad', { headers }), 401, { what: `POST of malformed JSON with ${label}` });
			assertProblem(await cancel(orderId, { headers }), 401, { what: `DELETE with ${label}` });
		}
		assert.equal(await stockOf(p), 10, 'unauthorised requests take no stock');
	});

	it('an unknown product → 422 naming it; the known products\' stock is untouched', async () => {
		const p = await products.create({ stock: 10 });
		const missing = newId();
		for (const lines of [[[missing, 1]], [[p, 2], [missing, 1]], [[missing, 1], [p, 2]]]) {
			const res = await reserve(body(newId(), lines));
			const prob = assertProblem(res, 422, { what: 'a reservation of an unknown product' });
			assert.ok(prob.detail.includes(missing), `the 422 must name the unknown product ${missing}\n${show(res)}`);
		}
		// A product deleted since is unknown too.
		const gone = await products.create({ stock: 10 });
		await products.remove(gone.id);
		const prob = assertProblem(await reserve(body(newId(), [[p, 1], [gone, 1]])), 422);
		assert.ok(prob.detail.includes(gone.id), `the 422 must name the deleted product: ${prob.detail}`);
		assert.equal(await stockOf(p), 10, 'nothing was reserved');
	});

	it('products priced in two currencies → 422; nothing reserved', async () => {
		const usd = await products.create({ stock: 10 });
		const eur = await products.create({ stock: 10, currency: 'EUR' });
		assert.equal(eur.currency, 'EUR');
		const res = await reserve(body(newId(), [[usd, 1], [eur, 1]]));
		const prob = assertProblem(res, 422, { what: 'a reservation across currencies' });
		assert.match(prob.detail, /currenc/i, `the 422 must say why\n${show(res)}`);
		await assertStocks([[usd, 10], [eur, 10]], 'a refused reservation');
		// One currency alone is fine, and the reservation says it.
		const order = { id: newId(), lines: [[eur, 2]] };
		const r = assertJson(await reserve(body(order.id, order.lines)), 201, 'a reservation in EUR');
		assertReservation(r, { orderId: order.id, lines: order.lines, currency: 'EUR' });
		assert.equal(await stockOf(eur), 8);
	});
});

// ---------------------------------------------------------------- reserving

describe('POST /internal/reservations: reserving', () => {
	it('201 with the reservation: the products\' prices, the total; the stock drops at once', async () => {
		const a = await products.create({ price_cents: 1234, stock: 20 });
		const b = await products.create({ price_cents: 50, stock: 3 });
		await assertStocks([[a, 20], [b, 3]], 'before'); // cached now: the reservation must refresh it
		const orderId = newId();
		const lines = [[a, 3], [b, 3]];
		const before = Date.now();
		const res = await reserve(body(orderId, lines));
		const r = assertReservation(assertJson(res, 201, 'POST /internal/reservations'), { orderId, lines });
		assert.equal(r.total_cents, 3 * 1234 + 3 * 50);
		const expires = Date.parse(r.expires_at);
		assert.ok(expires >= before - 2000 + 60 * 1000, `without hold_seconds the daemon's default hold applies (at least a minute): expires_at ${r.expires_at}\n${show(res)}`);
		assert.ok(expires <= Date.now() + 86400 * 1000 + 2000, `expires_at at most a day away: ${r.expires_at}`);
		await assertStocks([[a, 17], [b, 0]], 'right after the reservation');
		const listed = assertJson(await productHttp.get(`/api/products?q=${encodeURIComponent(b.name)}`), 200);
		const inList = listed.items.find((x) => x.id === b.id);
		if (inList) assert.equal(inList.stock, 0, 'the listing shows the reserved stock too');
	});

	it('hold_seconds sets expires_at', async () => {
		const p = await products.create({ stock: 5 });
		const orderId = newId();
		const before = Date.now();
		const r = assertJson(await reserve(body(orderId, [[p, 1]], { hold_seconds: 3600 })), 201);
		const expires = Date.parse(r.expires_at);
		assert.ok(expires >= before - 2000 + 3600 * 1000 && expires <= Date.now() + 2000 + 3600 * 1000,
			`expires_at must be about an hour from now: ${r.expires_at}`);
	});

	it('the same request again → 200 with the same body; the stock is unchanged', async () => {
		const a = await products.create({ price_cents: 700, stock: 10 });
		const b = await products.create({ price_cents: 300, stock: 10 });
		const orderId = newId();
		const lines = [[a, 2], [b, 5]];
		const first = assertJson(await reserve(body(orderId, lines)), 201, 'first');
		for (const again of [lines, [...lines].reverse()]) {
			const res = await reserve(body(orderId, again));
			const r = assertJson(res, 200, 'the same order and items again');
			assert.deepEqual(r, first, `the replay answers the very same reservation\n${show(res)}`);
		}
		// Upper-case ids name the same order and products.
		const res = await reserve(body(orderId.toUpperCase(), lines.map(([p, n]) => [p.id.toUpperCase(), n])));
		const r = assertJson(res, 200, 'the same order and items in upper case');
		assert.deepEqual({ ...r, order_id: r.order_id.toLowerCase() }, first, `the same reservation\n${show(res)}`);
		await assertStocks([[a, 8], [b, 5]], 'after the replays');
	});

	it('the same order with other items → 409; nothing changes', async () => {
		const a = await products.create({ stock: 10 });
		const b = await products.create({ stock: 10 });
		const orderId = newId();
		const first = assertJson(await reserve(body(orderId, [[a, 2]])), 201);
		for (const lines of [[[a, 3]], [[b, 2]], [[a, 2], [b, 1]], [[a, 1]]]) {
			const res = await reserve(body(orderId, lines));
			const prob = assertProblem(res, 409, { what: `order ${orderId} with other items ${JSON.stringify(lines.map(([p, n]) => [p.sku, n]))}` });
			assert.ok(prob.detail.includes(orderId), `the 409 names the order\n${show(res)}`);
		}
		await assertStocks([[a, 8], [b, 10]], 'after the refused changes');
		assert.deepEqual(assertJson(await reserve(body(orderId, [[a, 2]])), 200), first, 'the original still answers');
	});

	it('all or nothing: one line short → 409 naming that product and what is left; no product\'s stock changes', async () => {
		const plenty = await products.create({ stock: 10 });
		const scarce = await products.create({ stock: 2 });
		const third = await products.create({ stock: 10 });
		const orderId = newId();
		for (const lines of [[[plenty, 5], [scarce, 3]], [[scarce, 3], [plenty, 5], [third, 1]]]) {
			const res = await reserve(body(orderId, lines));
			const prob = assertProblem(res, 409, { what: 'a reservation with one line short' });
			assert.ok(prob.detail.includes(scarce.id), `the 409 must name the product short of stock ${scarce.id}\n${show(res)}`);
			assert.ok(!prob.detail.includes(plenty.id), `the 409 must not blame the product with enough stock\n${show(res)}`);
			assert.match(prob.detail, /\b2\b/, `the 409 says what is left (2)\n${show(res)}`);
		}
		await assertStocks([[plenty, 10], [scarce, 2], [third, 10]], 'after the refused reservation');
		// Nothing recorded for the order: it reserves what there is.
		assertJson(await reserve(body(orderId, [[plenty, 5], [scarce, 2]])), 201, 'the order id reserves once the request fits');
		await assertStocks([[plenty, 5], [scarce, 0]], 'after the reservation that fits');
		const res = await reserve(body(newId(), [[scarce, 1]]));
		const prob = assertProblem(res, 409, { what: 'a product sold out' });
		assert.ok(prob.detail.includes(scarce.id), `names the product\n${show(res)}`);
		assert.match(prob.detail, /\b0\b/, `says 0 left\n${show(res)}`);
	});
});

// ---------------------------------------------------------------- concurrency

describe('POST /internal/reservations: concurrent buyers', () => {
	it('THE RACE: stock 5, 12 buyers at once → exactly 5 win (201), 7 get 409, stock 0', async () => {
		const p = await products.create({ stock: 5 });
		assert.equal(await stockOf(p), 5);
		const orders = Array.from({ length: 12 }, () => newId());
		const answers = await Promise.all(orders.map((id) => reserve(body(id, [[p, 1]]))));
		const codes = answers.map((r) => r.status);
		const won = answers.filter((r) => r.status === 201);
		const lost = answers.filter((r) => r.status === 409);
		assert.equal(won.length, 5, `exactly 5 of 12 must win the last 5 units; statuses ${JSON.stringify(codes)}\n${answers.filter((r) => r.status !== 201 && r.status !== 409).map(show).join('\n')}`);
		assert.equal(lost.length, 7, `the other 7 must be 409; statuses ${JSON.stringify(codes)}`);
		for (const r of lost) assertProblem(r, 409, { what: 'a buyer who lost the race' });
		for (const r of won) assert.equal(r.body.items[0].quantity, 1);
		assert.equal(await stockOf(p), 0, 'the stock must be 0, never negative, and shown as 0 (also by a cache refreshed by concurrent writers)');
		// The winners' orders each hold their unit: a replay answers 200.
		for (const [i, r] of answers.entries()) {
			const again = await reserve(body(orders[i], [[p, 1]]));
			if (r.status === 201) assertJson(again, 200, `a winner's replay (order ${orders[i]})`);
			else assertProblem(again, 409, { what: `a loser's retry (order ${orders[i]})` });
		}
	});

	it('buyers locking two products in opposite orders never deadlock: all answer in time, stock exact', async () => {
		const a = await products.create({ stock: 100 });
		const b = await products.create({ stock: 100 });
		const n = 24;
		const started = Date.now();
		const answers = await Promise.all(Array.from({ length: n }, (_, i) => {
			const lines = i % 2 ? [[a, 1], [b, 2]] : [[b, 2], [a, 1]];
			return reserve(body(newId(), lines));
		}));
		const codes = answers.map((r) => r.status);
		assert.ok(codes.every((c) => c === 201), `every buyer must get 201 (no deadlock, no 5xx); statuses ${JSON.stringify(codes)}\n${answers.filter((r) => r.status !== 201).map(show).join('\n')}`);
		assert.ok(Date.now() - started < env.requestTimeoutMs, `all answered within ${env.requestTimeoutMs} ms`);
		await assertStocks([[a, 100 - n], [b, 100 - 2 * n]], 'after the concurrent buyers');
	});

	it('opposite orders on scarce stock: every buyer answers, the stock is never oversold', async () => {
		const a = await products.create({ stock: 6 });
		const b = await products.create({ stock: 6 });
		const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => {
			const lines = i % 2 ? [[a, 1], [b, 1]] : [[b, 1], [a, 1]];
			return reserve(body(newId(), lines));
		}));
		const codes = answers.map((r) => r.status);
		assert.ok(codes.every((c) => c === 201 || c === 409), `201 or 409 only; statuses ${JSON.stringify(codes)}`);
		assert.equal(codes.filter((c) => c === 201).length, 6, `exactly 6 buyers fit; statuses ${JSON.stringify(codes)}`);
		await assertStocks([[a, 0], [b, 0]], 'after the scarce race');
	});

	it('the same order sent by several callers at once: one reservation (one 201, the rest 200), stock taken once', async () => {
		const p = await products.create({ stock: 10 });
		const orderId = newId();
		const answers = await Promise.all(Array.from({ length: 6 }, () => reserve(body(orderId, [[p, 3]]))));
		const codes = answers.map((r) => r.status).sort();
		assert.deepEqual(codes, [200, 200, 200, 200, 200, 201], `one 201 and five 200: ${JSON.stringify(codes)}\n${answers.filter((r) => r.status >= 300).map(show).join('\n')}`);
		assert.equal(await stockOf(p), 7, 'the stock is taken once');
	});
});

// ---------------------------------------------------------------- cancel

describe('DELETE /internal/reservations/{order_id}', () => {
	it('→ 204 and the stock returns; again → 204 and no change; the order cannot reserve again (409)', async () => {
		const a = await products.create({ stock: 10 });
		const b = await products.create({ stock: 4 });
		const order = await reservedOrder([[a, 3], [b, 4]]);
		await assertStocks([[a, 7], [b, 0]], 'reserved');
		const res = await cancel(order.id);
		assertStatus(res, 204, 'DELETE /internal/reservations/{order_id}');
		assert.equal(res.text, '', 'a 204 has no body');
		await assertStocks([[a, 10], [b, 4]], 'cancelled');
		assertStatus(await cancel(order.id), 204, 'cancelling again');
		assertStatus(await cancel(order.id.toUpperCase()), 204, 'cancelling again, in upper case');
		await assertStocks([[a, 10], [b, 4]], 'cancelled twice');
		for (const lines of [order.lines, [[a, 1]]]) {
			const again = await reserve(body(order.id, lines));
			const prob = assertProblem(again, 409, { what: 'the order reserves again after its cancel' });
			assert.ok(prob.detail.includes(order.id), `names the order\n${show(again)}`);
		}
		await assertStocks([[a, 10], [b, 4]], 'after the refused re-reservation');
	});

	it('an order that reserved nothing → 204; a non-UUID → 404', async () => {
		assertStatus(await cancel(newId()), 204, 'cancelling an order that never reserved');
		for (const bad of ['nope', '123', `${newId()}0`, newId().replaceAll('-', '')]) {
			assertProblem(await cancel(bad), 404, { what: `DELETE /internal/reservations/${bad}` });
		}
	});
});

// ---------------------------------------------------------------- the orders' outcomes

describe('the orders\' outcomes on shop.events (queue product.order-results)', () => {
	it('order.failed → the stock comes back; the order\'s reservation is then gone (409)', async () => {
		const a = await products.create({ stock: 10 });
		const b = await products.create({ stock: 10 });
		const order = await reservedOrder([[a, 2], [b, 5]]);
		await assertStocks([[a, 8], [b, 5]], 'reserved');
		await publishOrderEvent('order.failed', order);
		await waitForStock(a, 10, { what: 'after order.failed' });
		await waitForStock(b, 10, { what: 'after order.failed' });
		const res = await replay(order);
		const prob = assertProblem(res, 409, { what: 'the order reserves again after order.failed' });
		assert.match(prob.detail, /released/, `the 409 says the reservation was released\n${show(res)}`);
		await assertStocks([[a, 10], [b, 10]], 'after the refused replay');
	});

	it('order.confirmed → the stock stays down (committed); a later cancel gives nothing back', async () => {
		const a = await products.create({ stock: 10 });
		const order = await reservedOrder([[a, 4]]);
		await publishOrderEvent('order.confirmed', order);
		const seen = await waitForStatus(order, 'committed');
		assertReservation(seen.body, { orderId: order.id, lines: order.lines, status: 'committed' });
		assert.equal(await stockOf(a), 6, 'a committed reservation keeps its stock');
		assertStatus(await cancel(order.id), 204, 'cancelling a committed order');
		await assertStockStays(a, 6, 1000, 'a cancel after the commit');
		assert.equal((await waitForStatus(order, 'committed')).status, 200, 'the reservation stays committed');
		// A redelivered or repeated order.confirmed changes nothing either.
		await publishOrderEvent('order.confirmed', order);
		await publishOrderEvent('order.failed', order);
		await assertStockStays(a, 6, 1500, 'order.confirmed again, then order.failed, after the commit');
		assert.equal((await waitForStatus(order, 'committed')).status, 200, 'the reservation stays committed');
	});

	it('the same order.failed twice (same event_id), and once more with another event_id → the stock comes back once', async () => {
		const a = await products.create({ stock: 10 });
		const order = await reservedOrder([[a, 3]]);
		const dupBefore = await consumedCount('order.failed', 'duplicate');
		const eventId = newId();
		await publishOrderEvent('order.failed', order, { eventId });
		await publishOrderEvent('order.failed', order, { eventId });
		await publishOrderEvent('order.failed', order);
		await waitForStock(a, 10, { what: 'after order.failed' });
		await assertStockStays(a, 10, 1500, 'the repeats of order.failed');
		// The daemon counts the repeat as a duplicate: only this daemon can
		// have seen it when it is the queue's one consumer (with replicas,
		// another may have).
		const q = await mgmtApi('GET', '/api/queues/%2F/product.order-results');
		if (q.status === 200 && q.body?.consumers === 1) {
			await pollUntil(() => consumedCount('order.failed', 'duplicate'), (n) => n >= dupBefore + 1,
				{ timeoutMs: consumeTimeoutMs, what: 'the second delivery of the same event_id was not counted as a duplicate (events_consumed_total{result="duplicate"})' });
		}
		// Another order's stock of the same product is not given back by them.
		const other = await reservedOrder([[a, 1]]);
		await publishOrderEvent('order.failed', order);
		await publishOrderEvent('order.failed', order, { eventId });
		await assertStockStays(a, 9, 1500, 'order.failed of an order already released, beside another order\'s hold');
		assertStatus(await cancel(other.id), 204);
		assert.equal(await stockOf(a), 10);
	});

	it('order.failed / order.confirmed of an order that reserved nothing change nothing', async () => {
		const a = await products.create({ stock: 10 });
		const held = await reservedOrder([[a, 1]]);
		const stranger = { id: newId(), userId: newId(), lines: [[a, 5]] };
		await publishOrderEvent('order.failed', stranger);
		await publishOrderEvent('order.confirmed', { ...stranger, id: newId() });
		await assertStockStays(a, 9, 1500, 'outcomes of orders that reserved nothing');
		// The queue is not stuck behind them: the held order's outcome still lands.
		await publishOrderEvent('order.failed', held);
		await waitForStock(a, 10, { what: 'an order.failed after the strangers\'' });
	});
});

// ---------------------------------------------------------------- expiry

describe('expiry', () => {
	it(`a hold of 1 s comes back once expired (within ${expiryTimeoutMs} ms); a late order.confirmed then takes the stock again`, async () => {
		const a = await products.create({ stock: 10 });
		const b = await products.create({ stock: 10 });
		const keep = await reservedOrder([[a, 1]]); // a long hold beside it: not swept
		const order = await reservedOrder([[a, 2], [b, 3]], { hold_seconds: 1 });
		const expires = Date.parse(order.reservation.expires_at);
		assert.ok(expires <= Date.now() + 2000, `hold_seconds 1: expires_at ${order.reservation.expires_at} is about now`);
		await waitForStock(a, 9, { timeoutMs: expiryTimeoutMs, what: 'the expired hold was not given back (RESERVATION_SWEEP_INTERVAL_S; set SHOP_RESERVATION_EXPIRY_TIMEOUT_MS)' });
		await waitForStock(b, 10, { timeoutMs: 5000, what: 'the expired hold\'s second line' });
		// Released: a replay is 409 (gone).
		const gone = await replay(order);
		assert.match(assertProblem(gone, 409, { what: 'a replay of an expired hold' }).detail, /released/);
		// The order was paid after all: order.confirmed commits it late,
		// taking its stock again.
		await publishOrderEvent('order.confirmed', order);
		await waitForStatus(order, 'committed');
		await assertFreshStocks([[a, 7], [b, 7]], 'after the late order.confirmed (the stock is taken again, and shown so)');
		// The long hold was never swept.
		assert.equal((await waitForStatus(keep, 'held')).status, 200, 'the other order still holds its stock');
		assertStatus(await cancel(keep.id), 204);
		assert.equal(await stockOf(a), 8);
	});

	it('a late order.confirmed takes only what is left when the stock was sold again meanwhile (never negative)', async () => {
		const a = await products.create({ stock: 5 });
		const order = await reservedOrder([[a, 4]], { hold_seconds: 1 });
		await waitForStock(a, 5, { timeoutMs: expiryTimeoutMs, what: 'the expired hold was not given back' });
		await reservedOrder([[a, 3]]); // someone else buys 3 of the 5
		assert.equal(await stockOf(a), 2);
		await publishOrderEvent('order.confirmed', order);
		await waitForStatus(order, 'committed');
		await assertFreshStocks([[a, 0]], 'the late commit takes what is left (2 of 4), never below 0');
	});
});
