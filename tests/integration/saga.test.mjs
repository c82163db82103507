// The order saga end to end, through the gateway (ARCHITECTURE.md "The
// order saga", EVENTS.md, API.md Orders / Payments / Emails): a real user
// registers (a welcome mail reaches the SMTP sink, GET /api/emails shows it
// sent); two throw-away products go into the cart; POST /api/orders with
// tok_visa answers 201 pending and the order becomes confirmed, with
// exactly one succeeded payment of the order's total, exactly one
// order_confirmed mail naming the lines and the total, the cart empty and
// the stock down for good (the reservation committed); tok_chargeDeclined
// ends failed (card_declined) with the stock back (the reservation
// released), one order_failed mail and no confirmation; another user sees
// none of it (404s, empty lists); and every event published on shop.events
// during a checkout (watched on a throw-away queue bound to '#') is valid
// against its schema in shared/events/ and carries the checkout's
// X-Request-ID as its correlation_id.
//
// Holds the broker lock shared (it reads events; never during
// broker-outage.test.mjs or saga-faults.test.mjs) and the catalog lock
// (its products must not show up in the read-only catalog checks).
// SHOP_SAGA_TIMEOUT_MS (default 30000): how long an order may take to
// settle and its mail to reach the sink.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { env } from './lib/env.mjs';
import { client, show, assertJson, assertProblem, waitForHealthy, once } from './lib/http.mjs';
import { adminToken } from './lib/jwt.mjs';
import { registerUser } from './lib/users.mjs';
import { acquireBrokerLock, declareTestQueue, deleteQueue, takeMessages } from './lib/broker.mjs';
import { acquireCatalogLock, getCategories } from './lib/catalog.mjs';
import { ajvErrors, assertEnvelope, compileSchema, EVENT_SAMPLES } from './lib/events.mjs';
import { internalToken, productFactory } from './lib/cart.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const SAGA_TIMEOUT_MS = Number(process.env.SHOP_SAGA_TIMEOUT_MS) || 30000;
/** After the first mail of an event, how long a second one is waited for. */
const DUPLICATE_WINDOW_MS = 2500;

