// Cart helpers shared by cart.test.mjs and cart-resilience.test.mjs: the
// Cart shape (and its arithmetic), shoppers with minted tokens, the cart
// routes as one-liners, throw-away products (created, changed and deleted
// by an admin token, swept at the end), the internal service token,
// Prometheus samples, and spawning a daemon of our own on a free port.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { env, repoRoot } from './env.mjs';
import { assertJson, request, show } from './http.mjs';
import { adminToken, mintToken } from './jwt.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const RFC3339_UTC_SECONDS = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$/;
export const CART_KEYS = ['items', 'item_count', 'total_cents', 'currency', 'updated_at', 'prices'];
export const LINE_KEYS = ['product_id', 'sku', 'name', 'unit_price_cents', 'added_price_cents', 'quantity', 'line_total_cents', 'available'];
/** Most of one product a cart holds, and most distinct products. */
export const MAX_QUANTITY = 99;
export const MAX_LINES = 100;
/** The cart of a user who never had one. */
export const EMPTY_CART = Object.freeze({ items: [], item_count: 0, total_cents: 0, currency: 'USD', updated_at: null, prices: 'current' });
/** A well-formed UUID no product or user has. */
export const unknownId = () => crypto.randomUUID();

// ---------------------------------------------------------------- shoppers

/**
 * A fresh shopper: a random user id and a token minted for it (the cart
 * only needs a valid token whose sub is a UUID). `role` defaults to customer.
 */
export function shopper(role = 'customer') {
	const id = crypto.randomUUID();
	return { id, token: mintToken({ sub: id, role }) };
}

/** The fleet's internal service token (first line of the token file). */
export function internalToken() {
	let text;
	try {
		text = fs.readFileSync(env.internalTokenPath, 'utf8');
	} catch (err) {
		throw new Error(`cannot read the internal token file '${env.internalTokenPath}' (${err.code ?? err.message}); set SHOP_INTERNAL_TOKEN_FILE`);
	}
	const token = text.split('\n')[0].trim();
	assert.ok(token.length >= 16, `the internal token in ${env.internalTokenPath} is too short`);
	return token;
}

// ---------------------------------------------------------------- the routes

/** The cart routes on one client (gateway or the daemon directly). Each returns the raw answer. */
export function cartApi(http) {
	return {
		http,
		get: (token, opts = {}) => http.get('/api/cart', { ...opts, token }),
		add: (token, productId, quantity, opts = {}) => http.post('/api/cart/items', { product_id: productId, quantity }, { ...opts, token }),
		addJson: (token, json, opts = {}) => http.post('/api/cart/items', json, { ...opts, token }),
		set: (token, productId, quantity, opts = {}) => http.put(`/api/cart/items/${productId}`, { quantity }, { ...opts, token }),
		remove: (token, productId, opts = {}) => http.delete(`/api/cart/items/${productId}`, { ...opts, token }),
		clear: (token, opts = {}) => http.delete('/api/cart', { ...opts, token }),
		internal: (userId, opts = {}) => http.get(`/internal/carts/${userId}`, { ...opts, headers: { 'x-internal-token': internalToken(), ...(opts.headers ?? {}) } }),
	};
}

// ---------------------------------------------------------------- the Cart shape

/**
 * Asserts `cart` is exactly a Cart: its keys and its lines' keys, types and
 * ranges, and its arithmetic (line_total = unit x quantity for an available
 * line, else 0; item_count and total_cents over the available lines only).
 * `prices` pins "current" / "stored"; with "stored" every line shows its
 * snapshot price. Returns cart.
 */
