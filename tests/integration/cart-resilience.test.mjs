// The cart when the product service fails (docs/architecture "Calls
// between daemons"): with a product daemon and a cart daemon of our own
// (free ports, the fleet's databases and Redis), the product daemon is
// stalled (SIGSTOP), then stopped (SIGTERM), then started again on the same
// port, and the cart daemon, called directly with a minted token:
//   - answers an add with a 503 problem+json within its client timeout
//     while the product daemon hangs, and changes nothing;
//   - once its circuit breaker is open, answers adds with 503 at once,
//     shows the breaker in /metrics (2) and /ready (still 200, "open");
//   - still shows the cart from its stored snapshots ("prices": "stored")
//     and still removes lines;
//   - recovers by itself within seconds of the product daemon's return.
// Both daemons must stop on SIGTERM with exit 0.
//
// Only seeded products are read (never written). The file holds the catalog
// lock: daemon.test.mjs pauses Redis under it, and a paused Redis would
// distort the timings measured here.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { env, repoRoot } from './lib/env.mjs';
import { client, show, assertJson, assertProblem, assertStatus, once, itAfter } from './lib/http.mjs';
import { acquireCatalogLock } from './lib/catalog.mjs';
import {
	SANITIZER_RE, assertCartAnswer, buildDir, cartApi, freePort, lineOf, linesOf, metricValue, shopper, spawnDaemon, stopDaemon, waitForDaemon,
} from './lib/cart.mjs';

const productBinary = path.join(buildDir, 'services', 'product', 'shop-product');
const cartBinary = path.join(buildDir, 'services', 'cart', 'shop-cart');
/** The cart's settings for its product client (what the timings below rely on). */
const CLIENT_TIMEOUT_MS = 500;
const BREAKER_FAILURES = 3;
const BREAKER_OPEN_MS = 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function need(...names) {
	for (const n of names) assert.ok((process.env[n] ?? '').trim(), `${n} must be set (scripts/test-all.sh and .state/dev/fleet.env set it)`);
}

const sanitizerEnv = () => ({ ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? '' });

function productEnv(port) {
	need('SHOP_PRODUCT_DATABASE_URL', 'SHOP_REDIS_URL');
	return {
		PATH: process.env.PATH,
		HTTP_ADDRESS: '127.0.0.1',
		HTTP_PORT: String(port),
		DATABASE_URL: process.env.SHOP_PRODUCT_DATABASE_URL,
		REDIS_URL: process.env.SHOP_REDIS_URL,
		// Serves the API only: no consumer to compete with the fleet's
		// (a stopped test daemon would sit on the fleet's events).
		CONSUMERS: '0',
		MIGRATIONS_DIR: path.join(repoRoot, 'services', 'product', 'migrations'),
		JWT_PUBLIC_KEY_FILE: env.jwtPublicKeyPath,
		JWT_ISSUER: env.jwtIssuer,
		JWT_AUDIENCE: env.jwtAudience,
		INTERNAL_TOKEN_FILE: env.internalTokenPath,
		...sanitizerEnv(),
	};
}

function cartEnv(port, productPort) {
	need('SHOP_CART_DATABASE_URL', 'SHOP_REDIS_URL');
	return {
		PATH: process.env.PATH,
		HTTP_ADDRESS: '127.0.0.1',
		HTTP_PORT: String(port),
		DATABASE_URL: process.env.SHOP_CART_DATABASE_URL,
		MIGRATIONS_DIR: path.join(repoRoot, 'services', 'cart', 'migrations'),
		REDIS_URL: process.env.SHOP_REDIS_URL,
		// Serves the API only: no consumer to compete with the fleet's
		// (a stopped test daemon would sit on the fleet's events).
		CONSUMERS: '0',
		JWT_PUBLIC_KEY_FILE: env.jwtPublicKeyPath,
		JWT_ISSUER: env.jwtIssuer,
		JWT_AUDIENCE: env.jwtAudience,
		INTERNAL_TOKEN_FILE: env.internalTokenPath,
		PRODUCT_URL: `http://127.0.0.1:${productPort}`,
		PRODUCT_TIMEOUT_MS: String(CLIENT_TIMEOUT_MS),
		PRODUCT_CONNECT_TIMEOUT_MS: '200',
		PRODUCT_BREAKER_FAILURES: String(BREAKER_FAILURES),
		PRODUCT_BREAKER_OPEN_MS: String(BREAKER_OPEN_MS),
		...sanitizerEnv(),
	};
}