const gw = client(env.gatewayUrl);
const productHttp = client(env.productUrl);
const mailNew = path.join(env.mailDir, 'new');
const runId = crypto.randomBytes(4).toString('hex');
const ADDRESS = { name: 'Itest Saga', line1: '1 Saga Street', line2: null, city: 'Testville', postal_code: '12345', country: 'DE' };
const ORDER_KEYS = ['id', 'user_id', 'status', 'items', 'total_cents', 'currency', 'shipping_address', 'payment', 'status_history', 'created_at', 'updated_at'];
const ORDER_LINE_KEYS = ['product_id', 'sku', 'name', 'unit_price_cents', 'quantity', 'line_total_cents'];
const PAYMENT_KEYS = ['id', 'order_id', 'user_id', 'amount_cents', 'currency', 'status', 'failure_reason', 'provider_ref', 'created_at'];
const EMAIL_KEYS = ['id', 'user_id', 'to', 'kind', 'subject', 'order_id', 'status', 'attempts', 'created_at', 'sent_at'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

let releaseBroker;
let releaseCatalog;
let queue;
let products;
let validators;
/** Every message taken off `queue` so far (the tests share it). */
const inbox = [];

const setup = once(async () => {
	for (const url of [env.gatewayUrl, env.orderUrl, env.paymentUrl, env.emailUrl, env.cartUrl, env.productUrl]) await waitForHealthy(url);
	adminToken(); // fail early, with the key path, when the key is unusable
	internalToken();
	assert.ok(fs.existsSync(mailNew), `no Maildir at ${mailNew}: is the SMTP sink running (SHOP_MAIL_DIR)?`);
	releaseBroker = await acquireBrokerLock('shared'); // never while the broker is down for another test
	releaseCatalog = await acquireCatalogLock();
	const cats = await getCategories(gw);
	assert.ok(cats.length > 0, 'the catalog needs at least one category');
	products = productFactory(gw, { tag: 'saga', category: cats[0].slug });
	queue = await declareTestQueue('saga', ['#']);
	validators = {};
	for (const t of Object.keys(EVENT_SAMPLES)) validators[t] = await compileSchema(t);
});

/** it(name, [opts], fn) that awaits setup() first. */
const it = (name, opts, fn) => (fn === undefined
	? nodeIt(name, async (t) => { await setup(); return opts(t); })
	: nodeIt(name, opts, async (t) => { await setup(); return fn(t); }));

after(async () => {
	try {
		await products?.sweep();
		if (queue) await deleteQueue(queue);
	} finally {
		releaseCatalog?.();
		releaseBroker?.();
	}
});

// ---------------------------------------------------------------- the SMTP sink

/** Decodes a quoted-printable body into a UTF-8 string. */
function qpDecode(text) {
	const soft = text.replace(/=\r?\n/g, '');
	const bytes = [];
	for (let i = 0; i < soft.length; i++) {
		const m = /^=([0-9A-F]{2})/.exec(soft.slice(i, i + 3));
		if (m) {
			bytes.push(parseInt(m[1], 16));
			i += 2;
		} else {
			bytes.push(...Buffer.from(soft[i], 'utf8'));
		}
	}
	return Buffer.from(bytes).toString('utf8');
}

/** Decodes RFC 2047 encoded words (=?UTF-8?B?...?= / ?Q?) of a header value. */
function decodeHeader(v) {
	return String(v ?? '').replace(/\r?\n[ \t]/g, ' ')
		.replace(/=\?UTF-8\?B\?([^?]*)\?=(\s+(?==\?UTF-8\?[BQ]\?))?/gi, (_, b) => Buffer.from(b, 'base64').toString('utf8'))
		.replace(/=\?UTF-8\?Q\?([^?]*)\?=(\s+(?==\?UTF-8\?[BQ]\?))?/gi, (_, q) => qpDecode(q.replace(/_/g, ' ')));
}

/** A mail file: { file, headers (lower-case names), body (decoded), kind, eventId, orderIds }. */
function parseMail(file, raw) {
	const sep = raw.search(/\r?\n\r?\n/);
	const head = sep < 0 ? raw : raw.slice(0, sep);
	const headers = {};
	for (const line of head.split(/\r?\n(?![ \t])/)) {
		const i = line.indexOf(':');
		if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
	}
	const rawBody = sep < 0 ? '' : raw.slice(sep).replace(/^\r?\n\r?\n/, '');
	const body = /quoted-printable/i.test(headers['content-transfer-encoding'] ?? '') ? qpDecode(rawBody) : rawBody;
	const mid = /^<([0-9a-f-]{36})\.([a-z_]+)@[^>]+>$/i.exec(headers['message-id'] ?? '');
	return {
		file,
		headers,
		body,
		subject: decodeHeader(headers.subject),
		kind: mid?.[2],
		eventId: mid?.[1]?.toLowerCase(),
		orderIds: new Set((body.match(UUID_G) ?? []).map((s) => s.toLowerCase())),
	};
}

const mailCache = new Map(); // the Maildir only grows during a run
function readMails() {
	for (const f of fs.readdirSync(mailNew)) {
		if (mailCache.has(f)) continue;
		try {
			mailCache.set(f, parseMail(f, fs.readFileSync(path.join(mailNew, f), 'utf8')));
		} catch (err) {
			if (err.code !== 'ENOENT') throw err; // moved meanwhile
		}
	}
	return [...mailCache.values()];
}

/** The mails of `kind` naming `orderId`. */
const orderMails = (orderId, kind) => readMails().filter((m) => m.kind === kind && m.orderIds.has(orderId.toLowerCase()));

/**
 * Waits until `pred` finds a mail, then DUPLICATE_WINDOW_MS more (a second
 * one would show by then); returns every matching mail.
 */
async function waitForMails(pred, what, ms = SAGA_TIMEOUT_MS) {
	const deadline = Date.now() + ms;
	while (readMails().filter(pred).length === 0) {
		assert.ok(Date.now() < deadline, `${what}: no such mail reached the SMTP sink (${mailNew}) within ${ms} ms`);
		await sleep(100);
	}
	await sleep(DUPLICATE_WINDOW_MS);
	return readMails().filter(pred);
}

const describeMails = (mails) => mails.map((m) => `${m.file}: ${m.headers['message-id']} ${m.subject}`).join('\n  ');

// ---------------------------------------------------------------- shapes

function assertOrder(o, where = 'order') {
	const j = JSON.stringify(o);
	assert.ok(o && typeof o === 'object' && !Array.isArray(o), `${where} must be an object: ${j}`);
	assert.deepEqual(Object.keys(o).sort(), [...ORDER_KEYS].sort(), `${where} must have exactly ${ORDER_KEYS.join(', ')}: ${j}`);
	assert.match(o.id, UUID_RE, `${where}.id: ${j}`);
	assert.ok(['pending', 'confirmed', 'failed'].includes(o.status), `${where}.status: ${j}`);
	assert.ok(Array.isArray(o.items) && o.items.length > 0, `${where}.items: ${j}`);
	let total = 0;
	for (const l of o.items) {
		assert.deepEqual(Object.keys(l).sort(), [...ORDER_LINE_KEYS].sort(), `${where} lines must have exactly ${ORDER_LINE_KEYS.join(', ')}: ${j}`);
		assert.equal(l.line_total_cents, l.unit_price_cents * l.quantity, `${where}: line_total_cents = unit x quantity: ${j}`);
		total += l.line_total_cents;
	}
	assert.equal(o.total_cents, total, `${where}.total_cents must be the sum of its lines: ${j}`);
	assert.ok(Array.isArray(o.status_history) && o.status_history.length >= 1, `${where}.status_history: ${j}`);
	assert.equal(o.status_history[0].status, 'pending', `${where}: the history starts pending: ${j}`);
	assert.equal(o.status_history.at(-1).status, o.status, `${where}: the history ends with the status: ${j}`);
	return o;
}

function assertPayment(p, where = 'payment') {
	const j = JSON.stringify(p);
	assert.deepEqual(Object.keys(p ?? {}).sort(), [...PAYMENT_KEYS].sort(), `${where} must have exactly ${PAYMENT_KEYS.join(', ')}: ${j}`);
	assert.ok(['succeeded', 'declined'].includes(p.status), `${where}.status: ${j}`);
	return p;
}

function assertEmailPage(res, what) {
	const body = assertJson(res, 200, what);
	assert.ok(body && Array.isArray(body.items) && Number.isInteger(body.total), `${what}: a page {items, page, page_size, total}\n${show(res)}`);
	for (const e of body.items) {
		assert.deepEqual(Object.keys(e).sort(), [...EMAIL_KEYS].sort(), `${what}: an email has exactly ${EMAIL_KEYS.join(', ')}\n${show(res)}`);
	}
	return body;
}

// ---------------------------------------------------------------- helpers

/** The product's stock now (the product daemon, GET /api/products/{id}). */
async function stockOf(p) {
	return assertJson(await productHttp.get(`/api/products/${p.id}`), 200, `GET /api/products/${p.id}`).stock;
}

/** Polls GET /api/orders/{id} (gateway, owner) until it leaves pending; returns it. */
async function waitSettled(token, orderId) {
	const deadline = Date.now() + SAGA_TIMEOUT_MS;
	for (;;) {
		const res = await gw.get(`/api/orders/${orderId}`, { token });
		const o = assertJson(res, 200, `GET /api/orders/${orderId}`);
		if (o.status !== 'pending') return assertOrder(o, `order ${orderId}`);
		assert.ok(Date.now() < deadline, `order ${orderId} is still pending after ${SAGA_TIMEOUT_MS} ms:\n${show(res)}`);
		await sleep(150);
	}
}

/**
 * The order's reservation as the product service answers a replay of it
 * (POST /internal/reservations with the same order id and lines: 200 with
 * its status while it exists, 409 once released). Only for an order that
 * did reserve (a 201), else it would reserve.
 */
async function replayReservation(order) {
	const items = order.items.map((l) => ({ product_id: l.product_id, quantity: l.quantity }));
	return productHttp.post('/internal/reservations', { order_id: order.id, items }, { headers: { 'x-internal-token': internalToken() } });
}

/** Polls the reservation replay until `want(res)`; returns the answer. */
async function waitReservation(order, want, what) {
	const deadline = Date.now() + SAGA_TIMEOUT_MS;
	for (;;) {
		const res = await replayReservation(order);
		if (want(res)) return res;
		assert.ok(Date.now() < deadline, `${what} (order ${order.id}) within ${SAGA_TIMEOUT_MS} ms:\n${show(res)}`);
		await sleep(200);
	}
}

/** Takes what the queue holds into the inbox; returns the messages about `orderId` or with `requestId`. */
async function eventsOf(orderId, requestId) {
	inbox.push(...(await takeMessages(queue, 500)));
	return inbox.filter((m) => m.body?.data?.order_id === orderId || m.body?.correlation_id === requestId || m.properties?.correlation_id === requestId);
}

/** Waits until the checkout's events include every type of `types`, then 1.5 s more; returns them. */
async function checkoutEvents(orderId, requestId, types) {
	const deadline = Date.now() + SAGA_TIMEOUT_MS;
	for (;;) {
		const got = await eventsOf(orderId, requestId);
		if (types.every((t) => got.some((m) => m.routingKey === t))) break;
		assert.ok(Date.now() < deadline, `the events ${types.join(', ')} of order ${orderId} did not all arrive within ${SAGA_TIMEOUT_MS} ms; seen:\n  ` +
			got.map((m) => `${m.routingKey} ${m.payload.slice(0, 300)}`).join('\n  '));
		await sleep(200);
	}
	await sleep(1500);
	return eventsOf(orderId, requestId);
}

/**
 * Asserts the checkout's events are exactly `types` (one each, in causal
 * order of occurred_at), each a valid envelope of its producer, valid
 * against shared/events/<type>.schema.json, with correlation_id = the
 * checkout's X-Request-ID. Returns { type: envelope }.
 */
function assertCheckoutEvents(msgs, { orderId, requestId, types }) {
	const seen = msgs.map((m) => m.routingKey).sort();
	assert.deepEqual(seen, [...types].sort(), `the checkout of order ${orderId} must publish exactly ${types.join(', ')} (one each); got:\n  ` +
		msgs.map((m) => `${m.routingKey} ${m.payload.slice(0, 300)}`).join('\n  '));
	const out = {};
	for (const m of msgs) {
		const type = m.routingKey;
		const e = assertEnvelope(m, { eventType: type, producer: EVENT_SAMPLES[type].producer });
		assert.ok(validators[type](e), `${type} must be valid against shared/events/${type}.schema.json:\n  ${ajvErrors(validators[type])}\n${m.payload}`);
		assert.equal(e.correlation_id, requestId, `${type} must carry the checkout's X-Request-ID as correlation_id: ${m.payload}`);
		assert.equal(e.data.order_id, orderId, `${type}.data.order_id: ${m.payload}`);
		out[type] = e;
	}
	const ids = msgs.map((m) => m.body.event_id);
	assert.equal(new Set(ids).size, ids.length, `no event_id twice: ${ids.join(', ')}`);
	return out;
}

/** Asserts event data items equal the order's lines (product_id, sku, name, quantity, unit price). */
function assertEventItems(e, order) {
	const want = order.items.map((l) => ({ product_id: l.product_id, sku: l.sku, name: l.name, quantity: l.quantity, unit_price_cents: l.unit_price_cents }));
	const byId = (a, b) => a.product_id.localeCompare(b.product_id);
	assert.deepEqual([...e.data.items].sort(byId), want.sort(byId), `${e.event_type}.data.items must be the order's lines: ${JSON.stringify(e.data)}`);
	assert.equal(e.data.total_cents, order.total_cents, `${e.event_type}.data.total_cents`);
	assert.equal(e.data.currency, order.currency, `${e.event_type}.data.currency`);
}

const money = (cents, cur = 'USD') => `${cur} ${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** Fills the buyer's cart through the gateway with [product, quantity] lines. */
async function fillCart(token, lines) {
	for (const [p, q] of lines) {
		const res = await gw.post('/api/cart/items', { product_id: p.id, quantity: q }, { token });
		assert.ok(res.status === 200 || res.status === 201, `POST /api/cart/items ${p.id} x${q}\n${show(res)}`);
	}
	const cart = assertJson(await gw.get('/api/cart', { token }), 200, 'GET /api/cart after filling it');
	assert.equal(cart.items.length, lines.length, `the cart holds the ${lines.length} lines: ${JSON.stringify(cart)}`);
}

/** POST /api/orders through the gateway with a fresh X-Request-ID; asserts 201 pending; returns { order, requestId, res }. */
async function placeOrder(token, paymentToken, lines) {
	const requestId = `itest-saga-${crypto.randomUUID()}`;
	const res = await gw.post('/api/orders', { payment_token: paymentToken, shipping_address: ADDRESS }, { token, headers: { 'x-request-id': requestId } });
	const order = assertOrder(assertJson(res, 201, 'POST /api/orders'), 'the new order');
	assert.equal(res.headers.get('x-request-id'), requestId, 'the X-Request-ID comes back');
	assert.equal(order.status, 'pending', `a new order is pending: ${JSON.stringify(order)}`);
	assert.equal(order.payment, null, `a new order has no payment yet: ${JSON.stringify(order)}`);
	const loc = res.headers.get('location') ?? '';
	assert.ok(loc.endsWith(`/api/orders/${order.id}`), `Location names the order (${loc})`);
	assert.deepEqual(order.shipping_address, ADDRESS, 'the shipping address is stored as sent');
	const want = lines.map(([p, q]) => ({ product_id: p.id, sku: p.sku, name: p.name, unit_price_cents: p.price_cents, quantity: q, line_total_cents: p.price_cents * q }));
	const byId = (a, b) => a.product_id.localeCompare(b.product_id);
	assert.deepEqual([...order.items].sort(byId), want.sort(byId), `the order's lines are the cart's, at the products' prices: ${JSON.stringify(order.items)}`);
	return { order, requestId, res };
}

