// Nothing lost, nothing twice (ARCHITECTURE.md "The order saga", EVENTS.md
// "Delivery rules"): bursts of orders through the gateway while the fleet
// is hurt, one fault per scenario —
//   a. 200 orders; right after the first 50 are answered, the payment
//      daemon is killed with SIGKILL (scripts/fleet-ctl.sh kill payment)
//      and started again a second later;
//   b. 150 orders; in the middle RabbitMQ's application is stopped
//      (scripts/rabbitmqctl.sh stop_app, as broker-outage.test.mjs does):
//      POST /api/orders keeps answering 201 meanwhile (the outbox), and it
//      is started again while the burst goes on;
//   c. 100 orders; in the middle PostgreSQL is restarted (fleet-ctl.sh
//      restart-postgres): some POSTs may answer 503 problem+json — they are
//      no orders (that user has none, the cart keeps its lines); every 201
//      must settle.
// Then, for every 201: the order ends confirmed (tok_visa) or failed
// (tok_chargeDeclined, 1 in 4), with exactly one payment of its total,
// exactly one order_confirmed / order_failed mail at the SMTP sink (and no
// two mails sharing a Message-ID), and the product's stock is the initial
// stock minus the confirmed quantities. Finally the system is drained: the
// five queues of EVENTS.md are empty, the outboxes of order, payment and
// user are drained (outbox_backlog 0), and the dead-letter queues hold
// exactly what they held before plus the one poison message (not JSON, on
// order.created) each scenario injected — in payment.order-created.dlq and
// cart.order-created.dlq.
//
// It disturbs the whole fleet: it holds the broker lock exclusively (no
// test that needs the broker runs meanwhile) and the catalog lock, runs
// only on a test fleet (SHOP_STATE_DIR under .state/test/) unless
// SHOP_SAGA_FAULTS=1, refuses when SHOP_STATE_DIR/fleet.vars does not
// describe the daemons behind SHOP_*_URL or rabbitmqctl would target
// another node, and always leaves the fleet whole: payment started, the
// broker's app started, every daemon's /ready 200 (finally blocks, the
// after hook, and a synchronous last resort on exit).
//
// Users are made up: a random id and a token minted with the fleet's key
// (lib/jwt.mjs), one user per order. Carts are filled on the cart daemon,
// orders placed through the gateway, the many polls go to the daemons
// directly (the gateway's rate limits are for the other tests).
//
// SHOP_SAGA_SETTLE_TIMEOUT_MS (default 90000): how long every order of a
// scenario may take to leave pending; SHOP_SAGA_DRAIN_TIMEOUT_MS (60000):
// how long mails, queues and outboxes may take to catch up.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pool, settleAll, tryRequest as tryRequestOr0 } from './lib/burst.mjs';
import { env, repoRoot } from './lib/env.mjs';
import { client, request, show, waitForHealthy } from './lib/http.mjs';
import { mintToken, adminToken } from './lib/jwt.mjs';
import {
	acquireBrokerLock, brokerNode, EXCHANGE, mgmtApi, rabbitmqctl, rabbitmqctlTarget, waitForManagement, waitForQueue,
} from './lib/broker.mjs';
import { acquireCatalogLock, getCategories } from './lib/catalog.mjs';
import { metricValue, productFactory } from './lib/cart.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const SETTLE_TIMEOUT_MS = Number(process.env.SHOP_SAGA_SETTLE_TIMEOUT_MS) || 90000;
const DRAIN_TIMEOUT_MS = Number(process.env.SHOP_SAGA_DRAIN_TIMEOUT_MS) || 60000;
/** After the last expected mail, how long duplicates are waited for. */
const DUPLICATE_WINDOW_MS = 3000;
const FLEET_CTL = path.join(repoRoot, 'scripts', 'fleet-ctl.sh');
const QUEUES = ['payment.order-created', 'cart.order-created', 'order.payment-results', 'email.notifications', 'product.order-results'];
/** The queues an order.created poison message reaches (and whose DLQs must hold it). */
const POISON_QUEUES = ['payment.order-created', 'cart.order-created'];
const ADDRESS = { name: 'Itest Fault', line1: '1 Fault Lane', line2: null, city: 'Testville', postal_code: '12345', country: 'DE' };
const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const runId = crypto.randomBytes(4).toString('hex');
const mailNew = path.join(env.mailDir, 'new');

const gw = client(env.gatewayUrl);
const orderHttp = client(env.orderUrl);
const paymentHttp = client(env.paymentUrl);
const cartHttp = client(env.cartUrl);
const productHttp = client(env.productUrl);
/** Every daemon of the fleet, for /ready at the end. */
const DAEMONS = { gateway: env.gatewayUrl, product: env.productUrl, user: env.userUrl, cart: env.cartUrl, order: env.orderUrl, payment: env.paymentUrl, email: env.emailUrl };
/** The daemons with an outbox (outbox_backlog in /metrics). */
const OUTBOXES = { order: env.orderUrl, payment: env.paymentUrl, user: env.userUrl };