let release;
let productPort;
let product; // the running product daemon (a spawnDaemon handle), or undefined
let productRuns = []; // every product daemon started, for the exit checks
let cart;
let cartBase;
let http;
let api;
let seeded; // three seeded products with stock to spare

async function startProduct() {
	const proc = spawnDaemon('product daemon', productBinary, productEnv(productPort));
	productRuns.push(proc);
	await waitForDaemon(proc, `http://127.0.0.1:${productPort}`);
	product = proc;
	return proc;
}

const setup = once(async () => {
	assert.ok(env.jwtPublicKeyPath, 'SHOP_JWT_PUBLIC_KEY must name the public key file the daemons read');
	release = await acquireCatalogLock();
	productPort = await freePort();
	await startProduct();
	const cartPort = await freePort();
	cartBase = `http://127.0.0.1:${cartPort}`;
	cart = spawnDaemon('cart daemon', cartBinary, cartEnv(cartPort, productPort));
	await waitForDaemon(cart, cartBase);
	http = client(cartBase);
	api = cartApi(http);
	const list = assertJson(await client(`http://127.0.0.1:${productPort}`).get('/api/products?page_size=100'), 200, 'the seeded catalog');
	seeded = list.items.filter((p) => p.stock >= 10 && p.currency === 'USD').slice(0, 4);
	assert.equal(seeded.length, 4, 'need four seeded USD products with 10+ in stock');
});
const it = itAfter(setup, nodeIt);

after(async () => {
	const problems = [];
	try {
		for (const proc of [cart, ...productRuns]) {
			if (!proc || proc.exited()) continue;
			const r = await stopDaemon(proc);
			if (r.killed) problems.push(`${proc.name} (pid ${proc.pid}) did not stop on SIGTERM and was killed`);
			else if (r.code !== 0) problems.push(`${proc.name} (pid ${proc.pid}) exited ${r.code ?? r.signal} on SIGTERM`);
		}
	} finally {
		release?.();
	}
	if (problems.length) throw new Error(problems.join('; '));
});

/** The cart daemon's /metrics text. */
async function metrics() {
	const res = await http.get('/metrics');
	assertStatus(res, 200, '/metrics');
	return res.text;
}
const breakerState = async () => metricValue(await metrics(), 'http_client_breaker_state', { upstream: 'product' });

/** The cart daemon's /ready answer (asserts 200: the product service never makes the cart unready). */
async function ready(what) {
	const res = await http.get('/ready');
	const body = assertJson(res, 200, `/ready ${what}`);
	assert.equal(body.checks?.database, 'ok', `/ready ${what}: database\n${show(res)}`);
	assert.equal(body.checks?.redis, 'ok', `/ready ${what}: redis\n${show(res)}`);
	return body;
}

/** Sends an add and measures it: { res, ms }. */
async function timedAdd(user, productId, quantity, opts) {
	const t0 = performance.now();
	const res = await api.add(user.token, productId, quantity, opts);
	return { res, ms: performance.now() - t0 };
}

/** An add refused because the product service is unavailable: 503 problem+json with Retry-After. */
function assertUnavailable(res, what) {
	const p = assertProblem(res, 503, { what });
	assert.match(p.detail, /product service/i, `${what}: the detail says what is missing\n${show(res)}`);
	const ra = res.headers.get('retry-after');
	assert.ok(ra && /^\d+$/.test(ra), `${what}: a 503 carries Retry-After in seconds\n${show(res)}`);
	return p;
}

