// Scale-out on one machine (ARCHITECTURE.md: every daemon but the databases
// runs as several replicas, replicas of a consumer share its queue, the
// gateway balances over several upstream addresses). Beside the running
// fleet this file starts a second replica each of the product, order and
// payment daemons (free ports; the fleet's databases, broker, Redis and
// secrets; the environment scripts/lib/fleet.sh SHOP_DAEMONS gives the
// fleet's own, consumers included: a replica competes for its service's
// queue like the original), and a gateway of its own whose
// PRODUCT_UPSTREAMS, ORDER_UPSTREAMS and PAYMENT_UPSTREAMS list both
// replicas (the fleet's first) and whose other upstreams are the fleet's.
// Through that gateway:
//   1. reads spread over both replicas of product and order: the replica of
//      ours served a fair share (30-70 %) by its http_requests_total before
//      and after, the fleet's grew by at least the rest (other test files
//      send it traffic too, so only a lower bound holds for it);
//   2. 40 checkouts (each POST followed by a GET of the order): the order
//      requests spread over both order replicas, both took checkouts; both
//      payment daemons charged some of the orders ("order charged" in our
//      replica's log, and in the fleet's log when it has one), none was
//      charged by both, and every order has exactly one payment;
//   3. 120 checkouts by clients that retry a 502/503/504 with the same
//      Idempotency-Key, as a real client would, each also reading the
//      product, its order and its payments; in the middle of the burst our
//      order, product and payment replicas are killed (SIGKILL) one after
//      the other. Every client ends with a 201 and each user with exactly
//      one order (no order twice for one key), confirmed (tok_visa) or
//      failed (tok_chargeDeclined), with exactly one payment of its total
//      and one mail; the product's stock is its initial stock minus the
//      confirmed quantities (minus at most the quantities of the POSTs that
//      got a 5xx: a checkout killed between its reservation and its commit
//      holds its stock until the hold expires); the gateway skips a dead
//      replica: every request sent 200 ms or more after a kill answers
//      without a 5xx and, by the gateway's access log, went to a live
//      address, and /ready says "down" for the dead ones. The killed
//      replicas are started again on the same ports: the prober finds them
//      up and they serve a fair share again. The outboxes drain.
// Our daemons must stop on SIGTERM with exit 0 and no sanitizer report.
// Every process this file starts is stopped whatever happens (the after
// hook, and SIGKILL on exit as a last resort); the fleet's own daemons are
// never touched.
//
// Locks: the broker lock exclusively (our consumers take events off the
// fleet's queues, which payment.test.mjs and reservations.test.mjs count on
// the fleet's daemons' /metrics, and saga-faults.test.mjs hurts the fleet),
// then the catalog lock (for a product of our own, sku ITEST-<run>-scale-n).
// Users are made up (a random id, a token minted with the fleet's key), one
// per checkout. Nothing here counts anything global: only this file's
// orders, users and processes are asserted on.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pool, settleAll, tryRequest as tryRequestOr0 } from './lib/burst.mjs';
import { env, repoRoot } from './lib/env.mjs';
import { client, request, show, waitForHealthy } from './lib/http.mjs';
import { adminToken, mintToken } from './lib/jwt.mjs';
import { acquireBrokerLock } from './lib/broker.mjs';
import { acquireCatalogLock, getCategories } from './lib/catalog.mjs';
import { logFilesOf } from './lib/platform.mjs';
import { SANITIZER_RE, buildDir, freePort, metricValue, productFactory, spawnDaemon, stopDaemon, waitForDaemon } from './lib/cart.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const runId = crypto.randomBytes(4).toString('hex');
const SETTLE_TIMEOUT_MS = Number(process.env.SHOP_SCALE_SETTLE_TIMEOUT_MS) || 60000;
/** After a kill, requests sent this much later must not see it. */
const KILL_GRACE_MS = 200;
const ADDRESS = { name: 'Itest Scale', line1: '2 Replica Road', line2: null, city: 'Testville', postal_code: '12345', country: 'DE' };
const SERVICES = ['product', 'order', 'payment'];
/** The fleet's replica of each service we double. */
const FLEET_URL = { product: env.productUrl, order: env.orderUrl, payment: env.paymentUrl };
const hostPort = (url) => `${new URL(url).hostname}:${new URL(url).port}`;

// ---------------------------------------------------------------- our processes

/** Every process this file started (spawnDaemon handles). */
const procs = new Set();
process.once('exit', () => {
	for (const p of procs) {
		if (!p.exited()) {
			try {
				process.kill(p.pid, 'SIGKILL');
			} catch { /* gone */ }
		}
	}
});
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));