// ---------------------------------------------------------------- what we broke, to mend it whatever happens

const broken = { payment: false, broker: false, postgres: false };
let releaseBroker;
let releaseCatalog;
let products;
let guarded = false; // the guards passed: this is the fleet we mean

/** Runs scripts/fleet-ctl.sh SHOP_STATE_DIR ...args; resolves { code, out, ms }. */
function fleetCtl(args, { timeoutMs = 120000 } = {}) {
	const t0 = Date.now();
	return new Promise((resolve) => {
		execFile(FLEET_CTL, [env.stateDir, ...args], { cwd: repoRoot, timeout: timeoutMs, env: process.env }, (err, stdout, stderr) => {
			const code = err ? (typeof err.code === 'number' ? err.code : (err.killed ? `killed after ${timeoutMs} ms` : err.message)) : 0;
			resolve({ code, out: `${stdout}${stderr}`.trim(), ms: Date.now() - t0 });
		});
	});
}

async function healthy(url) {
	try {
		return (await request('GET', `${url}/health`, { timeoutMs: 3000, retry429: false })).status === 200;
	} catch {
		return false;
	}
}

/** Starts the payment daemon again if it does not answer /health. */
async function mendPayment(why) {
	if (!guarded) return;
	if (await healthy(env.paymentUrl)) {
		broken.payment = false;
		return;
	}
	const r = await fleetCtl(['start', 'payment']);
	if (r.code === 0) broken.payment = false;
	else console.error(`# fleet-ctl start payment (${why}) exited ${r.code}:\n${r.out}`);
}

/** start_app, retried as broker-outage.test.mjs does (stop_app then start_app). */
async function mendBroker(why) {
	if (!broken.broker) return { code: 0, out: '' };
	let r;
	for (let attempt = 1; attempt <= 3; attempt++) {
		if (attempt > 1) {
			await sleep(2000);
			await rabbitmqctl(['stop_app']);
		}
		r = await rabbitmqctl(['start_app']);
		if (r.code === 0) {
			broken.broker = false;
			return r;
		}
		console.error(`# rabbitmqctl start_app (${why}, attempt ${attempt}) exited ${r.code}:\n${r.out}`);
	}
	return r;
}

/** Polls every daemon's /ready until 200; returns the ones that are not. */
async function waitAllReady(ms = 60000) {
	const deadline = Date.now() + ms;
	let notReady;
	for (;;) {
		notReady = [];
		for (const [name, url] of Object.entries(DAEMONS)) {
			const r = await request('GET', `${url}/ready`, { timeoutMs: 3000, retry429: false }).catch((err) => ({ status: 0, text: err.message }));
			if (r.status !== 200) notReady.push(`${name} ${r.status} ${String(r.text).slice(0, 300)}`);
		}
		if (notReady.length === 0 || Date.now() > deadline) return notReady;
		await sleep(500);
	}
}

// Last resort: the process ends with the fleet still broken.
process.once('exit', () => {
	if (!guarded) return;
	if (broken.broker) {
		try {
			execFileSync(path.join(repoRoot, 'scripts', 'rabbitmqctl.sh'), ['start_app'], { env: { ...process.env, ...rabbitmqctlTarget().vars }, stdio: 'ignore', timeout: 60000 });
		} catch { /* nothing more to do */ }
	}
	if (broken.payment) {
		try {
			execFileSync(FLEET_CTL, [env.stateDir, 'start', 'payment'], { cwd: repoRoot, stdio: 'ignore', timeout: 60000 });
		} catch { /* nothing more to do */ }
	}
});
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));

after(async () => {
	try {
		if (guarded) {
			await mendBroker('after hook');
			await waitForManagement(60000).catch(() => {});
			await mendPayment('after hook');
			const notReady = await waitAllReady(60000);
			if (notReady.length > 0) console.error(`# after the fault tests, not ready:\n#   ${notReady.join('\n#   ')}`);
		}
		await products?.sweep().catch((err) => console.error(`# product cleanup: ${err.message}`));
	} finally {
		releaseCatalog?.();
		releaseBroker?.();
	}
});

// ---------------------------------------------------------------- the guards