describe('the cart while the product service stalls, stops and returns', () => {
	const u = shopper();
	let before; // u's cart while everything is up

	it('with the product service up: adds answer the current prices; the circuit is closed', async () => {
		const [a, b, c] = seeded;
		const rid = `itest-cart-res-${crypto.randomBytes(6).toString('hex')}`;
		let cart = assertCartAnswer(await api.add(u.token, a.id, 2, { headers: { 'x-request-id': rid } }), 'add a', { prices: 'current' });
		assert.deepEqual(lineOf(cart, a.id), {
			product_id: a.id, sku: a.sku, name: a.name, unit_price_cents: a.price_cents, added_price_cents: a.price_cents,
			quantity: 2, line_total_cents: 2 * a.price_cents, available: true,
		});
		assertCartAnswer(await api.add(u.token, b.id, 1), 'add b', { prices: 'current' });
		cart = assertCartAnswer(await api.add(u.token, c.id, 1), 'add c', { prices: 'current' });
		assert.deepEqual(linesOf(cart), [`${a.id}:2`, `${b.id}:1`, `${c.id}:1`]);
		before = assertCartAnswer(await api.get(u.token), 'GET', { prices: 'current' });
		assert.equal(await breakerState(), 0, 'breaker closed');
		assert.equal((await ready('with the product service up')).checks.product_circuit, 'closed');
		// The request id goes on to the product service's lookup.
		const deadline = Date.now() + 5000;
		while (!product.output().includes(rid) && Date.now() < deadline) await sleep(50);
		const line = product.output().split('\n').find((l) => l.includes(rid));
		assert.ok(line && line.includes('/internal/products'), `the product daemon's log must show the lookup with X-Request-ID ${rid}`);
	});

	it('product service stalled (SIGSTOP): an add is a 503 problem within the client timeout and changes nothing', async () => {
		process.kill(product.pid, 'SIGSTOP');
		try {
			const { res, ms } = await timedAdd(u, seeded[3].id, 1);
			assertUnavailable(res, 'add while the product daemon is stalled');
			assert.ok(ms < 1500, `the add took ${Math.round(ms)} ms with the product daemon stalled: it must give up after ~${CLIENT_TIMEOUT_MS} ms`);
			const { res: res2, ms: ms2 } = await timedAdd(u, seeded[0].id, 1);
			assertUnavailable(res2, 'a merge while the product daemon is stalled');
			assert.ok(ms2 < 1500, `the second add took ${Math.round(ms2)} ms`);
			// A read does not need the product service: the stored lines, within the timeout too.
			const t0 = performance.now();
			const cart = assertCartAnswer(await api.get(u.token), 'GET while the product daemon is stalled', { prices: 'stored' });
			const ms3 = performance.now() - t0;
			assert.ok(ms3 < 1500, `the read took ${Math.round(ms3)} ms with the product daemon stalled`);
			assert.deepEqual(cart.items, before.items, 'the stored lines, as the shopper saw them');
		} finally {
			process.kill(product.pid, 'SIGCONT');
		}
		const cart = assertCartAnswer(await api.get(u.token), 'GET after the stalled adds');
		assert.deepEqual(linesOf(cart), linesOf(before), 'the refused adds changed nothing');
	});

	it('product service stopped: once the breaker opens adds are 503 at once; /metrics says 2, /ready stays 200 "open"', async () => {
		const stopped = await stopDaemon(product);
		product = undefined;
		assert.equal(stopped.killed, false, `the product daemon needed SIGKILL:\n${stopped.out.slice(-2000)}`);
		assert.equal(stopped.code, 0, `the product daemon exited ${stopped.code ?? stopped.signal} on SIGTERM:\n${stopped.out.slice(-2000)}`);

		// Calls fail (connection refused) until the breaker opens.
		const deadline = Date.now() + 10000;
		for (let n = 1; ; n++) {
			assertUnavailable((await timedAdd(u, seeded[3].id, 1)).res, `add ${n} with the product daemon down`);
			if ((await breakerState()) === 2) break;
			assert.ok(Date.now() < deadline, `the breaker did not open within 10 s of failed calls (${n} adds; PRODUCT_BREAKER_FAILURES=${BREAKER_FAILURES})`);
		}
		const times = [];
		for (let i = 0; i < 5; i++) {
			const { res, ms } = await timedAdd(u, seeded[3].id, 1);
			assertUnavailable(res, `add ${i + 1} with the breaker open`);
			times.push(Math.round(ms));
		}
		assert.ok(times.every((ms) => ms < 100), `with the breaker open an add fails fast (< 100 ms each); took ${times.join(', ')} ms`);
		const text = await metrics();
		assert.equal(metricValue(text, 'http_client_breaker_state', { upstream: 'product' }), 2, 'http_client_breaker_state{upstream="product"} is 2 (open)');
		const failed = text.split('\n').filter((l) => l.startsWith('http_client_requests_total{') && l.includes('upstream="product"') && !l.includes('result="2xx"'));
		assert.ok(failed.some((l) => Number(l.split(/\s+/).pop()) > 0), `http_client_requests_total{upstream="product"} counts the failed calls by result:\n${failed.join('\n')}`);
		assert.equal((await ready('with the breaker open')).checks.product_circuit, 'open', '/ready reports the open circuit (and stays 200)');
	});

	it('product service down: the cart shows its stored lines ("prices": "stored"); removing lines still works, changing them does not', async () => {
		const [a, b, c] = seeded;
		let cart = assertCartAnswer(await api.get(u.token), 'GET with the product service down', { prices: 'stored' });
		assert.deepEqual(cart.items, before.items, 'the stored snapshots are what the shopper saw (nothing changed meanwhile)');
		assert.deepEqual([cart.item_count, cart.total_cents, cart.currency, cart.updated_at], [before.item_count, before.total_cents, before.currency, before.updated_at]);
		const internal = assertCartAnswer(await api.internal(u.id), 'GET /internal/carts with the product service down', { prices: 'stored' });
		assert.deepEqual(internal, cart);

		assertUnavailable((await api.set(u.token, a.id, 3)), 'PUT 3 with the product service down');
		cart = assertCartAnswer(await api.remove(u.token, b.id), 'DELETE a line with the product service down', { prices: 'stored' });
		assert.deepEqual(linesOf(cart), [`${a.id}:2`, `${c.id}:1`]);
		cart = assertCartAnswer(await api.set(u.token, c.id, 0), 'PUT 0 with the product service down', { prices: 'stored' });
		assert.deepEqual(linesOf(cart), [`${a.id}:2`]);
		assert.deepEqual(lineOf(cart, a.id), lineOf(before, a.id));
		const other = shopper();
		assertStatus(await api.clear(other.token), 204, 'DELETE /api/cart with the product service down');
		assertUnavailable((await api.add(other.token, a.id, 1)), 'a first add with the product service down');
		cart = assertCartAnswer(await api.get(other.token), 'an empty cart with the product service down');
		assert.deepEqual(cart.items, []);
	});

	it('product service back on the same port: an add succeeds within seconds, prices are current, the breaker closes', async () => {
		const [a, , , d] = seeded;
		await startProduct();
		const deadline = Date.now() + 10000;
		let res;
		for (;;) {
			res = await api.add(u.token, d.id, 1);
			if (res.status === 200) break;
			assertUnavailable(res, 'an add while the breaker is still open');
			assert.ok(Date.now() < deadline, `no add succeeded within 10 s of the product daemon's return (breaker open ${BREAKER_OPEN_MS} ms)\n${show(res)}`);
			await sleep(100);
		}
		let cart = assertCartAnswer(res, 'the first add after the return', { prices: 'current' });
		assert.deepEqual(linesOf(cart), [`${a.id}:2`, `${d.id}:1`]);
		cart = assertCartAnswer(await api.add(u.token, a.id, 1), 'a merge after the return', { prices: 'current' });
		assert.deepEqual(linesOf(cart), [`${a.id}:3`, `${d.id}:1`]);
		assertCartAnswer(await api.get(u.token), 'GET after the return', { prices: 'current' });
		assert.equal(await breakerState(), 0, 'http_client_breaker_state{upstream="product"} is back to 0');
		assert.equal((await ready('after the return')).checks.product_circuit, 'closed');
	});

	it('both daemons stop on SIGTERM with exit 0, without sanitizer reports', async () => {
		const problems = [];
		for (const proc of [cart, product]) {
			if (!proc) continue;
			const r = await stopDaemon(proc);
			if (r.killed) problems.push(`${proc.name} did not stop within 20 s of SIGTERM and was killed`);
			else if (r.code !== 0) problems.push(`${proc.name} exited ${r.code ?? r.signal} on SIGTERM`);
		}
		for (const proc of [cart, ...productRuns]) {
			if (proc && SANITIZER_RE.test(proc.output())) problems.push(`${proc.name} reported:\n${proc.output().split('\n').filter((l) => SANITIZER_RE.test(l)).slice(0, 5).join('\n')}`);
		}
		product = undefined;
		assert.deepEqual(problems, [], problems.join('\n'));
		assert.match(cart.output(), /"msg":"stopped"/, 'the cart daemon logs that it stopped');
	});
});
