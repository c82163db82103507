// The payment service on its daemon directly (the gateway does not route
// /api/payments yet): order.created events published to shop.events
// through the RabbitMQ management API, and what the daemon does with them
// — charges the mock processor (tok_visa and tok_mastercard succeed,
// tok_chargeDeclined / tok_insufficientFunds / an unknown token / an amount
// over the limit decline with their reasons), stores one payment per order
// and publishes exactly one payment.completed or payment.failed, checked
// against shared/events/*.schema.json with its AMQP properties, the
// correlation id and traceparent passed on; the same event twice and a
// second event for one order change nothing; poison messages (not JSON,
// data missing a field, a wrong type) land in payment.order-created.dlq
// and the daemon keeps working. Then the API: GET /api/payments (own
// payments, admin any, newest first, pagination, the order_id filter, bad
// queries) and GET /api/payments/{id} (owner, admin, another user and
// unknown ids 404), tokens, /health, /ready, /metrics.
//
// Every user and order id is a fresh random UUID; tokens for made-up users
// are minted with the fleet's JWT private key. Result events are watched
// on a throw-away queue bound to payment.completed and payment.failed.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { env } from './lib/env.mjs';
import { client, show, assertJson, assertProblem, assertStatus, waitForHealthy, once, itAfter } from './lib/http.mjs';
import { adminToken, badTokenMakers, mintToken } from './lib/jwt.mjs';
import { acquireBrokerLock, declareTestQueue, deleteQueue, eventTimeoutMs, mgmtApi, takeMessages } from './lib/broker.mjs';
import { ajvErrors, assertEnvelope, compileSchema, sampleEnvelope } from './lib/events.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const uuid = () => crypto.randomUUID();