/** KEY=value lines of SHOP_STATE_DIR/fleet.vars. */
function fleetVars() {
	const file = path.join(env.stateDir, 'fleet.vars');
	assert.ok(fs.existsSync(file), `no ${file}: scripts/fleet-ctl.sh needs the fleet's fleet.vars (SHOP_STATE_DIR must be the fleet's state folder)`);
	const vars = {};
	for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
		const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
		if (m) vars[m[1]] = m[2].replace(/^['"]|['"]$/g, '');
	}
	return vars;
}

const portOf = (url) => String(new URL(url).port || (new URL(url).protocol === 'https:' ? 443 : 80));

// ---------------------------------------------------------------- the broker and the metrics

const enc = encodeURIComponent;

/** A queue's ready + unacked count (management API statistics). */
async function queueDepth(name) {
	const res = await mgmtApi('GET', `/api/queues/%2F/${enc(name)}`);
	assert.equal(res.status, 200, `GET queue ${name}\n${show(res)}`);
	const q = res.body;
	return { ready: q.messages_ready ?? 0, unacked: q.messages_unacknowledged ?? 0, total: (q.messages_ready ?? 0) + (q.messages_unacknowledged ?? 0), consumers: q.consumers };
}

/** Every message of a dead-letter queue, looked at and put back (DLQs have no delivery limit). */
async function peekDlq(name) {
	const res = await mgmtApi('POST', `/api/queues/%2F/${enc(name)}/get`, { count: 100000, ackmode: 'reject_requeue_true', encoding: 'auto', truncate: 2000 });
	assert.equal(res.status, 200, `peek ${name}\n${show(res)}`);
	return res.body.map((m) => (m.payload_encoding === 'base64' ? Buffer.from(m.payload, 'base64').toString('utf8') : m.payload));
}

/** queue -> the bodies its dead-letter queue holds. */
async function dlqSnapshot() {
	const out = {};
	for (const q of QUEUES) out[q] = await peekDlq(`${q}.dlq`);
	return out;
}

/** The bodies of `now` that `before` did not hold (a multiset difference). */
function newBodies(before, now) {
	const left = new Map();
	for (const b of before) left.set(b, (left.get(b) ?? 0) + 1);
	const out = [];
	for (const b of now) {
		const n = left.get(b) ?? 0;
		if (n > 0) left.set(b, n - 1);
		else out.push(b);
	}
	return out;
}

/** Publishes a body that is not JSON on order.created; returns its marker. */
async function injectPoison(tag) {
	const marker = `itest-poison-${runId}-${tag}`;
	const res = await mgmtApi('POST', `/api/exchanges/%2F/${enc(EXCHANGE)}/publish`, {
		properties: { content_type: 'application/json', delivery_mode: 2, type: 'order.created', message_id: crypto.randomUUID() },
		routing_key: 'order.created',
		payload: `${marker} {"this is": not json`,
		payload_encoding: 'string',
	});
	assert.equal(res.status, 200, `publish the poison message\n${show(res)}`);
	assert.equal(res.body?.routed, true, `the poison message was not routed\n${show(res)}`);
	return marker;
}

/** outbox_backlog of a daemon (its /metrics). */
async function outboxBacklog(url) {
	const res = await request('GET', `${url}/metrics`, { timeoutMs: 5000, retry429: false });
	assert.equal(res.status, 200, `GET ${url}/metrics\n${show(res)}`);
	const v = metricValue(res.text, 'outbox_backlog');
	assert.notEqual(v, undefined, `${url}/metrics has no outbox_backlog gauge`);
	return v;
}

/**
 * Waits (DRAIN_TIMEOUT_MS) until the five queues hold nothing (ready +
 * unacked) and each outbox is drained; asserts it, naming what is left.
 */
async function assertDrained(what) {
	const deadline = Date.now() + DRAIN_TIMEOUT_MS;
	const t0 = Date.now();
	let left;
	for (;;) {
		left = [];
		for (const q of QUEUES) {
			const d = await queueDepth(q).catch((err) => ({ total: `? (${err.message})` }));
			if (d.total !== 0) left.push(`queue ${q}: ${JSON.stringify(d)}`);
		}
		for (const [name, url] of Object.entries(OUTBOXES)) {
			const v = await outboxBacklog(url).catch((err) => `? (${err.message})`);
			if (v !== 0) left.push(`${name} outbox_backlog ${v}`);
		}
		if (left.length === 0) break;
		assert.ok(Date.now() < deadline, `${what}: not drained ${DRAIN_TIMEOUT_MS} ms later:\n  ${left.join('\n  ')}`);
		await sleep(500);
	}
	console.error(`# ${what}: queues empty and outboxes drained (${Date.now() - t0} ms)`);
}

// ---------------------------------------------------------------- the SMTP sink

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

/** A mail file: { file, to, messageId, kind, orderIds }. */
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
	return { file, to: headers.to, messageId: headers['message-id'], kind: mid?.[2], orderIds: new Set((body.match(UUID_G) ?? []).map((s) => s.toLowerCase())) };
}