export function assertCart(cart, { prices, where = 'cart' } = {}) {
	const j = JSON.stringify(cart);
	assert.ok(cart && typeof cart === 'object' && !Array.isArray(cart), `${where} must be a JSON object: ${j}`);
	assert.deepEqual(Object.keys(cart).sort(), [...CART_KEYS].sort(), `${where} must have exactly the fields ${CART_KEYS.join(', ')}: ${j}`);
	assert.ok(Array.isArray(cart.items), `${where}.items must be a list: ${j}`);
	assert.ok(cart.items.length <= MAX_LINES, `${where} holds more than ${MAX_LINES} lines: ${j}`);
	let count = 0;
	let total = 0;
	const ids = new Set();
	cart.items.forEach((l, i) => {
		const at = `${where}.items[${i}]`;
		const lj = JSON.stringify(l);
		assert.ok(l && typeof l === 'object' && !Array.isArray(l), `${at} must be an object: ${lj}`);
		assert.deepEqual(Object.keys(l).sort(), [...LINE_KEYS].sort(), `${at} must have exactly the fields ${LINE_KEYS.join(', ')}: ${lj}`);
		assert.match(String(l.product_id), UUID_RE, `${at}.product_id must be a lower-case UUID: ${lj}`);
		assert.ok(!ids.has(l.product_id), `${where} lists product ${l.product_id} twice (lines must merge): ${j}`);
		ids.add(l.product_id);
		assert.ok(typeof l.sku === 'string' && l.sku.length > 0, `${at}.sku must be a non-empty string: ${lj}`);
		assert.ok(typeof l.name === 'string' && l.name.length > 0, `${at}.name must be a non-empty string: ${lj}`);
		for (const k of ['unit_price_cents', 'added_price_cents', 'line_total_cents']) {
			assert.ok(Number.isSafeInteger(l[k]) && l[k] >= 0, `${at}.${k} must be a non-negative integer (cents): ${lj}`);
		}
		assert.ok(Number.isInteger(l.quantity) && l.quantity >= 1 && l.quantity <= MAX_QUANTITY, `${at}.quantity must be an integer 1-${MAX_QUANTITY}: ${lj}`);
		assert.equal(typeof l.available, 'boolean', `${at}.available must be true or false: ${lj}`);
		assert.equal(l.line_total_cents, l.available ? l.unit_price_cents * l.quantity : 0,
			`${at}.line_total_cents must be unit_price_cents x quantity (0 for an unavailable line): ${lj}`);
		if (l.available) {
			count += l.quantity;
			total += l.line_total_cents;
		}
		if (prices === 'stored') {
			assert.equal(l.unit_price_cents, l.added_price_cents, `${at}: with "prices": "stored" a line shows its stored price: ${lj}`);
		}
	});
	assert.equal(cart.item_count, count, `${where}.item_count must be the sum of the available lines' quantities (${count}): ${j}`);
	assert.equal(cart.total_cents, total, `${where}.total_cents must be the sum of the available lines' totals (${total}): ${j}`);
	assert.ok(typeof cart.currency === 'string' && /^[A-Z]{3}$/.test(cart.currency), `${where}.currency must be three capital letters: ${j}`);
	if (cart.updated_at !== null) {
		assert.ok(typeof cart.updated_at === 'string' && RFC3339_UTC_SECONDS.test(cart.updated_at) && !Number.isNaN(Date.parse(cart.updated_at)),
			`${where}.updated_at must be null or RFC 3339 UTC with second precision: ${j}`);
		assert.ok(Math.abs(Date.parse(cart.updated_at) - Date.now()) < 10 * 60 * 1000, `${where}.updated_at must be about now: ${j}`);
	}
	if (cart.items.length > 0) assert.notEqual(cart.updated_at, null, `${where}: a cart with lines must say when it was updated: ${j}`);
	assert.ok(cart.prices === 'current' || cart.prices === 'stored', `${where}.prices must be "current" or "stored": ${j}`);
	if (prices !== undefined) assert.equal(cart.prices, prices, `${where}.prices must be "${prices}": ${j}`);
	return cart;
}

/**
 * Asserts a cart answer: `status` (200), application/json, Cache-Control:
 * no-store, and the Cart shape (assertCart options). Returns the cart.
 */
export function assertCartAnswer(res, what = 'cart answer', opts = {}) {
	const body = assertJson(res, opts.status ?? 200, what);
	const cc = (res.headers.get('cache-control') ?? '').toLowerCase();
	assert.ok(cc.split(',').map((s) => s.trim()).includes('no-store'), `${what}: a cart answer must carry Cache-Control: no-store\n${show(res)}`);
	return assertCart(body, { ...opts, where: what });
}

/** The line of `productId` in `cart`, or undefined. */
export const lineOf = (cart, productId) => cart.items.find((l) => l.product_id === productId);

/** The cart's lines as "id:quantity" strings, in order (for compact comparisons). */
export const linesOf = (cart) => cart.items.map((l) => `${l.product_id}:${l.quantity}`);

// ---------------------------------------------------------------- products

/**
 * Throw-away products for one test file, written with admin tokens on
 * `http` (the gateway or the product daemon): sku `ITEST-<run>-<tag>-<n>`,
 * name `Itest <tag> <word> <n>`. Everything created is deleted by
 * sweep(). The catalog tests compare totals across requests: hold the
 * catalog lock (lib/catalog.mjs) while such products exist.
 */