/** The payments of an order as the owner's token sees them through the gateway. */
async function paymentsOf(token, orderId) {
	const body = assertJson(await gw.get(`/api/payments?order_id=${orderId}`, { token }), 200, `GET /api/payments?order_id=${orderId}`);
	assert.ok(Array.isArray(body.items), `a page of payments: ${JSON.stringify(body)}`);
	return body.items.map((p) => assertPayment(p)).filter((p) => p.order_id === orderId);
}

/** Polls GET /api/emails?order_id= (gateway, owner) until one is sent; returns the page. */
async function waitEmailSent(token, orderId, kind) {
	const deadline = Date.now() + SAGA_TIMEOUT_MS;
	for (;;) {
		const res = await gw.get(`/api/emails?order_id=${orderId}`, { token });
		const page = assertEmailPage(res, `GET /api/emails?order_id=${orderId}`);
		if (page.items.some((e) => e.kind === kind && e.status === 'sent')) return page;
		assert.ok(Date.now() < deadline, `no ${kind} email of order ${orderId} is sent after ${SAGA_TIMEOUT_MS} ms:\n${show(res)}`);
		await sleep(200);
	}
}

// ---------------------------------------------------------------- the story

/** The buyer: a real registration through the gateway, with its user.registered. */
const buyer = once(async () => {
	await setup();
	const requestId = `itest-saga-reg-${crypto.randomUUID()}`;
	const a = await registerUser(gw, { tag: `saga-${runId}` }, { headers: { 'x-request-id': requestId } });
	return { ...a, requestId };
});
const stranger = once(async () => registerUser(gw, { tag: `saga-other-${runId}` }));