const mailCache = new Map();
/** Reads the new files of the Maildir; returns orderId -> [mail]. */
function mailsByOrder() {
	for (const f of fs.readdirSync(mailNew)) {
		if (mailCache.has(f)) continue;
		try {
			mailCache.set(f, parseMail(f, fs.readFileSync(path.join(mailNew, f), 'utf8')));
		} catch (err) {
			if (err.code !== 'ENOENT') throw err;
		}
	}
	const out = new Map();
	for (const m of mailCache.values()) {
		for (const id of m.orderIds) {
			if (!out.has(id)) out.set(id, []);
			out.get(id).push(m);
		}
	}
	return out;
}

// ---------------------------------------------------------------- shoppers and orders

const tryRequest = (method, url, opts) => tryRequestOr0(method, url, { retry429: true, ...opts });

/**
 * `count` made-up users, each with a minted token and a cart holding 1-3
 * of `product` (filled on the cart daemon); every 4th pays with
 * tok_chargeDeclined.
 */
async function shoppers(tag, count, product) {
	const list = Array.from({ length: count }, (_, i) => {
		const id = crypto.randomUUID();
		const email = `itest-${runId}-${tag}-${i}@example.com`;
		return { i, id, email, token: mintToken({ sub: id, email }), qty: 1 + (i % 3), paymentToken: i % 4 === 3 ? 'tok_chargeDeclined' : 'tok_visa' };
	});
	await pool(list, 16, async (s) => {
		const res = await tryRequest('POST', `${env.cartUrl}/api/cart/items`, { json: { product_id: product.id, quantity: s.qty }, token: s.token });
		assert.ok(res.status === 200 || res.status === 201, `setup: fill the cart of shopper ${s.i}\n${show(res)}`);
	});
	return list;
}

/**
 * Places one order per shopper through the gateway (`concurrency` at a
 * time, `pauseMs` between two of one worker); calls `on201(n)` after the
 * n-th 201. Fills s.res, s.order (201), s.ms, s.requestId.
 */
async function placeAll(list, { concurrency = 16, pauseMs = 0, on201 } = {}) {
	let n201 = 0;
	await pool(list, concurrency, async (s) => {
		s.requestId = `itest-fault-${runId}-${crypto.randomUUID()}`;
		const t0 = Date.now();
		s.res = await tryRequest('POST', `${env.gatewayUrl}/api/orders`, {
			json: { payment_token: s.paymentToken, shipping_address: ADDRESS }, token: s.token, headers: { 'x-request-id': s.requestId },
		});
		s.ms = Date.now() - t0;
		s.at = Date.now();
		if (s.res.status === 201) {
			s.order = s.res.body;
			n201++;
			on201?.(n201);
		}
		if (pauseMs) await sleep(pauseMs);
	});
}

/** The product's stock (product daemon). */
async function stockOf(product) {
	const res = await tryRequest('GET', `${env.productUrl}/api/products/${product.id}`);
	assert.equal(res.status, 200, `GET /api/products/${product.id}\n${show(res)}`);
	return res.body.stock;
}

/**
 * Every check of "nothing lost, nothing twice" for the 201 orders of a
 * scenario: settled, confirmed iff tok_visa, one payment of the total, one
 * mail of the right kind and none of the other, no Message-ID twice, the
 * stock = initial - confirmed quantities (or, with `leakAllowance`, at most
 * that much lower: holds of refused checkouts the product could not give
 * back while its database was down wait for their expiry).
 */