function need(name) {
	const v = (process.env[name] ?? '').trim();
	assert.ok(v, `${name} must be set (scripts/test-all.sh and .state/dev/fleet.env set it)`);
	return v;
}

/** KEY=value lines of SHOP_STATE_DIR/fleet.vars ({} when there is none). */
function fleetVars() {
	const file = path.join(env.stateDir, 'fleet.vars');
	const vars = {};
	if (!fs.existsSync(file)) return vars;
	for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
		const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
		if (m) vars[m[1]] = m[2].replace(/^['"]|['"]$/g, '');
	}
	return vars;
}

/** What scripts/lib/fleet.sh passes to every daemon, and HTTP_*. LOG_LEVEL info: the access logs and "order charged" are read. */
function baseEnv(port) {
	const e = { HTTP_ADDRESS: '127.0.0.1', HTTP_PORT: String(port), LOG_LEVEL: 'info' };
	for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
		if (process.env[k] !== undefined) e[k] = process.env[k];
	}
	return e;
}

const common = () => ({
	REDIS_URL: need('SHOP_REDIS_URL'),
	AMQP_URL: need('SHOP_AMQP_URL'),
	JWT_PUBLIC_KEY_FILE: env.jwtPublicKeyPath,
	JWT_ISSUER: env.jwtIssuer,
	JWT_AUDIENCE: env.jwtAudience,
});

/** A replica's environment: SHOP_DAEMONS' line for the service, with the fleet's addresses. */
const REPLICA_ENV = {
	product: (port, vars) => ({
		...baseEnv(port),
		...common(),
		DATABASE_URL: need('SHOP_PRODUCT_DATABASE_URL'),
		MIGRATIONS_DIR: path.join(repoRoot, 'services', 'product', 'migrations'),
		INTERNAL_TOKEN_FILE: env.internalTokenPath,
		RESERVATION_SWEEP_INTERVAL_S: vars.RESERVATION_SWEEP_INTERVAL_S || '30',
	}),
	order: (port) => ({
		...baseEnv(port),
		...common(),
		DATABASE_URL: need('SHOP_ORDER_DATABASE_URL'),
		MIGRATIONS_DIR: path.join(repoRoot, 'services', 'order', 'migrations'),
		INTERNAL_TOKEN_FILE: env.internalTokenPath,
		// the fleet's: a daemon calls one address per upstream
		CART_URL: env.cartUrl,
		PRODUCT_URL: env.productUrl,
	}),
	payment: (port) => ({
		...baseEnv(port),
		...common(),
		DATABASE_URL: need('SHOP_PAYMENT_DATABASE_URL'),
		MIGRATIONS_DIR: path.join(repoRoot, 'services', 'payment', 'migrations'),
	}),
};
const CONSUMED_QUEUE = { product: 'product.order-results', order: 'order.payment-results', payment: 'payment.order-created' };

/** svc -> { svc, port, url, addr, proc, runs: [proc...] } */
const mine = {};
let gateway; // { port, url, proc }
let gw; // client(gateway.url)
let vars;

async function startReplica(svc) {
	const r = mine[svc];
	const proc = spawnDaemon(`${svc} replica (run ${r.runs.length + 1})`, path.join(buildDir, 'services', svc, `shop-${svc}`), REPLICA_ENV[svc](r.port, vars));
	procs.add(proc);
	r.runs.push(proc);
	r.proc = proc;
	await waitForDaemon(proc, r.url);
	return proc;
}

/** Waits until the consumer of a replica is connected (consumer_connected 1). */
async function waitConsuming(svc, ms = 20000) {
	const deadline = Date.now() + ms;
	for (;;) {
		const text = await metricsOf(mine[svc].url).catch(() => '');
		if (metricValue(text, 'consumer_connected', { queue: CONSUMED_QUEUE[svc] }) === 1) return;
		assert.ok(Date.now() < deadline, `the ${svc} replica's consumer of ${CONSUMED_QUEUE[svc]} is not connected ${ms} ms after start:\n${mine[svc].proc.output().slice(-2000)}`);
		await sleep(100);
	}
}

function gatewayEnv(port) {
	const both = (svc) => `${hostPort(FLEET_URL[svc])},${mine[svc].addr}`;
	return {
		...baseEnv(port),
		PRODUCT_UPSTREAMS: both('product'),
		ORDER_UPSTREAMS: both('order'),
		PAYMENT_UPSTREAMS: both('payment'),
		USER_UPSTREAMS: hostPort(env.userUrl),
		CART_UPSTREAMS: hostPort(env.cartUrl),
		EMAIL_UPSTREAMS: hostPort(env.emailUrl),
		REDIS_URL: need('SHOP_REDIS_URL'),
		JWT_PUBLIC_KEY_FILE: env.jwtPublicKeyPath,
		JWT_ISSUER: env.jwtIssuer,
		JWT_AUDIENCE: env.jwtAudience,
		// no shared budgets spent in Redis: the fleet's gateway counts 127.0.0.1 for the other files
		RATE_LIMIT_PER_ADDRESS: '0',
		RATE_LIMIT_PER_USER: '0',
	};
}