const http = client(env.paymentUrl);
const QUEUE = 'payment.order-created';
const DLQ = `${QUEUE}.dlq`;
/** The daemon's PAYMENT_AMOUNT_LIMIT_CENTS (default 1000000). */
const LIMIT = Number(process.env.SHOP_PAYMENT_AMOUNT_LIMIT_CENTS) || 1000000;
const PAYMENT_KEYS = ['id', 'order_id', 'user_id', 'amount_cents', 'currency', 'status', 'failure_reason', 'provider_ref', 'created_at'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;
const PROVIDER_REF_RE = /^mock_ch_[0-9a-f]{24}$/;

let release;
let resultQueue;
let schemas;
/** Every result event taken off resultQueue so far (tests share the queue). */
const inbox = [];

const setup = once(async () => {
	await waitForHealthy(env.paymentUrl);
	adminToken(); // fail early, with the key path, when the key is unusable
	release = await acquireBrokerLock('shared'); // never while broker-outage.test.mjs has the broker down
	resultQueue = await declareTestQueue('payment', ['payment.completed', 'payment.failed']);
	schemas = {
		'order.created': await compileSchema('order.created'),
		'payment.completed': await compileSchema('payment.completed'),
		'payment.failed': await compileSchema('payment.failed'),
	};
});
const it = itAfter(setup, nodeIt);

after(async () => {
	try {
		if (resultQueue) await deleteQueue(resultQueue);
	} finally {
		release?.();
	}
});

// ---------------------------------------------------------------- publishing

/**
 * Publishes `payload` (a string: the exact body) on shop.events with the
 * routing key and the AMQP properties of EVENTS.md; asserts it was routed.
 */
async function publishRaw(payload, { routingKey = 'order.created', messageId, type = 'order.created', correlationId, traceparent } = {}) {
	const properties = { content_type: 'application/json', delivery_mode: 2, type };
	if (messageId) properties.message_id = messageId;
	if (correlationId) properties.correlation_id = correlationId;
	if (traceparent) properties.headers = { traceparent };
	const res = await mgmtApi('POST', `/api/exchanges/%2F/${encodeURIComponent('shop.events')}/publish`, {
		properties,
		routing_key: routingKey,
		payload,
		payload_encoding: 'string',
	});
	assert.equal(res.status, 200, `publish through the management API failed\n${show(res)}`);
	assert.equal(res.body?.routed, true, `the message was not routed to any queue (is ${QUEUE} declared?)\n${show(res)}`);
}

/** Publishes an EVENTS.md envelope as the order service would. */
async function publishEnvelope(envelope, { traceparent } = {}) {
	await publishRaw(JSON.stringify(envelope), {
		messageId: envelope.event_id,
		type: envelope.event_type,
		correlationId: envelope.correlation_id ?? undefined,
		traceparent,
	});
}

/** A valid order.created envelope for a fresh order (data fields overridable). */
function orderCreated({ orderId = uuid(), userId = uuid(), total = 4999, currency = 'USD', token = 'tok_visa' } = {}) {
	const env0 = sampleEnvelope('order.created', { correlation_id: `itest-pay-${uuid()}`, occurred_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
	env0.data = { ...env0.data, order_id: orderId, user_id: userId, total_cents: total, currency, payment_token: token };
	assert.ok(schemas['order.created'](env0), `the test's own order.created must be valid:\n  ${ajvErrors(schemas['order.created'])}`);
	return env0;
}

const newTraceparent = () => `00-${crypto.randomBytes(16).toString('hex')}-${crypto.randomBytes(8).toString('hex')}-01`;

// ---------------------------------------------------------------- watching the results

const orderOf = (m) => m.body?.data?.order_id;

/**
 * Waits until at least `count` result events for each of orderIds have
 * arrived, then keeps draining `settleMs` more; returns the events of
 * those orders (all of them, so duplicates show).
 */
async function resultsFor(orderIds, { count = 1, settleMs = 0, timeoutMs = eventTimeoutMs } = {}) {
	const ids = new Set(orderIds.map((o) => o.toLowerCase()));
	const mine = () => inbox.filter((m) => ids.has(String(orderOf(m)).toLowerCase()));
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		inbox.push(...(await takeMessages(resultQueue)));
		const got = mine();
		const enough = [...ids].every((id) => got.filter((m) => String(orderOf(m)).toLowerCase() === id).length >= count);
		if (enough) break;
		if (Date.now() > deadline) {
			assert.fail(`payment results for ${[...ids].join(', ')} did not arrive within ${timeoutMs} ms; seen for them:\n  ` +
				got.map((m) => `${m.routingKey} ${m.payload.slice(0, 300)}`).join('\n  '));
		}
		await sleep(150);
	}
	const settle = Date.now() + settleMs;
	while (Date.now() < settle) {
		await sleep(Math.min(250, Math.max(0, settle - Date.now())));
		inbox.push(...(await takeMessages(resultQueue)));
	}
	return mine();
}

/**
 * Checks one result message completely: envelope and AMQP properties,
 * its schema, the data against the order it answers; returns the envelope.
 */
function assertResult(msg, order, { eventType, reason, traceparent }) {
	const e = assertEnvelope(msg, { eventType, producer: 'payment' });
	const validate = schemas[eventType];
	assert.ok(validate(e), `${eventType} must match shared/events/${eventType}.schema.json:\n  ${ajvErrors(validate)}\n${msg.payload}`);
	const d = e.data;
	assert.match(d.payment_id, UUID_RE, `payment_id: ${msg.payload}`);
	assert.equal(d.order_id, order.data.order_id.toLowerCase(), `order_id: ${msg.payload}`);
	assert.equal(d.user_id, order.data.user_id.toLowerCase(), `user_id: ${msg.payload}`);
	assert.equal(d.amount_cents, order.data.total_cents, `amount_cents: ${msg.payload}`);
	assert.equal(d.currency, order.data.currency, `currency: ${msg.payload}`);
	if (eventType === 'payment.completed') {
		assert.match(d.provider_ref, PROVIDER_REF_RE, `provider_ref: ${msg.payload}`);
	} else {
		assert.equal(d.reason, reason, `reason: ${msg.payload}`);
	}
	assert.equal(e.correlation_id, order.correlation_id, `the correlation id of order.created must be passed on: ${msg.payload}`);
	if (traceparent) {
		assert.equal(msg.properties.headers?.traceparent, traceparent, `the traceparent of order.created must be passed on: ${JSON.stringify(msg.properties)}`);
	}
	return e;
}

/** Publishes one order.created and returns its single result event (after a settle, to catch a second). */
async function chargeOnce(opts, expect) {
	const order = orderCreated(opts);
	const traceparent = newTraceparent();
	await publishEnvelope(order, { traceparent });
	const got = await resultsFor([order.data.order_id], { settleMs: expect.settleMs ?? 0 });
	assert.equal(got.length, 1, `exactly one result event for order ${order.data.order_id}; got ${got.length}:\n  ${got.map((m) => m.payload).join('\n  ')}`);
	const e = assertResult(got[0], order, { ...expect, traceparent });
	return { order, event: e };
}

// ---------------------------------------------------------------- the API

const tokenFor = (userId, role = 'customer') => mintToken({ sub: userId, role });

/** Asserts the API.md Payment shape; returns it. */
function assertPayment(p, where = 'payment', { recent = true } = {}) {
	assert.ok(p && typeof p === 'object' && !Array.isArray(p), `${where} must be an object: ${JSON.stringify(p)}`);
	assert.deepEqual(Object.keys(p).sort(), [...PAYMENT_KEYS].sort(), `${where} must have exactly ${PAYMENT_KEYS.join(', ')}: ${JSON.stringify(p)}`);
	assert.match(p.id, UUID_RE, `${where}.id`);
	assert.match(p.order_id, UUID_RE, `${where}.order_id`);
	assert.match(p.user_id, UUID_RE, `${where}.user_id`);
	assert.ok(Number.isInteger(p.amount_cents) && p.amount_cents >= 0, `${where}.amount_cents: ${JSON.stringify(p)}`);
	assert.match(p.currency, /^[A-Z]{3}$/, `${where}.currency`);
	assert.ok(['succeeded', 'declined'].includes(p.status), `${where}.status: ${JSON.stringify(p)}`);
	if (p.status === 'succeeded') {
		assert.match(String(p.provider_ref), PROVIDER_REF_RE, `${where}.provider_ref: ${JSON.stringify(p)}`);
		assert.equal(p.failure_reason, null, `${where}.failure_reason must be null when succeeded: ${JSON.stringify(p)}`);
	} else {
		assert.ok(typeof p.failure_reason === 'string' && p.failure_reason.length > 0, `${where}.failure_reason: ${JSON.stringify(p)}`);
		assert.equal(p.provider_ref, null, `${where}.provider_ref must be null when declined: ${JSON.stringify(p)}`);
	}
	assert.match(p.created_at, RFC3339_UTC, `${where}.created_at: ${JSON.stringify(p)}`);
	// The test's own payments are minutes old at most; any listed one is
	// at least not from the future.
	if (recent) assert.ok(Math.abs(Date.parse(p.created_at) - Date.now()) < 10 * 60 * 1000, `${where}.created_at must be about now: ${JSON.stringify(p)}`);
	else assert.ok(Date.parse(p.created_at) < Date.now() + 60 * 1000, `${where}.created_at must not be in the future: ${JSON.stringify(p)}`);
	return p;
}

/** GET /api/payments with a query object; asserts 200 and the page shape; returns the page. */
async function listPayments(token, query = {}, what = 'GET /api/payments', { recent = true } = {}) {
	const qs = new URLSearchParams(query).toString();
	const res = await http.get(`/api/payments${qs ? `?${qs}` : ''}`, { token });
	const page = assertJson(res, 200, what);
	assert.deepEqual(Object.keys(page).sort(), ['items', 'page', 'page_size', 'total'], `${what}: the page keys\n${show(res)}`);
	assert.ok(Array.isArray(page.items), `${what}: items must be a list`);
	assert.ok(Number.isInteger(page.total) && page.total >= page.items.length, `${what}: total\n${show(res)}`);
	page.items.forEach((p, i) => assertPayment(p, `${what} items[${i}]`, { recent }));
	return page;
}

/** The payment of an order as an admin sees it (asserts exactly one). */
async function paymentOfOrder(orderId) {
	const page = await listPayments(adminToken(), { order_id: orderId }, `GET /api/payments?order_id=${orderId} (admin)`);
	assert.equal(page.total, 1, `exactly one payment for order ${orderId}: ${JSON.stringify(page)}`);
	assert.equal(page.items.length, 1);
	return page.items[0];
}

/** Asserts the stored payment matches the result event. */
function assertMatchesEvent(p, e) {
	assert.equal(p.id, e.data.payment_id, 'the payment id is the event\'s payment_id');
	assert.equal(p.order_id, e.data.order_id);
	assert.equal(p.user_id, e.data.user_id);
	assert.equal(p.amount_cents, e.data.amount_cents);
	assert.equal(p.currency, e.data.currency);
	if (e.event_type === 'payment.completed') {
		assert.equal(p.status, 'succeeded');
		assert.equal(p.provider_ref, e.data.provider_ref);
	} else {
		assert.equal(p.status, 'declined');
		assert.equal(p.failure_reason, e.data.reason);
	}
}

/** The value of one metric series in Prometheus text (0 when absent). */
function metricValue(text, name, labels) {
	const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
	for (const line of text.split('\n')) {
		if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
		const m = line.match(/^[^{ ]+(?:\{([^}]*)\})? (\S+)$/);
		if (!m) continue;
		const have = (m[1] ?? '').split(',');
		if (want.every((w) => have.includes(w))) return Number(m[2]);
	}
	return 0;
}

async function metrics() {
	const res = await http.get('/metrics');
	assertStatus(res, 200, 'GET /metrics');
	return res.text;
}

async function dlqMessages() {
	const res = await mgmtApi('GET', `/api/queues/%2F/${encodeURIComponent(DLQ)}`);
	assert.equal(res.status, 200, `GET the queue ${DLQ}\n${show(res)}`);
	return Number(res.body?.messages ?? 0);
}

// ---------------------------------------------------------------- charging

describe('payment: order.created is charged once, and the result published', () => {
	it('tok_visa: a succeeded payment and one payment.completed (schema, properties, correlation id, traceparent)', async () => {
		const { order, event } = await chargeOnce({ token: 'tok_visa', total: 12345, currency: 'EUR' }, { eventType: 'payment.completed', settleMs: 1000 });
		const p = await paymentOfOrder(order.data.order_id);
		assertMatchesEvent(p, event);
		assert.equal(p.amount_cents, 12345);
		assert.equal(p.currency, 'EUR');
	});

	it('tok_mastercard succeeds too, with its own provider reference', async () => {
		const a = await chargeOnce({ token: 'tok_mastercard' }, { eventType: 'payment.completed' });
		const b = await chargeOnce({ token: 'tok_mastercard' }, { eventType: 'payment.completed' });
		assert.notEqual(a.event.data.provider_ref, b.event.data.provider_ref, 'provider references are random');
		assert.notEqual(a.event.data.payment_id, b.event.data.payment_id);
		assertMatchesEvent(await paymentOfOrder(a.order.data.order_id), a.event);
	});

	for (const [token, reason] of [
		['tok_chargeDeclined', 'card_declined'],
		['tok_insufficientFunds', 'insufficient_funds'],
		['tok_neverHeardOf', 'invalid_payment_token'],
	]) {
		it(`${token}: a declined payment (${reason}) and one payment.failed`, async () => {
			const { order, event } = await chargeOnce({ token }, { eventType: 'payment.failed', reason });
			const p = await paymentOfOrder(order.data.order_id);
			assertMatchesEvent(p, event);
			assert.equal(p.status, 'declined');
			assert.equal(p.failure_reason, reason);
			assert.equal(p.provider_ref, null);
		});
	}

	it(`an amount over the limit (${LIMIT}) declines with amount_limit_exceeded whatever the token; the limit itself is charged`, async () => {
		const over = await chargeOnce({ token: 'tok_visa', total: LIMIT + 1 }, { eventType: 'payment.failed', reason: 'amount_limit_exceeded' });
		assertMatchesEvent(await paymentOfOrder(over.order.data.order_id), over.event);
		await chargeOnce({ token: 'tok_chargeDeclined', total: LIMIT + 1 }, { eventType: 'payment.failed', reason: 'amount_limit_exceeded' });
		await chargeOnce({ token: 'tok_visa', total: LIMIT }, { eventType: 'payment.completed' });
		await chargeOnce({ token: 'tok_visa', total: 0 }, { eventType: 'payment.completed' });
	});

	it('the same event twice, then a second event for the same order: one payment, one result event', async () => {
		const order = orderCreated({ token: 'tok_visa', total: 777 });
		await publishEnvelope(order);
		await publishEnvelope(order); // the very same event_id: a redelivery
		const second = orderCreated({ orderId: order.data.order_id, userId: order.data.user_id, token: 'tok_chargeDeclined', total: 1 });
		await publishEnvelope(second); // another event for that order
		// The daemon handles its queue in order: once the marker's result is
		// out, every event before it was handled.
		const marker = orderCreated({ token: 'tok_visa' });
		await publishEnvelope(marker);
		await resultsFor([marker.data.order_id]);
		const got = await resultsFor([order.data.order_id], { settleMs: 1500 });
		assert.equal(got.length, 1, `exactly one result for order ${order.data.order_id}; got:\n  ${got.map((m) => m.payload).join('\n  ')}`);
		const e = assertResult(got[0], order, { eventType: 'payment.completed' });
		const p = await paymentOfOrder(order.data.order_id);
		assertMatchesEvent(p, e);
		assert.equal(p.amount_cents, 777, 'the first event decided the payment');
	});

	it('upper-case ids in order.created are stored and published lower-case', async () => {
		const orderId = uuid().toUpperCase();
		const userId = uuid().toUpperCase();
		const { event } = await chargeOnce({ orderId, userId }, { eventType: 'payment.completed' });
		assert.equal(event.data.order_id, orderId.toLowerCase());
		const p = await paymentOfOrder(orderId.toLowerCase());
		assert.equal(p.user_id, userId.toLowerCase());
		const own = await listPayments(tokenFor(userId.toLowerCase()), { order_id: orderId });
		assert.equal(own.total, 1, 'the filter takes any case');
	});

	it('poison (not JSON; data missing a field; a wrong type; a bad id) lands in payment.order-created.dlq, charges nothing, and the daemon keeps working', async () => {
		const beforeDlq = await dlqMessages();
		const beforeMetric = metricValue(await metrics(), 'events_dead_lettered_total', { queue: QUEUE });

		const poisonOrders = [];
		await publishRaw('this is not JSON {', { messageId: uuid(), correlationId: `itest-pay-${uuid()}` });
		const missing = orderCreated();
		delete missing.data.payment_token;
		poisonOrders.push(missing.data.order_id);
		await publishEnvelope(missing);
		const wrongType = orderCreated();
		wrongType.data.total_cents = '4999';
		poisonOrders.push(wrongType.data.order_id);
		await publishEnvelope(wrongType);
		const negative = orderCreated();
		negative.data.total_cents = -1;
		poisonOrders.push(negative.data.order_id);
		await publishEnvelope(negative);
		const badUser = orderCreated();
		badUser.data.user_id = 'not-a-uuid';
		poisonOrders.push(badUser.data.order_id);
		await publishEnvelope(badUser);
		const poisons = 5;

		// still working: a good order after them is charged
		const after0 = await chargeOnce({ token: 'tok_visa' }, { eventType: 'payment.completed' });
		assertMatchesEvent(await paymentOfOrder(after0.order.data.order_id), after0.event);

		const afterMetric = metricValue(await metrics(), 'events_dead_lettered_total', { queue: QUEUE });
		// at least: other test files may run beside this one
		assert.ok(afterMetric - beforeMetric >= poisons, `events_dead_lettered_total{queue="${QUEUE}"} must grow by ${poisons} (grew by ${afterMetric - beforeMetric})`);

		// The management API's counts lag by its statistics interval (5 s).
		const deadline = Date.now() + 20000;
		let now = await dlqMessages();
		while (now < beforeDlq + poisons && Date.now() < deadline) {
			await sleep(500);
			now = await dlqMessages();
		}
		assert.ok(now >= beforeDlq + poisons, `${DLQ} must hold ${poisons} more messages (had ${beforeDlq}, has ${now})`);

		for (const id of poisonOrders) {
			const page = await listPayments(adminToken(), { order_id: id }, `GET /api/payments?order_id=${id} (admin)`);
			assert.equal(page.total, 0, `a poison order.created must store no payment: ${JSON.stringify(page)}`);
		}
		const strays = inbox.filter((m) => poisonOrders.includes(orderOf(m)));
		assert.equal(strays.length, 0, `no result event for a poison message: ${strays.map((m) => m.payload).join('\n')}`);
	});
});

// ---------------------------------------------------------------- reading payments

describe('payment: GET /api/payments and /api/payments/{id}', () => {
	// One user with three payments (succeeded, declined, succeeded), made once.
	const fixture = once(async () => {
		const userId = uuid();
		const made = [];
		for (const [token, total] of [['tok_visa', 100], ['tok_chargeDeclined', 200], ['tok_mastercard', 300]]) {
			const order = orderCreated({ userId, token, total });
			await publishEnvelope(order);
			made.push(order);
			await resultsFor([order.data.order_id]); // one after the other: created_at order is known
		}
		const payments = [];
		for (const o of made) payments.push(await paymentOfOrder(o.data.order_id));
		return { userId, token: tokenFor(userId), orders: made, payments };
	});

	it('the owner lists their payments, newest first, with total; filtered by order_id', async () => {
		const f = await fixture();
		const page = await listPayments(f.token);
		assert.equal(page.total, 3);
		assert.equal(page.page, 1);
		assert.equal(page.page_size, 20);
		assert.deepEqual(page.items.map((p) => p.id), [...f.payments].reverse().map((p) => p.id), 'newest first');
		assert.ok(page.items.every((p) => p.user_id === f.userId));
		const one = await listPayments(f.token, { order_id: f.orders[1].data.order_id });
		assert.equal(one.total, 1);
		assert.deepEqual(one.items, [f.payments[1]]);
		assert.equal(one.items[0].status, 'declined');
		assert.equal(one.items[0].failure_reason, 'card_declined');
	});

	it('pagination: page_size, page, a page past the end', async () => {
		const f = await fixture();
		const p1 = await listPayments(f.token, { page_size: 2 });
		assert.equal(p1.total, 3);
		assert.equal(p1.page_size, 2);
		assert.deepEqual(p1.items.map((p) => p.id), [f.payments[2].id, f.payments[1].id]);
		const p2 = await listPayments(f.token, { page_size: 2, page: 2 });
		assert.equal(p2.page, 2);
		assert.deepEqual(p2.items.map((p) => p.id), [f.payments[0].id]);
		const p9 = await listPayments(f.token, { page_size: 2, page: 9 });
		assert.deepEqual(p9.items, []);
		assert.equal(p9.total, 3);
		const max = await listPayments(f.token, { page_size: 100, page: 1 });
		assert.equal(max.items.length, 3);
	});

	it('another user sees none of them (empty list), an admin sees them', async () => {
		const f = await fixture();
		const other = tokenFor(uuid());
		const mine = await listPayments(other);
		assert.deepEqual(mine.items, [], 'a fresh user has no payments');
		assert.equal(mine.total, 0);
		const filtered = await listPayments(other, { order_id: f.orders[0].data.order_id });
		assert.deepEqual(filtered.items, []);
		assert.equal(filtered.total, 0);
		const admin = await listPayments(adminToken(), { order_id: f.orders[0].data.order_id });
		assert.deepEqual(admin.items, [f.payments[0]]);
		// Every user's: on a long-lived fleet that includes older payments.
		const all = await listPayments(adminToken(), { page_size: 100 }, 'GET /api/payments (admin)', { recent: false });
		assert.ok(all.total >= 3, 'an admin lists every user\'s payments');
		assert.ok(new Set(all.items.map((p) => p.user_id)).size >= 1);
	});

	it('GET /api/payments/{id}: the owner and an admin get it; another user and unknown or malformed ids get 404', async () => {
		const f = await fixture();
		const p = f.payments[2];
		assert.deepEqual(assertPayment(assertJson(await http.get(`/api/payments/${p.id}`, { token: f.token }), 200, 'owner')), p);
		assert.deepEqual(assertJson(await http.get(`/api/payments/${p.id.toUpperCase()}`, { token: f.token }), 200, 'owner, upper-case id'), p);
		assert.deepEqual(assertJson(await http.get(`/api/payments/${p.id}`, { token: adminToken() }), 200, 'admin'), p);
		assertProblem(await http.get(`/api/payments/${p.id}`, { token: tokenFor(uuid()) }), 404, { what: 'another user' });
		assertProblem(await http.get(`/api/payments/${uuid()}`, { token: f.token }), 404, { what: 'unknown id' });
		assertProblem(await http.get(`/api/payments/${uuid()}`, { token: adminToken() }), 404, { what: 'unknown id (admin)' });
		assertProblem(await http.get('/api/payments/not-a-uuid', { token: f.token }), 404, { what: 'malformed id' });
		assertProblem(await http.get(`/api/payments/${p.id}?x=1`, { token: f.token }), 400, { field: 'x', what: 'unknown query parameter' });
		// the order id is not a payment id
		assertProblem(await http.get(`/api/payments/${f.orders[2].data.order_id}`, { token: f.token }), 404, { what: 'an order id' });
	});

	it('no token, or a bad one: 401 problem+json', async () => {
		const f = await fixture();
		for (const path of ['/api/payments', `/api/payments/${f.payments[0].id}`]) {
			assertProblem(await http.get(path), 401, { what: `${path} without a token` });
			for (const { name, make } of badTokenMakers()) {
				assertProblem(await http.get(path, { token: make() }), 401, { what: `${path} with a token: ${name}` });
			}
			assertProblem(await http.get(path, { token: mintToken({ sub: 'not-a-user-id' }) }), 401, { what: `${path}: a subject that is no user id` });
		}
	});

	it('bad queries: 400 problem+json naming the parameter', async () => {
		const token = tokenFor(uuid());
		const cases = [
			['page=0', 'page'],
			['page=-1', 'page'],
			['page=abc', 'page'],
			['page=1.5', 'page'],
			['page=', 'page'],
			['page=1000001', 'page'],
			['page_size=0', 'page_size'],
			['page_size=101', 'page_size'],
			['page_size=ten', 'page_size'],
			['page_size=%2B5', 'page_size'],
			['order_id=nope', 'order_id'],
			['order_id=', 'order_id'],
			[`order_id=${uuid()}x`, 'order_id'],
			['sort=newest', 'sort'],
			['user_id=' + uuid(), 'user_id'],
			['page=1&page=2', 'page'],
			[`order_id=${uuid()}&order_id=${uuid()}`, 'order_id'],
		];
		for (const [q, field] of cases) {
			assertProblem(await http.get(`/api/payments?${q}`, { token }), 400, { field, what: `GET /api/payments?${q}` });
		}
		// several at once: every one is named
		const p = assertProblem(await http.get('/api/payments?page=0&page_size=500&order_id=x&foo=1', { token }), 400);
		assert.deepEqual(p.errors.map((e) => e.field).sort(), ['foo', 'order_id', 'page', 'page_size']);
	});

	it('other methods: 405 problem+json', async () => {
		const token = tokenFor(uuid());
		const res = await http.post('/api/payments', { order_id: uuid() }, { token });
		assertProblem(res, 405);
		assertProblem(await http.delete(`/api/payments/${uuid()}`, { token }), 405);
	});
});

// ---------------------------------------------------------------- the daemon

describe('payment: /health, /ready, /metrics', () => {
	it('/health 200; /ready 200 with database and broker ok', async () => {
		const h = assertJson(await http.get('/health'), 200, 'GET /health');
		assert.equal(h.status, 'ok');
		assert.equal(h.service, 'payment');
		const r = assertJson(await http.get('/ready'), 200, 'GET /ready');
		assert.equal(r.checks?.database, 'ok', JSON.stringify(r));
		assert.equal(r.checks?.broker, 'ok', JSON.stringify(r));
	});

	it('/metrics counts payments by status and the consumed events', async () => {
		const before = await metrics();
		const s0 = metricValue(before, 'payments_total', { status: 'succeeded' });
		const d0 = metricValue(before, 'payments_total', { status: 'declined' });
		await chargeOnce({ token: 'tok_visa' }, { eventType: 'payment.completed' });
		await chargeOnce({ token: 'tok_insufficientFunds' }, { eventType: 'payment.failed', reason: 'insufficient_funds' });
		const text = await metrics();
		// at least one each: other test files (checkout) may charge orders meanwhile
		assert.ok(metricValue(text, 'payments_total', { status: 'succeeded' }) - s0 >= 1, 'payments_total{status="succeeded"} must grow');
		assert.ok(metricValue(text, 'payments_total', { status: 'declined' }) - d0 >= 1, 'payments_total{status="declined"} must grow');
		assert.ok(metricValue(text, 'events_consumed_total', { queue: QUEUE, event_type: 'order.created', result: 'ok' }) >= 2);
		assert.equal(metricValue(text, 'consumer_connected', { queue: QUEUE }), 1);
	});
});