async function verifyScenario(sc) {
	const placed = sc.all.filter((s) => s.order);
	await settleAll(placed, sc.name, { baseUrl: env.orderUrl, timeoutMs: SETTLE_TIMEOUT_MS, concurrency: 16, pollMs: 500 });

	const wrong = placed.filter((s) => s.final.status !== (s.paymentToken === 'tok_visa' ? 'confirmed' : 'failed'));
	assert.deepEqual(wrong.map((s) => `${s.order.id} ${s.paymentToken} -> ${s.final.status} ${JSON.stringify(s.final.payment)}`), [],
		`${sc.name}: an order is confirmed iff its token was tok_visa`);
	const badReason = placed.filter((s) => s.final.status === 'failed' && s.final.payment?.failure_reason !== 'card_declined');
	assert.deepEqual(badReason.map((s) => `${s.order.id}: ${JSON.stringify(s.final.payment)}`), [], `${sc.name}: a declined order fails with card_declined`);

	// exactly one payment per order, of its total
	const payProblems = [];
	await pool(placed, 16, async (s) => {
		const res = await tryRequest('GET', `${env.paymentUrl}/api/payments?order_id=${s.order.id}`, { token: s.token });
		if (res.status !== 200) {
			payProblems.push(`${s.order.id}: GET /api/payments answered ${res.status} ${String(res.text).slice(0, 200)}`);
			return;
		}
		const mine = (res.body?.items ?? []).filter((p) => p.order_id === s.order.id);
		const want = s.paymentToken === 'tok_visa' ? 'succeeded' : 'declined';
		if (mine.length !== 1) payProblems.push(`${s.order.id} (${s.paymentToken}): ${mine.length} payments ${JSON.stringify(mine)}`);
		else if (mine[0].status !== want || mine[0].amount_cents !== s.order.total_cents) payProblems.push(`${s.order.id}: ${JSON.stringify(mine[0])} (total ${s.order.total_cents})`);
		else if (s.final.payment?.payment_id !== mine[0].id) payProblems.push(`${s.order.id}: the order names payment ${s.final.payment?.payment_id}, the payment service has ${mine[0].id}`);
	});
	assert.deepEqual(payProblems, [], `${sc.name}: exactly one payment per order, of the order's total, named by the order`);

	// exactly one mail of the right kind per order
	const kindOf = (s) => (s.final.status === 'confirmed' ? 'order_confirmed' : 'order_failed');
	const deadline = Date.now() + DRAIN_TIMEOUT_MS;
	for (;;) {
		const byOrder = mailsByOrder();
		const missing = placed.filter((s) => !(byOrder.get(s.order.id) ?? []).some((m) => m.kind === kindOf(s)));
		if (missing.length === 0) break;
		assert.ok(Date.now() < deadline, `${sc.name}: ${missing.length} orders have no mail at the sink ${DRAIN_TIMEOUT_MS} ms after they settled, e.g.:\n  ` +
			missing.slice(0, 8).map((s) => `${s.order.id} ${s.final.status} (expects ${kindOf(s)} to ${s.email})`).join('\n  '));
		await sleep(500);
	}
	await sleep(DUPLICATE_WINDOW_MS);
	const byOrder = mailsByOrder();
	const mailProblems = [];
	for (const s of placed) {
		const mails = byOrder.get(s.order.id) ?? [];
		const right = mails.filter((m) => m.kind === kindOf(s));
		const other = mails.filter((m) => m.kind !== kindOf(s));
		if (right.length !== 1 || other.length !== 0) {
			mailProblems.push(`${s.order.id} (${s.final.status}): ${mails.map((m) => `${m.file} ${m.messageId}`).join(', ')}`);
		} else if (right[0].to !== s.email) {
			mailProblems.push(`${s.order.id}: mailed to ${right[0].to}, not ${s.email}`);
		}
		const ids = mails.map((m) => m.messageId);
		if (new Set(ids).size !== ids.length) mailProblems.push(`${s.order.id}: two files share a Message-ID: ${ids.join(', ')}`);
	}
	assert.deepEqual(mailProblems, [], `${sc.name}: exactly one ${'order_confirmed / order_failed'} mail per order at the sink (${mailNew})`);

	// stock: initial - confirmed quantities (commit / release are asynchronous: wait for it)
	const confirmedQty = placed.filter((s) => s.final.status === 'confirmed').reduce((n, s) => n + s.qty, 0);
	const want = sc.initialStock - confirmedQty;
	const leak = sc.leakAllowance ?? 0;
	const sdl = Date.now() + DRAIN_TIMEOUT_MS;
	const exactBy = Date.now() + (leak > 0 ? 15000 : DRAIN_TIMEOUT_MS);
	let stock;
	for (;;) {
		stock = await stockOf(sc.product);
		if (stock === want) break;
		if (Date.now() > exactBy && leak > 0 && stock < want && stock >= want - leak) break;
		assert.ok(Date.now() < sdl, `${sc.name}: the stock of ${sc.product.id} is ${stock}; initial ${sc.initialStock} - confirmed ${confirmedQty} = ${want}` +
			(leak ? ` (up to ${leak} more may be held by refused checkouts)` : ''));
		await sleep(500);
	}
	if (stock !== want) console.error(`# ${sc.name}: stock ${stock} = ${want} - ${want - stock} still held by checkouts refused with 503 (released at hold expiry)`);

	const counts = { placed: placed.length, confirmed: placed.filter((s) => s.final.status === 'confirmed').length, failed: placed.filter((s) => s.final.status === 'failed').length };
	console.error(`# ${sc.name}: ${JSON.stringify(counts)}, confirmed quantity ${confirmedQty}, stock ${sc.initialStock} -> ${stock}`);
	return counts;
}

/** Summary of the POST answers of a burst: { status: count } and the slowest. */
function burstSummary(list) {
	const by = {};
	for (const s of list) by[s.res?.status ?? 'none'] = (by[s.res?.status ?? 'none'] ?? 0) + 1;
	const slowest = Math.max(...list.map((s) => s.ms ?? 0));
	return `${JSON.stringify(by)}, slowest POST ${slowest} ms`;
}

// ---------------------------------------------------------------- setup