/** The successful checkout (tok_visa), memoised: later tests look at it. */
const paid = once(async () => {
	const b = await buyer();
	const a = await products.create({ price_cents: 1999, stock: 20 });
	const c = await products.create({ price_cents: 4550, stock: 30 });
	const lines = [[a, 2], [c, 1]];
	await fillCart(b.token, lines);
	const before = { a: await stockOf(a), c: await stockOf(c) };
	assert.deepEqual(before, { a: 20, c: 30 }, 'the new products have the stock they were created with');
	const t0 = Date.now();
	const placed = await placeOrder(b.token, 'tok_visa', lines);
	const settled = await waitSettled(b.token, placed.order.id);
	console.error(`# tok_visa order ${placed.order.id}: ${settled.status} ${Date.now() - t0} ms after POST`);
	return { ...placed, settled, lines, products: { a, c }, before };
});

/** The declined checkout (tok_chargeDeclined), memoised. */
const declined = once(async () => {
	const b = await buyer();
	const a = await products.create({ price_cents: 1250, stock: 10 });
	const c = await products.create({ price_cents: 300, stock: 5 });
	const lines = [[a, 3], [c, 2]];
	await fillCart(b.token, lines);
	const before = { a: await stockOf(a), c: await stockOf(c) };
	const placed = await placeOrder(b.token, 'tok_chargeDeclined', lines);
	const settled = await waitSettled(b.token, placed.order.id);
	return { ...placed, settled, lines, products: { a, c }, before };
});