// ---------------------------------------------------------------- helpers

const tryRequest = (method, url, opts) => tryRequestOr0(method, url, { retry429: false, ...opts });

async function metricsOf(url) {
	const res = await request('GET', `${url}/metrics`, { timeoutMs: 5000, retry429: false });
	assert.equal(res.status, 200, `GET ${url}/metrics\n${show(res)}`);
	return res.text;
}

/** http_requests_total{route, method} (all statuses) of a daemon. */
const servedOf = async (url, route, method) => metricValue(await metricsOf(url), 'http_requests_total', { route, method }) ?? 0;

/**
 * Sends `n` requests through our gateway (send(k) does one and returns the
 * answer), each must answer `okStatus`; returns how many our replica of
 * `svc` and the fleet's served, by their http_requests_total{route,method}.
 */
async function spread(svc, route, method, n, send, okStatus = 200) {
	const before = { mine: await servedOf(mine[svc].url, route, method), fleet: await servedOf(FLEET_URL[svc], route, method) };
	const bad = [];
	await pool(Array.from({ length: n }, (_, k) => k), 4, async (k) => {
		const res = await send(k);
		if (res.status !== okStatus) bad.push(show(res));
	});
	assert.deepEqual(bad, [], `${method} ${route} through our gateway: every answer ${okStatus}`);
	// a daemon counts a request as it completes: let the last ones land
	let got;
	const deadline = Date.now() + 3000;
	for (;;) {
		got = {
			mine: (await servedOf(mine[svc].url, route, method)) - before.mine,
			fleet: (await servedOf(FLEET_URL[svc], route, method)) - before.fleet,
		};
		if (got.mine + got.fleet >= n || Date.now() > deadline) break;
		await sleep(100);
	}
	console.error(`# ${svc} ${method} ${route}: ${n} requests through our gateway: ours served ${got.mine}, the fleet's counter grew by ${got.fleet}`);
	return got;
}

function assertFairShare(svc, what, got, n, lo = 0.3, hi = 0.7) {
	assert.ok(got.mine <= n, `${what}: our ${svc} replica counted ${got.mine} of ${n}: only our gateway talks to it`);
	assert.ok(got.mine >= Math.ceil(lo * n) && got.mine <= Math.floor(hi * n),
		`${what}: our ${svc} replica served ${got.mine} of ${n}; round-robin over two healthy addresses gives each a fair share (${lo * 100}-${hi * 100} %)`);
	assert.ok(got.fleet >= n - got.mine, `${what}: the fleet's ${svc} counted ${got.fleet}, less than the ${n - got.mine} our replica did not serve`);
}

/** The upstream entries of our gateway's /ready: "svc address" -> status. */
async function upstreamStates() {
	const res = await tryRequest('GET', `${gateway.url}/ready`, { timeoutMs: 3000 });
	const out = {};
	for (const u of res.body?.upstreams ?? []) out[`${u.service} ${u.address}`] = u.status;
	return out;
}

async function waitUpstream(svc, address, want, ms = 10000) {
	const deadline = Date.now() + ms;
	const t0 = Date.now();
	let states;
	for (;;) {
		states = await upstreamStates();
		if (states[`${svc} ${address}`] === want) return Date.now() - t0;
		assert.ok(Date.now() < deadline, `our gateway's /ready does not say ${svc} ${address} is ${want} after ${ms} ms: ${JSON.stringify(states)}`);
		await sleep(100);
	}
}

/** request_id -> upstream address, from our gateway's access log. */
function gatewayUpstreams() {
	const out = new Map();
	for (const line of gateway.proc.output().split('\n')) {
		if (!line.includes('"msg":"request"')) continue;
		try {
			const j = JSON.parse(line);
			if (j.request_id) out.set(j.request_id, j.upstream ?? null);
		} catch { /* a line cut short */ }
	}
	return out;
}

/** order ids in "order charged" lines of a payment log text. */
function chargedIn(text) {
	const out = new Set();
	for (const line of text.split('\n')) {
		if (!line.includes('"order charged"')) continue;
		try {
			const j = JSON.parse(line);
			if (j.msg === 'order charged' && j.order_id) out.add(j.order_id);
		} catch { /* a line cut short */ }
	}
	return out;
}