let dlqBefore;
const poison = [];
let category;

async function setup() {
	for (const [name, url] of Object.entries(DAEMONS)) {
		await waitForHealthy(url).catch((err) => assert.fail(`${name}: ${err.message}`));
	}
	adminToken(); // fail early, with the key path, when the key is unusable
	assert.ok(fs.existsSync(mailNew), `no Maildir at ${mailNew}: is the SMTP sink running (SHOP_MAIL_DIR)?`);
	assert.ok(fs.existsSync(FLEET_CTL), `no ${FLEET_CTL}`);

	const target = rabbitmqctlTarget();
	const vars = fleetVars();
	for (const [key, url] of [['GATEWAY_PORT', env.gatewayUrl], ['ORDER_PORT', env.orderUrl], ['PAYMENT_PORT', env.paymentUrl], ['PRODUCT_PORT', env.productUrl], ['RABBIT_MGMT_PORT', env.rabbitMgmtUrl]]) {
		assert.equal(vars[key], portOf(url), `${env.stateDir}/fleet.vars says ${key}=${vars[key]}, but the daemon under test is ${url}: ` +
			'refusing to hurt a fleet other than the one under test (SHOP_STATE_DIR must be its state folder)');
	}
	releaseBroker = await acquireBrokerLock('exclusive', { timeoutMs: 10 * 60 * 1000 });
	releaseCatalog = await acquireCatalogLock();
	const node = await brokerNode();
	assert.equal(node, target.node, `SHOP_RABBITMQ_MGMT_URL (${env.rabbitMgmtUrl}) is node ${node}, but scripts/rabbitmqctl.sh would target ${target.node}: refusing to stop the wrong broker`);
	guarded = true;

	const notReady = await waitAllReady(30000);
	assert.deepEqual(notReady, [], 'every daemon must be ready before the faults');
	for (const q of QUEUES) await waitForQueue(q, 10000);
	await assertDrained('before the faults (leftovers of earlier tests)');
	// the management API's queue statistics lag (5 s): look again once they are fresh, so
	// that a message another test published just before we got the lock is counted before
	await sleep(6000);
	await assertDrained('before the faults, 6 s later');
	dlqBefore = await dlqSnapshot();
	console.error(`# dead-letter queues before: ${JSON.stringify(Object.fromEntries(Object.entries(dlqBefore).map(([q, b]) => [q, b.length])))}`);
	category = (await getCategories(productHttp))[0]?.slug;
	assert.ok(category, 'the catalog needs a category');
	products = productFactory(productHttp, { tag: 'fault', category });
}

/**
 * A scenario: its own product (stock 10000), `count` shoppers with full
 * carts, and one warm-up checkout placed alone first (retried while it
 * answers 503) so that a circuit breaker the previous fault left open in
 * the order daemon is closed again before the burst. The warm-up order is
 * verified with the others.
 */
async function newScenario(name, tag, count) {
	const initialStock = 10000;
	const product = await products.create({ price_cents: 1500, stock: initialStock });
	const list = await shoppers(tag, count, product);
	const [warm] = await shoppers(`${tag}-warm`, 1, product);
	const deadline = Date.now() + 20000;
	const refusals = [];
	for (;;) {
		await placeAll([warm]);
		if (warm.res.status === 201) break;
		refusals.push(`${warm.res.status} ${String(warm.res.body?.detail ?? warm.res.text).slice(0, 200)}`);
		assert.ok(warm.res.status === 503 && Date.now() < deadline, `${name}: the warm-up checkout before the burst:\n${show(warm.res)}`);
		await sleep(250);
	}
	if (refusals.length) console.error(`# ${name}: the warm-up checkout was refused ${refusals.length} time(s) before its 201: ${[...new Set(refusals)].join('; ')}`);
	return { name, tag, list, all: [warm, ...list], product, initialStock };
}

// ---------------------------------------------------------------- the tests