export function productFactory(http, { tag = 'cart', category } = {}) {
	const runId = crypto.randomBytes(3).toString('hex');
	const word = () => Array.from(crypto.randomBytes(8), (b) => String.fromCharCode(97 + (b % 26))).join('');
	let seq = 0;
	const created = new Set();
	return {
		created,
		async create(over = {}) {
			assert.ok(category || over.category, 'productFactory needs a category slug');
			const n = ++seq;
			const body = {
				sku: `ITEST-${runId}-${tag}-${n}`,
				name: `Itest ${tag} ${word()} ${n}`,
				description: 'A throwaway product created by the cart integration tests.',
				category,
				price_cents: 1000,
				stock: 50,
				...over,
			};
			const res = await http.post('/api/products', body, { token: adminToken() });
			const p = assertJson(res, 201, `POST /api/products (setup: ${body.sku})`);
			created.add(p.id);
			return p;
		},
		async patch(id, change) {
			return assertJson(await http.patch(`/api/products/${id}`, change, { token: adminToken() }), 200, `PATCH /api/products/${id} ${JSON.stringify(change)}`);
		},
		async remove(id) {
			const res = await http.delete(`/api/products/${id}`, { token: adminToken() });
			assert.ok(res.status === 204 || res.status === 404, `DELETE /api/products/${id} must answer 204\n${show(res)}`);
			created.delete(id);
		},
		async sweep() {
			const ids = [...created];
			for (let i = 0; i < ids.length; i += 20) {
				await Promise.all(ids.slice(i, i + 20).map(async (id) => {
					const res = await http.delete(`/api/products/${id}`, { token: adminToken() }).catch((err) => ({ status: 0, text: err.message }));
					if (res.status !== 204 && res.status !== 404) console.error(`# cleanup of product ${id} failed: ${res.status} ${res.text}`);
					created.delete(id);
				}));
			}
		},
	};
}

// ---------------------------------------------------------------- metrics

/**
 * The value of the Prometheus sample `name` whose labels include `labels`
 * (e.g. {upstream: 'product'}), or undefined. With several matches, their
 * sum. Label values may hold braces (route="/api/orders/{id}").
 */
export function metricValue(text, name, labels = {}) {
	let found;
	for (const line of text.split('\n')) {
		if (!line.startsWith(name) || line.startsWith('#')) continue;
		const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\})?\s+(\S+)/.exec(line);
		if (!m || m[1] !== name) continue;
		const have = {};
		for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have[pair[1]] = pair[2];
		if (Object.entries(labels).every(([k, v]) => have[k] === v)) found = (found ?? 0) + Number(m[4]);
	}
	return found;
}

// ---------------------------------------------------------------- own daemons

export const buildDir = (process.env.SHOP_BUILD_DIR ?? '').trim() || path.join(repoRoot, 'build');

/** A free TCP port on 127.0.0.1 (closed again at once). */
export function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
		s.on('error', reject);
	});
}

/**
 * Spawns a daemon binary with exactly `envVars`. Returns { name, child,
 * pid, done (resolves {code, signal, out, ms} at exit), exited(),
 * output() }.
 */
export function spawnDaemon(name, binary, envVars) {
	assert.ok(fs.existsSync(binary), `no ${name} binary at ${binary} (build it, or set SHOP_BUILD_DIR)`);
	const started = Date.now();
	const child = spawn(binary, [], { env: envVars, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	let exit;
	child.stdout.on('data', (c) => { out += c.toString(); });
	child.stderr.on('data', (c) => { out += c.toString(); });
	const done = new Promise((resolve) => {
		child.on('exit', (code, signal) => {
			exit = { code, signal, out, ms: Date.now() - started };
			// the pipes may still hold the last lines
			setImmediate(() => resolve({ ...exit, out }));
		});
	});
	return { name, child, pid: child.pid, done, exited: () => exit !== undefined, output: () => out };
}

/** Waits until `${base}/health` answers 200; fails with the daemon's output if it exits or takes longer than `ms`. */
export async function waitForDaemon(proc, base, ms = 30000) {
	const deadline = Date.now() + ms;
	for (;;) {
		assert.ok(!proc.exited(), `${proc.name} exited before it answered /health:\n${proc.output().slice(-3000)}`);
		try {
			const r = await request('GET', `${base}/health`, { timeoutMs: 1000, retry429: false });
			if (r.status === 200) return;
		} catch {
			/* not listening yet */
		}
		assert.ok(Date.now() < deadline, `${proc.name} did not answer ${base}/health within ${ms} ms:\n${proc.output().slice(-3000)}`);
		await sleep(50);
	}
}

/**
 * Stops a daemon: SIGCONT (in case it was stopped), SIGTERM, waits up to
 * `ms`, then SIGKILL. Resolves { code, signal, out, ms, killed }.
 */
export async function stopDaemon(proc, ms = 20000) {
	if (!proc) return undefined;
	if (!proc.exited()) {
		try {
			process.kill(proc.pid, 'SIGCONT');
			process.kill(proc.pid, 'SIGTERM');
		} catch {
			/* already gone */
		}
	}
	let timer;
	const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); });
	const r = await Promise.race([proc.done, timeout]);
	clearTimeout(timer);
	if (r !== 'timeout') return { ...r, killed: false };
	try {
		process.kill(proc.pid, 'SIGKILL');
	} catch {
		/* gone meanwhile */
	}
	return { ...(await proc.done), killed: true };
}

/** Sanitizer reports in a daemon's output. */
export const SANITIZER_RE = /ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:/;