describe('the order saga through the gateway', () => {
	it('a real registration: one welcome mail to that address at the sink; GET /api/emails shows it (welcome, sent)', async () => {
		const b = await buyer();
		// its user.registered (the queue is bound to '#') names the event the mail is keyed by
		const deadline = Date.now() + SAGA_TIMEOUT_MS;
		let reg;
		for (;;) {
			inbox.push(...(await takeMessages(queue, 500)));
			reg = inbox.find((m) => m.routingKey === 'user.registered' && m.body?.data?.user_id === b.user.id);
			if (reg) break;
			assert.ok(Date.now() < deadline, `no user.registered of ${b.email} within ${SAGA_TIMEOUT_MS} ms`);
			await sleep(200);
		}
		const e = assertEnvelope(reg, { eventType: 'user.registered', producer: 'user' });
		assert.equal(e.correlation_id, b.requestId, 'user.registered carries the X-Request-ID of the registration');
		assert.ok(validators['user.registered'](e), ajvErrors(validators['user.registered']));

		const mails = await waitForMails((m) => m.headers.to === b.email, `the welcome mail to ${b.email}`);
		assert.equal(mails.length, 1, `exactly one mail to ${b.email}:\n  ${describeMails(mails)}`);
		const [mail] = mails;
		assert.equal(mail.kind, 'welcome', `the mail is a welcome: ${mail.headers['message-id']}`);
		assert.equal(mail.eventId, e.event_id.toLowerCase(), `the Message-ID is derived from the user.registered event id ${e.event_id}: ${mail.headers['message-id']}`);
		assert.equal(mail.subject, `Welcome to Shop, ${b.name}`);
		assert.ok(mail.body.includes(`Hello ${b.name},`), mail.body);
		assert.ok(mail.body.includes(b.email), mail.body);

		const dl = Date.now() + SAGA_TIMEOUT_MS;
		for (;;) {
			const res = await gw.get('/api/emails', { token: b.token });
			const page = assertEmailPage(res, 'GET /api/emails (the new user, through the gateway)');
			if (page.items.some((x) => x.status === 'sent')) {
				assert.equal(page.total, 1, `one email for a new user:\n${show(res)}`);
				const [m] = page.items;
				assert.equal(m.kind, 'welcome');
				assert.equal(m.status, 'sent');
				assert.equal(m.to, b.email);
				assert.equal(m.user_id, b.user.id);
				assert.equal(m.order_id, null);
				assert.equal(m.subject, `Welcome to Shop, ${b.name}`);
				break;
			}
			assert.ok(Date.now() < dl, `the welcome email is not shown as sent within ${SAGA_TIMEOUT_MS} ms:\n${show(res)}`);
			await sleep(200);
		}
	});

	it('tok_visa: 201 pending, then confirmed; one succeeded payment of the total; the order names it', async () => {
		const { order, settled } = await paid();
		const b = await buyer();
		assert.equal(settled.status, 'confirmed', `a tok_visa order ends confirmed: ${JSON.stringify(settled)}`);
		assert.equal(settled.user_id, b.user.id);
		assert.deepEqual(settled.status_history.map((h) => h.status), ['pending', 'confirmed'], 'history pending -> confirmed');
		assert.equal(settled.total_cents, 2 * 1999 + 4550);
		assert.equal(order.total_cents, settled.total_cents);
		const pays = await paymentsOf(b.token, order.id);
		assert.equal(pays.length, 1, `exactly one payment for order ${order.id}: ${JSON.stringify(pays)}`);
		const [p] = pays;
		assert.equal(p.status, 'succeeded');
		assert.equal(p.amount_cents, settled.total_cents, 'the payment is of the order total');
		assert.equal(p.currency, settled.currency);
		assert.equal(p.user_id, b.user.id);
		assert.equal(p.failure_reason, null);
		assert.deepEqual(settled.payment, { status: 'succeeded', payment_id: p.id, failure_reason: null }, 'the order names its payment');
		const one = assertJson(await gw.get(`/api/payments/${p.id}`, { token: b.token }), 200, `GET /api/payments/${p.id}`);
		assert.deepEqual(one, p);
	});

	it('tok_visa: exactly one order_confirmed mail naming the lines and the total; GET /api/emails?order_id= shows it sent', async () => {
		const { settled: o, products: { a, c } } = await paid();
		const b = await buyer();
		const mails = await waitForMails((m) => m.kind === 'order_confirmed' && m.orderIds.has(o.id), `the confirmation of order ${o.id}`);
		assert.equal(mails.length, 1, `exactly one order_confirmed mail for order ${o.id}:\n  ${describeMails(mails)}`);
		assert.equal(new Set(readMails().filter((m) => m.orderIds.has(o.id)).map((m) => m.headers['message-id'])).size,
			readMails().filter((m) => m.orderIds.has(o.id)).length, 'no two mails of the order share a Message-ID');
		assert.deepEqual(orderMails(o.id, 'order_failed'), [], 'no failure notice for a confirmed order');
		const [mail] = mails;
		assert.equal(mail.headers.to, b.email);
		assert.equal(mail.subject, `Your order ${o.id.slice(0, 8)} is confirmed`);
		assert.ok(mail.body.includes(`2 x ${a.name} (${a.sku})`), mail.body);
		assert.ok(mail.body.includes(`${money(1999)} each: ${money(3998)}`), mail.body);
		assert.ok(mail.body.includes(`1 x ${c.name} (${c.sku})`), mail.body);
		assert.ok(mail.body.includes(`${money(4550)} each: ${money(4550)}`), mail.body);
		assert.ok(mail.body.includes(`Total: ${money(o.total_cents)}`), mail.body);

		const page = await waitEmailSent(b.token, o.id, 'order_confirmed');
		assert.equal(page.total, 1, `one email for order ${o.id}: ${JSON.stringify(page)}`);
		const [e] = page.items;
		assert.equal(e.kind, 'order_confirmed');
		assert.equal(e.status, 'sent');
		assert.equal(e.order_id, o.id);
		assert.equal(e.to, b.email);
		assert.equal(e.user_id, b.user.id);
		assert.equal(e.subject, mail.subject);
	});

	it('tok_visa: the cart is empty; the stock is down by the quantities and stays down (the reservation is committed)', async () => {
		const { order, settled, products: { a, c }, before } = await paid();
		const b = await buyer();
		const cart = assertJson(await gw.get('/api/cart', { token: b.token }), 200, 'GET /api/cart after the checkout');
		assert.deepEqual(cart.items, [], `the cart is emptied by order.created: ${JSON.stringify(cart)}`);
		assert.equal(cart.total_cents, 0);
		assert.equal(await stockOf(a), before.a - 2, 'stock of the first product down by 2');
		assert.equal(await stockOf(c), before.c - 1, 'stock of the second product down by 1');
		const r = await waitReservation(settled, (res) => res.status === 200 && res.body?.status === 'committed', 'the reservation is not committed');
		assert.equal(r.body.order_id, order.id);
		await sleep(1500);
		assert.equal(await stockOf(a), before.a - 2, 'the stock stays down (committed, not merely held)');
		assert.equal(await stockOf(c), before.c - 1, 'the stock stays down (committed, not merely held)');
	});

	it('tok_visa: every event of the checkout is valid against its schema and carries the X-Request-ID', async () => {
		const { order, requestId, settled } = await paid();
		const b = await buyer();
		const types = ['order.created', 'payment.completed', 'order.confirmed'];
		const ev = assertCheckoutEvents(await checkoutEvents(order.id, requestId, types), { orderId: order.id, requestId, types });
		assertEventItems(ev['order.created'], settled);
		assert.equal(ev['order.created'].data.payment_token, 'tok_visa');
		assert.equal(ev['order.created'].data.user_id, b.user.id);
		assert.equal(ev['order.created'].data.user_email, b.email);
		assertEventItems(ev['order.confirmed'], settled);
		assert.equal(ev['order.confirmed'].data.user_email, b.email);
		assert.equal(ev['payment.completed'].data.amount_cents, settled.total_cents);
		assert.equal(ev['payment.completed'].data.payment_id, settled.payment.payment_id);
		assert.ok(Date.parse(ev['order.created'].occurred_at) <= Date.parse(ev['payment.completed'].occurred_at) &&
			Date.parse(ev['payment.completed'].occurred_at) <= Date.parse(ev['order.confirmed'].occurred_at), 'the events occur in saga order');
	});

	it('tok_chargeDeclined: failed (card_declined); stock back; one order_failed mail, no confirmation; its events valid, with the X-Request-ID', async () => {
		const { order, requestId, settled: o, products: { a, c }, before } = await declined();
		const b = await buyer();
		assert.equal(o.status, 'failed', `a declined order ends failed: ${JSON.stringify(o)}`);
		assert.deepEqual(o.status_history.map((h) => h.status), ['pending', 'failed']);
		assert.equal(o.payment?.status, 'declined', JSON.stringify(o));
		assert.equal(o.payment?.failure_reason, 'card_declined', JSON.stringify(o));
		const pays = await paymentsOf(b.token, o.id);
		assert.equal(pays.length, 1, `exactly one payment for order ${o.id}: ${JSON.stringify(pays)}`);
		assert.equal(pays[0].status, 'declined');
		assert.equal(pays[0].failure_reason, 'card_declined');
		assert.equal(pays[0].amount_cents, o.total_cents);
		assert.equal(o.payment.payment_id, pays[0].id);

		await waitReservation(o, (res) => res.status === 409, 'the reservation is not released');
		assert.equal(await stockOf(a), before.a, 'the first product\'s stock is back');
		assert.equal(await stockOf(c), before.c, 'the second product\'s stock is back');

		const mails = await waitForMails((m) => m.kind === 'order_failed' && m.orderIds.has(o.id), `the failure notice of order ${o.id}`);
		assert.equal(mails.length, 1, `exactly one order_failed mail for order ${o.id}:\n  ${describeMails(mails)}`);
		assert.equal(mails[0].headers.to, b.email);
		assert.equal(mails[0].subject, `Your order ${o.id.slice(0, 8)} could not be completed`);
		assert.ok(mails[0].body.includes('your card was declined'), mails[0].body);
		assert.ok(mails[0].body.includes(`3 x ${a.name} (${a.sku})`), mails[0].body);
		assert.ok(mails[0].body.includes(`Total: ${money(o.total_cents)}`), mails[0].body);
		assert.deepEqual(orderMails(o.id, 'order_confirmed'), [], 'no confirmation mail for a failed order');

		const types = ['order.created', 'payment.failed', 'order.failed'];
		const ev = assertCheckoutEvents(await checkoutEvents(order.id, requestId, types), { orderId: order.id, requestId, types });
		assertEventItems(ev['order.created'], o);
		assert.equal(ev['order.created'].data.payment_token, 'tok_chargeDeclined');
		assert.equal(ev['payment.failed'].data.reason, 'card_declined');
		assert.equal(ev['order.failed'].data.reason, 'card_declined');
		assertEventItems(ev['order.failed'], o);
		const cart = assertJson(await gw.get('/api/cart', { token: b.token }), 200, 'GET /api/cart after the declined checkout');
		assert.deepEqual(cart.items, [], 'the cart was emptied on order.created (a failed order does not refill it)');
		const page = await waitEmailSent(b.token, o.id, 'order_failed');
		assert.equal(page.total, 1, JSON.stringify(page));
		assert.equal(page.items[0].kind, 'order_failed');
		assert.equal(page.items[0].status, 'sent');
		assert.equal(page.items[0].to, b.email);
	});

	it('another user sees nothing of it: the order and the payment are 404, the lists are empty', async () => {
		const { settled: o } = await paid();
		const other = await stranger();
		assertProblem(await gw.get(`/api/orders/${o.id}`, { token: other.token }), 404, { what: 'another user\'s order' });
		assertProblem(await gw.get(`/api/payments/${o.payment.payment_id}`, { token: other.token }), 404, { what: 'another user\'s payment' });
		const orders = assertJson(await gw.get('/api/orders', { token: other.token }), 200, 'GET /api/orders (the other user)');
		assert.equal(orders.items.some((x) => x.id === o.id), false, 'not in their orders');
		const pays = assertJson(await gw.get(`/api/payments?order_id=${o.id}`, { token: other.token }), 200, 'GET /api/payments?order_id= (the other user)');
		assert.deepEqual(pays.items, [], `no payment of another user's order: ${JSON.stringify(pays)}`);
		const byOrder = assertEmailPage(await gw.get(`/api/emails?order_id=${o.id}`, { token: other.token }), 'GET /api/emails?order_id= (the other user)');
		assert.equal(byOrder.total, 0, JSON.stringify(byOrder));
		const all = assertEmailPage(await gw.get('/api/emails?page_size=100', { token: other.token }), 'GET /api/emails (the other user)');
		assert.ok(all.items.every((e) => e.user_id === other.user.id && e.order_id !== o.id), `only their own emails: ${JSON.stringify(all)}`);
		// the owner still sees it
		assertJson(await gw.get(`/api/orders/${o.id}`, { token: (await buyer()).token }), 200, 'the owner\'s order');
	});
});