describe('the saga under faults: nothing lost, nothing twice', { concurrency: false }, () => {
	const target = rabbitmqctlTarget();
	const skip = target.fleet === 'dev' && process.env.SHOP_SAGA_FAULTS !== '1'
		? `SHOP_STATE_DIR (${env.stateDir}) is a dev fleet: set SHOP_SAGA_FAULTS=1 to kill its payment daemon, stop its broker and restart its PostgreSQL`
		: false;
	let ready;
	const setupOnce = () => (ready ??= setup());
	const it = (name, fn) => nodeIt(name, { skip, timeout: 200000 }, async () => {
		await setupOnce();
		return fn();
	});

	it('a. 200 orders, the payment daemon killed (SIGKILL) after the first 50 answers and started again: each order settles once', async () => {
		const sc = await newScenario('a (payment killed)', 'kill', 200);
		let fault;
		const t0 = Date.now();
		await placeAll(sc.list, {
			pauseMs: 150, // a burst of a few seconds: the kill lands while orders keep coming
			on201: (n) => {
				if (n !== 50) return;
				fault = (async () => {
					broken.payment = true;
					const kill = await fleetCtl(['kill', 'payment']);
					assert.equal(kill.code, 0, `fleet-ctl kill payment:\n${kill.out}`);
					const killedAt = Date.now();
					sc.poison = await injectPoison('a'); // waits in payment.order-created while payment is dead
					await sleep(1000);
					const start = await fleetCtl(['start', 'payment']);
					assert.equal(start.code, 0, `fleet-ctl start payment:\n${start.out}`);
					broken.payment = false;
					return { kill: kill.ms, start: start.ms, killedAt, startedAt: Date.now() - start.ms };
				})();
				fault.catch(() => {}); // awaited after the burst; no unhandled rejection meanwhile
			},
		});
		const burstMs = Date.now() - t0;
		assert.ok(fault, `the fault never fired: fewer than 50 orders were placed (${burstSummary(sc.list)})`);
		const f = await fault.finally(() => mendPayment('scenario a'));
		poison.push(sc.poison);
		const whileDown = sc.list.filter((s) => s.at >= f.killedAt && s.at <= f.startedAt + f.start).length;
		console.error(`# a: burst of ${sc.list.length} in ${burstMs} ms: ${burstSummary(sc.list)}; fleet-ctl kill ${f.kill} ms, start ${f.start} ms; ` +
			`${whileDown} orders placed while the payment daemon was down`);
		const counts = await verifyScenario(sc);
		const refused = sc.list.filter((s) => s.res.status !== 201);
		assert.deepEqual(refused.map((s) => show(s.res)), [], 'a: the payment daemon is no part of checkout: every POST answers 201');
		assert.equal(counts.placed, 201, 'the warm-up order and the 200 of the burst');
		await assertDrained('a (payment killed)');
	});

	it('b. 150 orders, RabbitMQ stopped in the middle of the burst (POST keeps answering 201) and started again: each order settles once', async () => {
		const sc = await newScenario('b (broker restarted)', 'broker', 150);
		const [part1, part2, part3] = [sc.list.slice(0, 60), sc.list.slice(60, 110), sc.list.slice(110)];
		let stop;
		let orderReady;
		try {
			const t0 = Date.now();
			await placeAll(part1, {
				on201: (n) => {
					if (n !== 40) return;
					broken.broker = true;
					stop = rabbitmqctl(['stop_app']);
				},
			});
			assert.ok(stop, `the fault never fired (${burstSummary(part1)})`);
			const stopped = await stop;
			assert.equal(stopped.code, 0, `rabbitmqctl stop_app (FLEET=${target.fleet}) failed:\n${stopped.out}`);
			const downAt = Date.now();
			// the broker is down for the whole of part 2
			const readyWhileDown = pollNotReady(env.orderUrl, 15000);
			await placeAll(part2, { concurrency: 5, pauseMs: 250 }); // ~3 s of checkouts with the broker down
			orderReady = await readyWhileDown;
			const downFor = Date.now() - downAt;
			const start = mendBroker('scenario b');
			await placeAll(part3); // while the broker comes back and the daemons reconnect
			const started = await start;
			assert.equal(started.code, 0, `rabbitmqctl start_app failed:\n${started.out}`);
			console.error(`# b: ${sc.list.length} orders in ${Date.now() - t0} ms; broker down ${downFor}+ ms; ` +
				`part 1 ${burstSummary(part1)}; part 2 (broker down) ${burstSummary(part2)}; part 3 ${burstSummary(part3)}`);
		} finally {
			await mendBroker('scenario b finally');
		}
		await waitForManagement(60000);
		for (const q of QUEUES) await waitForQueue(q, 30000);
		sc.poison = await injectPoison('b');
		poison.push(sc.poison);
		await verifyScenario(sc);
		await assertDrained('b (broker restarted)');

		const refused = sc.list.filter((s) => s.res.status !== 201);
		assert.deepEqual(refused.map((s) => show(s.res)), [], 'b: POST /api/orders answers 201 whatever the broker does (the outbox decouples it)');
		const slow = part2.filter((s) => s.ms > 5000);
		assert.deepEqual(slow.map((s) => `${s.order?.id}: ${s.ms} ms`), [], 'b: with the broker down a checkout does not wait for it (under 5 s)');
		assert.ok(orderReady.ok, `b: with the broker down, the order daemon's /ready must say 503 (EVENTS.md) within 15 s\n${show(orderReady.res)}`);
	});

	it('c. 100 orders, PostgreSQL restarted in the middle: 503s are no orders, each 201 settles once', async () => {
		const sc = await newScenario('c (PostgreSQL restarted)', 'pg', 100);
		let restart;
		const t0 = Date.now();
		await placeAll(sc.list, {
			concurrency: 8,
			pauseMs: 100, // a burst long enough to span the outage
			on201: (n) => {
				if (n !== 30) return;
				broken.postgres = true;
				restart = (async () => {
					const p = injectPoison('c'); // the consumers see it while their database is down
					p.catch(() => {}); // awaited below
					const r = await fleetCtl(['restart-postgres']);
					return { r, marker: await p };
				})();
				restart.catch(() => {});
			},
		});
		const burstMs = Date.now() - t0;
		assert.ok(restart, `the fault never fired (${burstSummary(sc.list)})`);
		const { r, marker } = await restart;
		assert.equal(r.code, 0, `fleet-ctl restart-postgres:\n${r.out}`);
		broken.postgres = false;
		sc.poison = marker;
		poison.push(marker);
		console.error(`# c: burst of ${sc.list.length} in ${burstMs} ms: ${burstSummary(sc.list)}; restart-postgres ${r.ms} ms`);

		const notReady = await waitAllReady(60000);
		assert.deepEqual(notReady, [], 'c: every daemon is ready again within 60 s of the restart');

		// what is not a 201 must be a 503 problem (the database was down), and no order
		const other = sc.list.filter((s) => s.res.status !== 201);
		const bad = other.filter((s) => !(s.res.status === 503 && s.res.contentType === 'application/problem+json' && s.res.body?.status === 503));
		assert.deepEqual(bad.map((s) => show(s.res)), [], 'c: a checkout that is not a 201 is a 503 problem+json (the database was down)');
		const ghosts = [];
		await pool(other, 8, async (s) => {
			const res = await tryRequest('GET', `${env.orderUrl}/api/orders`, { token: s.token });
			if (res.status !== 200 || res.body?.total !== 0) ghosts.push(`user ${s.id} (503 to request ${s.requestId}): ${res.status} ${String(res.text).slice(0, 400)}`);
			const cart = await tryRequest('GET', `${env.cartUrl}/api/cart`, { token: s.token });
			if (cart.status !== 200 || cart.body?.items?.[0]?.quantity !== s.qty) ghosts.push(`user ${s.id}: the cart lost its line after a refused checkout: ${cart.status} ${String(cart.text).slice(0, 300)}`);
		});
		assert.deepEqual(ghosts, [], 'c: a refused checkout leaves no order and keeps the cart');
		sc.leakAllowance = other.reduce((n, s) => n + s.qty, 0);
		const counts = await verifyScenario(sc);
		assert.ok(counts.placed >= 31, `c: at least the warm-up and the 30 orders before the restart were placed (${counts.placed})`);
		await assertDrained('c (PostgreSQL restarted)');
	});

	it('then: the queues are empty, the outboxes drained, the dead-letter queues hold only the poison messages injected', async () => {
		await assertDrained('after the three faults');
		assert.equal(poison.length, 3, 'one poison message per scenario');
		const now = await dlqSnapshot();
		const problems = [];
		for (const q of QUEUES) {
			const added = newBodies(dlqBefore[q], now[q]);
			const expected = POISON_QUEUES.includes(q) ? poison : [];
			for (const marker of expected) {
				if (!added.some((b) => b.includes(marker))) problems.push(`${q}.dlq does not hold the poison message ${marker}`);
			}
			const strays = added.filter((b) => !expected.some((m) => b.includes(m)));
			if (strays.length > 0) problems.push(`${q}.dlq holds ${strays.length} message(s) the test did not inject:\n    ${strays.map((b) => b.slice(0, 500)).join('\n    ')}`);
			if (added.length !== expected.length) problems.push(`${q}.dlq: ${dlqBefore[q].length} before, ${now[q].length} now; the test injected ${expected.length}`);
		}
		console.error(`# dead-letter queues after: ${JSON.stringify(Object.fromEntries(Object.entries(now).map(([q, b]) => [q, b.length])))} (poison injected: ${poison.length} on order.created)`);
		assert.deepEqual(problems, [], 'the dead-letter queues hold exactly what they held before plus the injected poison');
		const notReady = await waitAllReady(30000);
		assert.deepEqual(notReady, [], 'every daemon is ready at the end');
	});
});

/** Polls `${url}/ready` until it is 503 (or ms pass). */
async function pollNotReady(url, ms) {
	const deadline = Date.now() + ms;
	let res;
	for (;;) {
		res = await request('GET', `${url}/ready`, { timeoutMs: 3000, retry429: false }).catch((err) => ({ status: 0, text: err.message, headers: new Headers() }));
		if (res.status === 503) return { ok: true, res };
		if (Date.now() > deadline) return { ok: false, res };
		await sleep(200);
	}
}