/** The fleet's payment log from `offset` on ('' when there is none). */
function fleetPaymentLog(offset) {
	const file = logFilesOf('payment').find((f) => f.startsWith(env.stateDir));
	if (!file) return { file: undefined, text: '' };
	const fd = fs.openSync(file, 'r');
	try {
		const size = fs.fstatSync(fd).size;
		const start = Math.min(offset?.[file] ?? 0, size);
		const buf = Buffer.alloc(size - start);
		fs.readSync(fd, buf, 0, buf.length, start);
		return { file, text: buf.toString('utf8'), size };
	} finally {
		fs.closeSync(fd);
	}
}
function fleetPaymentLogOffset() {
	const out = {};
	for (const f of logFilesOf('payment')) out[f] = fs.statSync(f).size;
	return out;
}

// ---------------------------------------------------------------- shoppers

let products;
let product; // our product (stock STOCK)
const STOCK = 100000;

/** `count` made-up users with a cart of 1-3 of our product (through our gateway); every 4th pays with tok_chargeDeclined. */
async function shoppers(tag, count) {
	const list = Array.from({ length: count }, (_, i) => {
		const id = crypto.randomUUID();
		const email = `itest-${runId}-${tag}-${i}@example.com`;
		return {
			tag, i, id, email, token: mintToken({ sub: id, email }), qty: 1 + (i % 3),
			paymentToken: i % 4 === 3 ? 'tok_chargeDeclined' : 'tok_visa', key: `itest-scale-${runId}-${tag}-${i}`, log: [],
		};
	});
	await pool(list, 8, async (s) => {
		const res = await tryRequest('POST', `${gateway.url}/api/cart/items`, { json: { product_id: product.id, quantity: s.qty }, token: s.token });
		assert.ok(res.status === 200 || res.status === 201, `setup: fill the cart of shopper ${tag}-${s.i}\n${show(res)}`);
	});
	return list;
}

/**
 * One request of a shopper through our gateway, retried (same
 * Idempotency-Key for a POST) while it answers 502, 503 or 504. Every
 * attempt is logged in s.log as { svc, step, attempt, rid, at, status }.
 */
async function step(s, svc, name, method, urlPath, opts = {}) {
	let res;
	for (let attempt = 1; attempt <= 20; attempt++) {
		const rid = `${s.key}-${name}-${attempt}`;
		const at = Date.now();
		res = await tryRequest(method, `${gateway.url}${urlPath}`, { ...opts, token: s.token, headers: { ...(opts.headers ?? {}), 'x-request-id': rid } });
		s.log.push({ svc, step: name, attempt, rid, at, status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true' });
		if (![502, 503, 504].includes(res.status)) return res;
		await sleep(50 * attempt);
	}
	return res;
}

/** The storefront's checkout: look at the product, order, look at the order and its payments. */
async function checkout(s) {
	await step(s, 'product', 'product', 'GET', `/api/products/${product.id}`);
	s.res = await step(s, 'order', 'post', 'POST', '/api/orders', {
		json: { payment_token: s.paymentToken, shipping_address: ADDRESS }, headers: { 'idempotency-key': s.key },
	});
	if (s.res.status !== 201) return;
	s.order = s.res.body;
	await step(s, 'order', 'get', 'GET', `/api/orders/${s.order.id}`);
	await step(s, 'payment', 'payments', 'GET', `/api/payments?order_id=${s.order.id}`);
}

/** Checks out every shopper (`concurrency` at a time, `pauseMs` between two of one worker); on201(n) after the n-th 201. */
async function checkoutAll(list, { concurrency = 8, pauseMs = 0, on201 } = {}) {
	let n201 = 0;
	await pool(list, concurrency, async (s) => {
		await checkout(s);
		if (s.order) on201?.(++n201);
		if (pauseMs) await sleep(pauseMs);
	});
	const refused = list.filter((s) => s.res?.status !== 201);
	assert.deepEqual(refused.map((s) => `${s.tag}-${s.i}: ${show(s.res)}`), [], 'every checkout ends with a 201 (retrying 502/503/504 with the same Idempotency-Key)');
}

/** Confirmed iff tok_visa; exactly one payment of the total, the one the order names. Returns the payments. */
async function assertPaidOnce(list, what) {
	const wrong = list.filter((s) => s.final.status !== (s.paymentToken === 'tok_visa' ? 'confirmed' : 'failed'));
	assert.deepEqual(wrong.map((s) => `${s.order.id} ${s.paymentToken} -> ${s.final.status}`), [], `${what}: an order is confirmed iff its token was tok_visa`);
	const problems = [];
	await pool(list, 8, async (s) => {
		const res = await tryRequest('GET', `${gateway.url}/api/payments?order_id=${s.order.id}`, { token: s.token });
		if (res.status !== 200) {
			problems.push(`${s.order.id}: GET /api/payments answered ${res.status} ${String(res.text).slice(0, 200)}`);
			return;
		}
		const pays = (res.body?.items ?? []).filter((p) => p.order_id === s.order.id);
		const want = s.paymentToken === 'tok_visa' ? 'succeeded' : 'declined';
		if (pays.length !== 1) problems.push(`${s.order.id}: ${pays.length} payments ${JSON.stringify(pays)}`);
		else if (pays[0].status !== want || pays[0].amount_cents !== s.order.total_cents) problems.push(`${s.order.id}: ${JSON.stringify(pays[0])} (total ${s.order.total_cents})`);
		else if (s.final.payment?.payment_id !== pays[0].id) problems.push(`${s.order.id}: the order names payment ${s.final.payment?.payment_id}, the payment service has ${pays[0].id}`);
	});
	assert.deepEqual(problems, [], `${what}: exactly one payment per order, of its total, named by the order`);
}

/** The product's stock, from the fleet's product daemon. */
async function stockOf() {
	const res = await tryRequest('GET', `${env.productUrl}/api/products/${product.id}`);
	assert.equal(res.status, 200, `GET /api/products/${product.id}\n${show(res)}`);
	return res.body.stock;
}

// ---------------------------------------------------------------- setup and teardown

let releaseBroker;
let releaseCatalog;
let confirmedSoFar = 0; // quantities of confirmed orders of every phase

/** How long this file may wait for its locks (other files hold them for their whole run). */
const LOCK_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * The broker lock (exclusive), then the catalog lock, as saga-faults.test.mjs
 * takes them. orders.test.mjs takes the catalog first and the broker lock
 * (shared) after it, so a waiting exclusive holder can close a circle (it
 * waits for a shared holder that waits for the catalog that orders.test.mjs
 * holds while it waits behind the exclusive one): rather than wait long at
 * either step, give back what is held and try again a moment later.
 */
async function acquireLocks() {
	const deadline = Date.now() + LOCK_TIMEOUT_MS;
	for (;;) {
		let rb;
		try {
			rb = await acquireBrokerLock('exclusive', { timeoutMs: 15000 });
			const rc = await acquireCatalogLock({ timeoutMs: 3000 });
			return [rb, rc];
		} catch (err) {
			rb?.();
			if (!/timed out/.test(err.message) || Date.now() > deadline) throw err;
		}
		await sleep(500 + Math.random() * 2000);
	}
}

async function setup() {
	assert.ok(env.jwtPublicKeyPath, 'SHOP_JWT_PUBLIC_KEY must name the public key file the daemons read');
	for (const [name, url] of Object.entries({ gateway: env.gatewayUrl, user: env.userUrl, cart: env.cartUrl, email: env.emailUrl, ...FLEET_URL })) {
		await waitForHealthy(url).catch((err) => assert.fail(`${name}: ${err.message}`));
	}
	adminToken(); // fail early, with the key path, when the key is unusable
	vars = fleetVars();
	[releaseBroker, releaseCatalog] = await acquireLocks();
	const category = (await getCategories(client(env.productUrl)))[0]?.slug;
	assert.ok(category, 'the catalog needs a category');
	products = productFactory(client(env.productUrl), { tag: 'scale', category });
	product = await products.create({ price_cents: 1200, stock: STOCK });

	for (const svc of SERVICES) {
		const port = await freePort();
		mine[svc] = { svc, port, url: `http://127.0.0.1:${port}`, addr: `127.0.0.1:${port}`, runs: [] };
	}
	await Promise.all(SERVICES.map((svc) => startReplica(svc)));
	await Promise.all(SERVICES.map((svc) => waitConsuming(svc)));
	const gwPort = await freePort();
	gateway = { port: gwPort, url: `http://127.0.0.1:${gwPort}` };
	gateway.proc = spawnDaemon('our gateway', path.join(buildDir, 'gateway', 'shop-gateway'), gatewayEnv(gwPort));
	procs.add(gateway.proc);
	await waitForDaemon(gateway.proc, gateway.url);
	gw = client(gateway.url);
	for (const svc of SERVICES) {
		await waitUpstream(svc, hostPort(FLEET_URL[svc]), 'up');
		await waitUpstream(svc, mine[svc].addr, 'up');
	}
}

after(async () => {
	const problems = [];
	try {
		for (const p of procs) {
			if (p.exited()) continue;
			const r = await stopDaemon(p, 15000);
			if (r.killed) problems.push(`${p.name} (pid ${p.pid}) did not stop on SIGTERM and was killed`);
		}
		await products?.sweep().catch((err) => console.error(`# product cleanup: ${err.message}`));
	} finally {
		releaseCatalog?.();
		releaseBroker?.();
	}
	if (problems.length) throw new Error(problems.join('; '));
});

// ---------------------------------------------------------------- the tests

describe('scale-out: two replicas of product, order and payment behind one gateway', { concurrency: false }, () => {
	let ready;
	// the first test waits for the locks too
	const it = (name, fn) => nodeIt(name, { timeout: LOCK_TIMEOUT_MS + 180000 }, async () => {
		await (ready ??= setup());
		return fn();
	});

	it('reads spread over both replicas of product and order', async () => {
		const [reader] = await shoppers('read', 1);
		const n = 100;
		const p = await spread('product', '/api/products/{id}', 'GET', n, () => gw.get(`/api/products/${product.id}`));
		assertFairShare('product', `GET /api/products/${product.id}`, p, n);
		const o = await spread('order', '/api/orders', 'GET', n, () => gw.get('/api/orders', { token: reader.token }));
		assertFairShare('order', 'GET /api/orders', o, n);
	});

	it('40 checkouts: they spread over both order replicas; both payment daemons share the queue, each order charged once', async () => {
		const list = await shoppers('share', 40);
		const logOffset = fleetPaymentLogOffset();
		// round-robin is per service: the POSTs and the GETs of an order share the turn
		const orderServed = async (url) => (await servedOf(url, '/api/orders', 'POST')) + (await servedOf(url, '/api/orders/{id}', 'GET'));
		const before = { mine: await orderServed(mine.order.url), fleet: await orderServed(env.orderUrl), post: await servedOf(mine.order.url, '/api/orders', 'POST') };
		await checkoutAll(list, { concurrency: 8 });
		const fiveXX = list.flatMap((s) => s.log.filter((l) => l.status >= 500 || l.status === 0).map((l) => `${l.rid}: ${l.status}`));
		assert.deepEqual(fiveXX, [], 'with every replica up, no request fails');
		const n = list.flatMap((s) => s.log).filter((l) => l.svc === 'order').length;
		let got;
		const cdl = Date.now() + 3000;
		do {
			got = { mine: (await orderServed(mine.order.url)) - before.mine, fleet: (await orderServed(env.orderUrl)) - before.fleet };
		} while (got.mine + got.fleet < n && Date.now() < cdl && (await sleep(100), true));
		const posts = (await servedOf(mine.order.url, '/api/orders', 'POST')) - before.post;
		console.error(`# order: ${n} requests (POST and GET) through our gateway: ours served ${got.mine} (${posts} of the ${list.length} POSTs), the fleet's counter grew by ${got.fleet}`);
		assertFairShare('order', 'POST /api/orders and GET /api/orders/{id}', got, n);
		assert.ok(posts >= 1 && posts < list.length, `both order replicas took checkouts (ours ${posts} of ${list.length})`);

		await settleAll(list, 'the 40 checkouts', { baseUrl: gateway.url, timeoutMs: SETTLE_TIMEOUT_MS, retry429: false });
		await assertPaidOnce(list, 'the 40 checkouts');
		confirmedSoFar += list.filter((s) => s.final.status === 'confirmed').reduce((n, s) => n + s.qty, 0);

		// who charged what: our replica's log, and the fleet's (its "order charged" lines since the burst)
		const ids = list.map((s) => s.order.id);
		let ours;
		let theirs;
		let fleetLog;
		const deadline = Date.now() + 5000;
		for (;;) {
			ours = ids.filter((id) => chargedIn(mine.payment.proc.output()).has(id));
			fleetLog = fleetPaymentLog(logOffset);
			const fleetSet = chargedIn(fleetLog.text);
			theirs = ids.filter((id) => fleetSet.has(id));
			if (!fleetLog.file || ours.length + theirs.length >= ids.length || Date.now() > deadline) break;
			await sleep(200);
		}
		console.error(`# payment.order-created: our payment replica charged ${ours.length} of ${ids.length} orders, ` +
			(fleetLog.file ? `the fleet's ${theirs.length} (by ${fleetLog.file})` : `the fleet's the other ${ids.length - ours.length} (it has no log here)`));
		assert.ok(ours.length >= 1, 'our payment replica charged some of the orders (competing consumers)');
		assert.ok(ids.length - ours.length >= 1, 'the fleet\'s payment daemon charged some of the orders (competing consumers)');
		if (fleetLog.file) {
			const both = ours.filter((id) => theirs.includes(id));
			assert.deepEqual(both, [], 'no order was charged by both payment daemons');
			const neither = ids.filter((id) => !ours.includes(id) && !theirs.includes(id));
			assert.deepEqual(neither, [], `every order was charged by one of the two (our replica's output, ${fleetLog.file})`);
		}
	});

	it('120 checkouts, our order, product and payment replicas killed (SIGKILL) in the middle: nothing lost, nothing twice, the dead skipped', async () => {
		const list = await shoppers('kill', 120);
		const killAt = { order: 25, product: 45, payment: 65 }; // after that many 201s
		const kills = {};
		const t0 = Date.now();
		await checkoutAll(list, {
			concurrency: 10,
			pauseMs: 150, // a burst of a few seconds: the kills land while checkouts keep coming
			on201: (n) => {
				for (const svc of SERVICES) {
					if (n !== killAt[svc]) continue;
					const proc = mine[svc].proc;
					process.kill(proc.pid, 'SIGKILL');
					kills[svc] = { at: Date.now(), done: proc.done };
				}
			},
		});
		const burstMs = Date.now() - t0;
		const endAt = Date.now();
		for (const svc of SERVICES) {
			assert.ok(kills[svc], `the ${svc} kill never fired (fewer than ${killAt[svc]} checkouts answered)`);
			const r = await kills[svc].done;
			assert.equal(r.signal, 'SIGKILL', `our ${svc} replica died of SIGKILL (it exited ${r.code ?? r.signal})`);
		}
		const all = list.flatMap((s) => s.log);
		const byStatus = {};
		for (const l of all) byStatus[`${l.svc} ${l.status}`] = (byStatus[`${l.svc} ${l.status}`] ?? 0) + 1;
		const replays = list.filter((s) => s.log.some((l) => l.step === 'post' && l.replayed)).length;
		console.error(`# burst of ${list.length} checkouts in ${burstMs} ms; kills at +${SERVICES.map((svc) => `${svc} ${kills[svc].at - t0}`).join(', ')} ms; ` +
			`answers ${JSON.stringify(byStatus)}; ${replays} POST retries answered the earlier attempt's order (Idempotent-Replayed)`);

		// the gateway skips the dead: what was sent a moment after a kill found a live replica at once
		const upstreamOf = gatewayUpstreams();
		for (const svc of SERVICES) {
			const late = all.filter((l) => l.svc === svc && l.at >= kills[svc].at + KILL_GRACE_MS);
			assert.ok(late.length >= 5, `${svc}: only ${late.length} requests were sent after the kill: the burst ended too early to tell`);
			const failed = late.filter((l) => l.status >= 500 || l.status === 0);
			assert.deepEqual(failed.map((l) => `${l.rid} +${l.at - kills[svc].at} ms: ${l.status}`), [],
				`${svc}: every request sent ${KILL_GRACE_MS} ms or more after our replica was killed answers without a 5xx`);
			const toDead = late.filter((l) => upstreamOf.get(l.rid) === mine[svc].addr);
			assert.deepEqual(toDead.map((l) => l.rid), [], `${svc}: by our gateway's access log, none of them was answered by the dead address ${mine[svc].addr}`);
			const logged = late.filter((l) => upstreamOf.has(l.rid)).length;
			assert.equal(logged, late.length, `${svc}: our gateway logged every request it served (LOG_LEVEL=info)`);
			const states = await upstreamStates();
			assert.equal(states[`${svc} ${mine[svc].addr}`], 'down', `our gateway's /ready says ${svc} ${mine[svc].addr} is down: ${JSON.stringify(states)}`);
		}
		const downLines = gateway.proc.output().split('\n').filter((l) => l.includes('"msg":"upstream is down"'));
		for (const svc of SERVICES) {
			const mineDown = downLines.filter((l) => l.includes(`"address":"${mine[svc].addr}"`));
			assert.ok(mineDown.length >= 1, `our gateway logged that ${svc} ${mine[svc].addr} went down:\n${downLines.join('\n')}`);
			console.error(`# our gateway: ${svc} ${mine[svc].addr} down: ${mineDown.map((l) => JSON.parse(l).reason).join('; ')}`);
		}

		// back on the same ports: the prober finds them up and they serve again
		await Promise.all(SERVICES.map((svc) => startReplica(svc)));
		const upMs = {};
		for (const svc of SERVICES) upMs[svc] = await waitUpstream(svc, mine[svc].addr, 'up');
		console.error(`# restarted ${Date.now() - endAt} ms after the burst; /ready said up after ${JSON.stringify(upMs)} ms`);
		await Promise.all(SERVICES.map((svc) => waitConsuming(svc)));
		const n = 40;
		assertFairShare('product', 'after the restart', await spread('product', '/api/products/{id}', 'GET', n, () => gw.get(`/api/products/${product.id}`)), n);
		assertFairShare('order', 'after the restart', await spread('order', '/api/orders/{id}', 'GET', n, (k) => gw.get(`/api/orders/${list[k].order.id}`, { token: list[k].token })), n);
		assertFairShare('payment', 'after the restart', await spread('payment', '/api/payments', 'GET', n, (k) => gw.get(`/api/payments?order_id=${list[k].order.id}`, { token: list[k].token })), n);

		// every 201 settles, once
		await settleAll(list, 'the 120 checkouts', { baseUrl: gateway.url, timeoutMs: SETTLE_TIMEOUT_MS, retry429: false });
		const twice = [];
		await pool(list, 8, async (s) => {
			const res = await tryRequest('GET', `${gateway.url}/api/orders`, { token: s.token });
			const ids = (res.body?.items ?? []).map((o) => o.id);
			if (res.status !== 200 || res.body?.total !== 1 || ids[0] !== s.order.id) twice.push(`user ${s.id} (key ${s.key}, 201 for ${s.order.id}): ${res.status} total ${res.body?.total} ${JSON.stringify(ids)}`);
		});
		assert.deepEqual(twice, [], 'each user (one Idempotency-Key) has exactly one order: the one its 201 named');
		await assertPaidOnce(list, 'the 120 checkouts');

		// one mail each (order.confirmed / order.failed left the order outbox)
		const kindOf = (s) => (s.final.status === 'confirmed' ? 'order_confirmed' : 'order_failed');
		let mailProblems;
		const mdl = Date.now() + 30000;
		for (;;) {
			mailProblems = [];
			await pool(list, 8, async (s) => {
				const res = await tryRequest('GET', `${gateway.url}/api/emails?order_id=${s.order.id}`, { token: s.token });
				const mails = (res.body?.items ?? []).filter((m) => m.order_id === s.order.id);
				if (res.status !== 200 || mails.length !== 1 || mails[0].kind !== kindOf(s)) mailProblems.push(`${s.order.id} (${s.final.status}): ${res.status} ${JSON.stringify(mails.map((m) => m.kind))}`);
			});
			if (mailProblems.length === 0 || Date.now() > mdl) break;
			await sleep(500);
		}
		assert.deepEqual(mailProblems, [], `exactly one ${'order_confirmed / order_failed'} mail per order`);

		// the stock: initial - confirmed; checkouts killed between reserving and committing hold theirs until expiry
		confirmedSoFar += list.filter((s) => s.final.status === 'confirmed').reduce((k, s) => k + s.qty, 0);
		const want = STOCK - confirmedSoFar;
		const leak = list.filter((s) => s.log.some((l) => l.step === 'post' && l.status >= 500)).reduce((k, s) => k + s.qty, 0);
		const sdl = Date.now() + 20000;
		let stock;
		for (;;) {
			stock = await stockOf();
			if (stock === want) break;
			if (Date.now() > sdl - 15000 && stock < want && stock >= want - leak) break;
			assert.ok(Date.now() < sdl, `the stock of our product is ${stock}; initial ${STOCK} - confirmed ${confirmedSoFar} = ${want}` + (leak ? ` (up to ${leak} may be held by POSTs that got a 5xx)` : ''));
			await sleep(300);
		}
		console.error(`# stock ${STOCK} -> ${stock} (confirmed ${confirmedSoFar}${stock !== want ? `, ${want - stock} held by killed checkouts until their hold expires` : ''})`);

		// the outboxes drain (all four relays read the same two tables)
		const relays = { 'fleet order': env.orderUrl, 'our order': mine.order.url, 'fleet payment': env.paymentUrl, 'our payment': mine.payment.url };
		const odl = Date.now() + 30000;
		let left;
		for (;;) {
			left = [];
			for (const [name, url] of Object.entries(relays)) {
				const v = metricValue(await metricsOf(url), 'outbox_backlog');
				if (v !== 0) left.push(`${name} outbox_backlog ${v}`);
			}
			if (left.length === 0) break;
			assert.ok(Date.now() < odl, `the outboxes did not drain within 30 s: ${left.join(', ')}`);
			await sleep(300);
		}
	});

	it('our replicas and gateway stop on SIGTERM with exit 0, without sanitizer reports', async () => {
		const problems = [];
		for (const p of [gateway.proc, ...SERVICES.map((svc) => mine[svc].proc)]) {
			const r = await stopDaemon(p);
			if (r.killed) problems.push(`${p.name} did not stop within 20 s of SIGTERM and was killed`);
			else if (r.code !== 0) problems.push(`${p.name} exited ${r.code ?? r.signal} on SIGTERM:\n${r.out.slice(-1500)}`);
		}
		for (const p of procs) {
			if (SANITIZER_RE.test(p.output())) problems.push(`${p.name} reported:\n${p.output().split('\n').filter((l) => SANITIZER_RE.test(l)).slice(0, 5).join('\n')}`);
		}
		assert.deepEqual(problems, [], problems.join('\n'));
	});
});
