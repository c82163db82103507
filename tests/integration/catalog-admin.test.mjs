// Catalog writes through the gateway: create, patch, delete; the admin
// guard (401 / 403, forged tokens); strict body validation with
// problem+json answers and never a half-written row; reads never stale
// after a write (the product service caches product documents in Redis).
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { env } from './lib/env.mjs';
import { client, qs, show, assertJson, assertProblem, assertStatus, waitForHealthy, once, itAfter } from './lib/http.mjs';
import { acquireCatalogLock, assertProduct, getCategories, listAll } from './lib/catalog.mjs';
import { adminToken, customerToken, badTokenMakers } from './lib/jwt.mjs';

const gw = client(env.gatewayUrl);
const direct = client(env.productUrl);

const runId = crypto.randomBytes(3).toString('hex');
let seq = 0;
/** A sku unique to this run: ITEST-<run>-<tag>-<n>. */
const newSku = (tag = 'p') => `ITEST-${runId}-${tag}-${++seq}`;
/** A random lower-case word, to find a product by search. */
const randomWord = (n = 10) => Array.from(crypto.randomBytes(n), (b) => String.fromCharCode(97 + (b % 26))).join('');
/** A fresh admin token per call (distinct sub and jti: per-user rate limits stay out of the way). */
const admin = () => adminToken();

let release;
let catA; // two existing category slugs
let catB;
const created = new Set();

function validBody(over = {}) {
	return {
		sku: newSku(),
		name: `Itest ${randomWord()} Gadget`,
		description: 'A throwaway product created by the shop integration tests.',
		category: catA,
		price_cents: 1999,
		stock: 7,
		...over,
	};
}

async function createProduct(over = {}) {
	const body = validBody(over);
	const res = await gw.post('/api/products', body, { token: admin() });
	const p = assertJson(res, 201, 'POST /api/products (setup)');
	assertProduct(p, 'created product');
	created.add(p.id);
	return p;
}

async function getProduct(id, http = gw) {
	return assertJson(await http.get(`/api/products/${id}`), 200, `GET /api/products/${id}`);
}

/** The catalog size now. */
async function catalogTotal() {
	const body = assertJson(await gw.get('/api/products?page_size=1'), 200, 'GET /api/products?page_size=1');
	return body.total;
}

/**
 * After a rejected POST: no product carries any of these skus and the
 * catalog holds as many products as before (no half-written row).
 */
async function assertNoRow(skus, totalBefore, what) {
	const { items, total } = await listAll(gw, { sort: 'newest' });
	const found = items.filter((p) => skus.includes(p.sku));
	for (const p of found) created.add(p.id);
	assert.deepEqual(found, [], `${what}: the request was rejected but a product with its sku exists`);
	assert.equal(total, totalBefore, `${what}: the request was rejected but the catalog went from ${totalBefore} to ${total} products`);
}

/** After a rejected PATCH/DELETE: the product reads exactly as before. */
async function assertUnchanged(before, what) {
	const now = await getProduct(before.id);
	assert.deepEqual(now, before, `${what}: the request was rejected but the product changed`);
}

/**
 * The current state of a test's target product, re-created when an earlier
 * (failed) test deleted it, so one failure does not cascade into the next.
 */
async function freshTarget(holder) {
	if (holder.product) {
		const res = await gw.get(`/api/products/${holder.product.id}`);
		if (res.status === 200) {
			holder.product = assertJson(res, 200);
			return holder.product;
		}
	}
	holder.product = await createProduct();
	return holder.product;
}

async function categoryCount(slug) {
	return (await getCategories(gw)).find((c) => c.slug === slug).product_count;
}

const setup = once(async () => {
	await waitForHealthy(env.gatewayUrl);
	adminToken(); // fail early, with the key path, when the key is unusable
	release = await acquireCatalogLock();
	const cats = await getCategories(gw);
	assert.ok(cats.length >= 2, 'need at least two categories');
	[catA, catB] = [cats[0].slug, cats[1].slug];
});
const it = itAfter(setup, nodeIt);

after(async () => {
	try {
		for (const id of created) {
			const res = await gw.delete(`/api/products/${id}`, { token: admin() });
			if (res.status !== 204 && res.status !== 404) console.error(`# cleanup of ${id} failed: ${show(res)}`);
		}
	} finally {
		release?.();
	}
});

describe('POST /api/products', () => {
	it('creates: 201 + Location + the product; GET, listing, search and category count see it at once', async () => {
		const countBefore = await categoryCount(catA);
		const word = randomWord();
		const body = validBody({ name: `Itest ${word} Gadget` });
		const res = await gw.post('/api/products', body, { token: admin() });
		const p = assertJson(res, 201, 'POST /api/products');
		assertProduct(p, 'created product');
		created.add(p.id);
		for (const k of ['sku', 'name', 'description', 'category', 'price_cents', 'stock']) {
			assert.equal(p[k], body[k], `created product: ${k} must be what was sent\n${show(res)}`);
		}
		assert.equal(p.currency, 'USD', 'currency defaults to USD');
		assert.equal(p.image_url, '', 'image_url defaults to the empty string');
		assert.ok(Math.abs(Date.parse(p.created_at) - Date.now()) < 5 * 60 * 1000, `created_at must be now, is ${p.created_at}`);

		const location = res.headers.get('location');
		assert.ok(location, `201 must carry a Location header\n${show(res)}`);
		const path = new URL(location, `${env.gatewayUrl}/`).pathname;
		assert.equal(path, `/api/products/${p.id}`, `Location must point at the new product, is '${location}'`);

		assert.deepEqual(assertJson(await gw.get(path), 200, `GET ${path}`), p, 'GET Location must return the created product');
		assert.deepEqual(await getProduct(p.id, direct), p, 'the product daemon, asked directly, must return the same product');

		const { items } = await listAll(gw, { sort: 'newest' });
		assert.deepEqual(items.find((x) => x.id === p.id), p, 'the listing must contain the new product');

		const found = await listAll(gw, { q: word });
		assert.ok(found.items.some((x) => x.id === p.id), `q=${word} (a word of its name) must find the new product`);

		const inCat = await listAll(gw, { category: catA });
		assert.ok(inCat.items.some((x) => x.id === p.id), `category=${catA} must list the new product`);
		assert.equal(await categoryCount(catA), countBefore + 1, `product_count of ${catA} must grow by one`);
	});

	it('accepts currency and image_url when given', async () => {
		const body = validBody({ currency: 'EUR', image_url: 'https://example.com/itest.png', price_cents: 0, stock: 0 });
		const p = assertJson(await gw.post('/api/products', body, { token: admin() }), 201);
		created.add(p.id);
		assert.equal(p.currency, 'EUR');
		assert.equal(p.image_url, 'https://example.com/itest.png');
		assert.equal(p.price_cents, 0);
		assert.equal(p.stock, 0);
		const q = assertJson(await gw.post('/api/products', validBody({ image_url: '/itest-images/itest.svg' }), { token: admin() }), 201);
		created.add(q.id);
		assert.equal(q.image_url, '/itest-images/itest.svg');
	});

	it('a duplicate sku is a 409 problem and leaves the first product as it was', async () => {
		const first = await createProduct();
		const res = await gw.post('/api/products', validBody({ sku: first.sku, name: 'Itest duplicate' }), { token: admin() });
		if (res.status === 201) created.add(res.body?.id);
		assertProblem(res, 409);
		assert.deepEqual(await getProduct(first.id), first);
		const { items } = await listAll(gw, { sort: 'newest' });
		assert.equal(items.filter((x) => x.sku === first.sku).length, 1, `exactly one product may carry sku ${first.sku}`);
	});
});

describe('PATCH /api/products/{id}', () => {
	it('a price change is visible at once: GET (cached), listing, price filter, the daemon directly', async () => {
		const p = await createProduct();
		// Read it through every path first so whatever caches it does.
		assert.deepEqual(await getProduct(p.id), p);
		assert.deepEqual(await getProduct(p.id), p);
		assert.deepEqual(await getProduct(p.id, direct), p);
		await listAll(gw, { sort: 'newest' });

		const price = p.price_cents + 1234;
		const res = await gw.patch(`/api/products/${p.id}`, { price_cents: price }, { token: admin() });
		const patched = assertJson(res, 200, 'PATCH price_cents');
		assertProduct(patched, 'patched product');
		assert.equal(patched.price_cents, price);
		for (const k of ['id', 'sku', 'name', 'description', 'category', 'currency', 'image_url', 'stock', 'created_at']) {
			assert.deepEqual(patched[k], p[k], `PATCH of price_cents must leave ${k} alone`);
		}
		assert.ok(Date.parse(patched.updated_at) >= Date.parse(p.updated_at), 'updated_at must not go back');

		assert.deepEqual(await getProduct(p.id), patched, 'GET right after PATCH must not be stale (cache invalidated by the write)');
		assert.deepEqual(await getProduct(p.id, direct), patched, 'the daemon directly must not be stale either');
		const { items } = await listAll(gw, { sort: 'newest' });
		assert.deepEqual(items.find((x) => x.id === p.id), patched, 'the listing must show the new price');
		const filtered = await listAll(gw, { min_price_cents: price, max_price_cents: price });
		assert.ok(filtered.items.some((x) => x.id === p.id), `min=max=${price} must find the patched product`);
	});

	it('patches every field at once; the old sku is free again', async () => {
		const p = await createProduct();
		const change = {
			sku: newSku('all'),
			name: `Itest ${randomWord()} Renamed`,
			description: 'Patched by the integration tests.',
			category: catB,
			price_cents: 4321,
			stock: 11,
			currency: 'EUR',
			image_url: '/itest-images/itest-patched.svg',
		};
		const patched = assertJson(await gw.patch(`/api/products/${p.id}`, change, { token: admin() }), 200);
		assertProduct(patched);
		for (const [k, v] of Object.entries(change)) assert.equal(patched[k], v, `PATCH must set ${k}`);
		assert.equal(patched.id, p.id);
		assert.equal(patched.created_at, p.created_at);
		assert.deepEqual(await getProduct(p.id), patched);
		const reuse = await createProduct({ sku: p.sku });
		assert.equal(reuse.sku, p.sku, 'the old sku must be usable again');
	});

	it('a name change is found by search at once', async () => {
		const p = await createProduct();
		await listAll(gw, { q: p.name.split(' ')[1] }); // warm any search cache
		const word = randomWord();
		assertJson(await gw.patch(`/api/products/${p.id}`, { name: `Itest ${word} Renamed` }, { token: admin() }), 200);
		const found = await listAll(gw, { q: word });
		const hit = found.items.find((x) => x.id === p.id);
		assert.ok(hit, `q=${word} must find the renamed product`);
		assert.equal(hit.name, `Itest ${word} Renamed`);
	});

	it('accepts the boundary values of every range', async () => {
		const p = await createProduct();
		const ok = [
			{ price_cents: 0 }, { price_cents: 100000000 }, { stock: 0 }, { stock: 1000000 },
			{ name: 'N'.repeat(200) }, { name: 'x' }, { sku: `${newSku('max')}-`.padEnd(64, 'z') },
			{ description: 'd'.repeat(5000) }, { description: '' },
			{ image_url: `/${'i'.repeat(2047)}` }, { image_url: 'http://example.com/a.svg' },
			{ currency: 'JPY' },
		];
		for (const change of ok) {
			const res = await gw.patch(`/api/products/${p.id}`, change, { token: admin() });
			const what = `PATCH ${JSON.stringify(change).slice(0, 80)}`;
			const got = assertJson(res, 200, what);
			const [k, v] = Object.entries(change)[0];
			assert.equal(got[k], v, `${what}: must be stored as sent`);
		}
	});

	it('name and description lengths count characters, not bytes', async () => {
		const p = await createProduct();
		const name = 'é'.repeat(200); // 400 bytes of UTF-8
		const got = assertJson(await gw.patch(`/api/products/${p.id}`, { name }, { token: admin() }), 200, 'name of 200 two-byte characters');
		assert.equal(got.name, name, 'non-ASCII text must round-trip unchanged');
		const before = await getProduct(p.id);
		assertProblem(await gw.patch(`/api/products/${p.id}`, { name: 'é'.repeat(201) }, { token: admin() }), 400, { field: 'name' });
		await assertUnchanged(before, 'name of 201 characters');
	});

	it('changing the sku to another product\'s sku is a 409 problem and changes nothing', async () => {
		const a = await createProduct();
		const b = await createProduct();
		const res = await gw.patch(`/api/products/${b.id}`, { sku: a.sku, price_cents: 1 }, { token: admin() });
		assertProblem(res, 409);
		await assertUnchanged(b, 'PATCH to a taken sku');
	});

	it('Content-Type application/json; charset=utf-8 is accepted', async () => {
		const p = await createProduct();
		const res = await gw.patch(`/api/products/${p.id}`, { stock: 3 }, { token: admin(), contentType: 'application/json; charset=utf-8' });
		assert.equal(assertJson(res, 200).stock, 3);
	});

	it('an unknown id is a 404 problem', async () => {
		assertProblem(await gw.patch(`/api/products/${crypto.randomUUID()}`, { price_cents: 1 }, { token: admin() }), 404);
	});

	it('a non-UUID id is a 404 problem', async () => {
		assertProblem(await gw.patch('/api/products/not-a-uuid', { price_cents: 1 }, { token: admin() }), 404);
	});
});

describe('DELETE /api/products/{id}', () => {
	it('204, then GET 404 (even after it was cached), DELETE again 404, gone from listing, search and counts', async () => {
		const word = randomWord();
		const countBefore = await categoryCount(catA);
		const p = await createProduct({ name: `Itest ${word} Doomed` });
		await getProduct(p.id);
		await getProduct(p.id);
		await getProduct(p.id, direct);
		await listAll(gw, { q: word });

		const res = await gw.delete(`/api/products/${p.id}`, { token: admin() });
		assertStatus(res, 204, 'DELETE');
		assert.equal(res.text, '', '204 has no body');
		created.delete(p.id);

		assertProblem(await gw.get(`/api/products/${p.id}`), 404, { what: 'GET after DELETE (stale cache?)' });
		assertProblem(await direct.get(`/api/products/${p.id}`), 404, { what: 'GET on the daemon after DELETE' });
		assertProblem(await gw.delete(`/api/products/${p.id}`, { token: admin() }), 404, { what: 'second DELETE' });
		const { items } = await listAll(gw, { sort: 'newest' });
		assert.ok(!items.some((x) => x.id === p.id), 'a deleted product must leave the listing');
		const found = await listAll(gw, { q: word });
		assert.ok(!found.items.some((x) => x.id === p.id), 'a deleted product must leave search');
		assert.equal(await categoryCount(catA), countBefore, 'product_count must be back to what it was');
	});

	it('an unknown id is a 404 problem', async () => {
		assertProblem(await gw.delete(`/api/products/${crypto.randomUUID()}`, { token: admin() }), 404);
	});

	it('a non-UUID id is a 404 problem', async () => {
		assertProblem(await gw.delete('/api/products/not-a-uuid', { token: admin() }), 404);
	});
});

describe('admin routes refuse missing, forged and non-admin tokens', () => {
	// [label, () => request options, status]: tokens are minted when the test runs.
	const bearer = (token) => ({ token });
	const auths = [
		['no token', () => ({}), 401],
		['Authorization: Basic', () => ({ headers: { authorization: `Basic ${Buffer.from('admin@example.com:admin12345').toString('base64')}` } }), 401],
		['Authorization: Bearer with no token', () => ({ headers: { authorization: 'Bearer' } }), 401],
		['a valid customer token', () => bearer(customerToken()), 403],
		...badTokenMakers().map(({ name, make }) => [`a token: ${name}`, () => bearer(make()), 401]),
	];

	const target = {};

	for (const [label, auth, status] of auths) {
		it(`POST with ${label} -> ${status}`, async () => {
			const body = validBody();
			const total = await catalogTotal();
			const res = await gw.post('/api/products', body, auth());
			if (res.status === 201) created.add(res.body?.id);
			assertProblem(res, status);
			await assertNoRow([body.sku], total, `POST with ${label}`);
		});
		it(`PATCH with ${label} -> ${status}`, async () => {
			const before = await freshTarget(target);
			const res = await gw.patch(`/api/products/${before.id}`, { price_cents: 1, name: 'Itest hijacked' }, auth());
			assertProblem(res, status);
			await assertUnchanged(before, `PATCH with ${label}`);
		});
		it(`DELETE with ${label} -> ${status}`, async () => {
			const before = await freshTarget(target);
			const res = await gw.delete(`/api/products/${before.id}`, auth());
			assertProblem(res, status);
			await assertUnchanged(before, `DELETE with ${label}`);
		});
	}
});

describe('write bodies are validated: 4xx problem, never a half-written row', () => {
	const long = (n, c = 'a') => c.repeat(n);
	const json = (v) => ({ raw: JSON.stringify(v) });
	/** The JSON of `b` with `"__BYTES__"` replaced by raw (possibly invalid UTF-8) bytes. */
	const withBytes = (b, key, bytes) => {
		const [head, tail] = JSON.stringify({ ...b, [key]: '__BYTES__' }).split('__BYTES__');
		return { raw: Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from(tail)]) };
	};
	const set = (k, v) => (b) => ({ ...b, [k]: v });
	const drop = (k) => (b) => {
		const c = { ...b };
		delete c[k];
		return c;
	};

	// { title, body: (valid base) => object | {raw}, field?, only? ('POST'|'PATCH') }. All 400.
	const cases = [
		{ title: 'malformed JSON (truncated)', body: (b) => ({ raw: JSON.stringify(b).slice(0, -3) }) },
		{ title: 'malformed JSON (single quotes)', body: (b) => ({ raw: JSON.stringify(b).replace(/"/g, "'") }) },
		{ title: 'trailing garbage after the object', body: (b) => ({ raw: `${JSON.stringify(b)} {` }) },
		{ title: 'an empty body', body: () => ({ raw: '' }) },
		{ title: 'a JSON array of the object', body: (b) => json([b]) },
		{ title: 'an empty JSON array', body: () => json([]) },
		{ title: 'a JSON string', body: () => json('hello') },
		{ title: 'a JSON number', body: () => json(42) },
		{ title: 'JSON null', body: () => json(null) },
		{ title: 'a duplicate key {"name":"a","name":"b"}', body: (b) => ({ raw: JSON.stringify(b).replace(/^\{/, '{"name":"a",') }) },
		{ title: 'invalid UTF-8 in a string', body: (b) => withBytes(b, 'name', [0x49, 0xff, 0xfe, 0x49]) },
		{ title: 'a NUL character in a string', body: (b) => ({ raw: JSON.stringify({ ...b, name: 'Itest\u0000nul' }) }) },
		{ title: 'an integer too big for 64 bits', body: (b) => ({ raw: JSON.stringify({ ...b, price_cents: 1 }).replace('"price_cents":1', '"price_cents":99999999999999999999999') }) },
		{ title: 'an unknown field', body: set('colour', 'red'), field: 'colour' },
		{ title: 'a read-only field (id)', body: set('id', crypto.randomUUID()), field: 'id' },
		{ title: 'price_cents as a string "12"', body: set('price_cents', '12'), field: 'price_cents' },
		{ title: 'price_cents 12.5', body: set('price_cents', 12.5), field: 'price_cents' },
		{ title: 'price_cents null', body: set('price_cents', null), field: 'price_cents' },
		{ title: 'stock 1.5', body: set('stock', 1.5), field: 'stock' },
		{ title: 'stock true', body: set('stock', true), field: 'stock' },
		{ title: 'name 5', body: set('name', 5), field: 'name' },
		{ title: 'name null', body: set('name', null), field: 'name' },
		{ title: 'description []', body: set('description', []), field: 'description' },
		{ title: 'category 7', body: set('category', 7), field: 'category' },
		{ title: 'sku {}', body: set('sku', {}), field: 'sku' },
		{ title: 'currency 1', body: set('currency', 1), field: 'currency' },
		{ title: 'image_url false', body: set('image_url', false), field: 'image_url' },
		...['sku', 'name', 'description', 'category', 'price_cents', 'stock'].map((k) => ({ title: `missing ${k}`, body: drop(k), field: k, only: 'POST' })),
		{ title: 'an empty object {}', body: () => ({}), field: ['sku', 'name', 'description', 'category', 'price_cents', 'stock'], only: 'POST' },
		{ title: 'an empty object {} (no field to change)', body: () => ({}), only: 'PATCH' },
		{ title: 'price_cents -1', body: set('price_cents', -1), field: 'price_cents' },
		{ title: 'price_cents 100000001', body: set('price_cents', 100000001), field: 'price_cents' },
		{ title: 'price_cents 2^53+1', body: (b) => ({ raw: JSON.stringify({ ...b, price_cents: 1 }).replace('"price_cents":1', '"price_cents":9007199254740993') }), field: 'price_cents' },
		{ title: 'stock -1', body: set('stock', -1), field: 'stock' },
		{ title: 'stock 1000001', body: set('stock', 1000001), field: 'stock' },
		{ title: 'name ""', body: set('name', ''), field: 'name' },
		{ title: 'name of 201 characters', body: set('name', long(201)), field: 'name' },
		{ title: 'description of 5001 characters', body: set('description', long(5001)), field: 'description' },
		{ title: 'sku ""', body: set('sku', ''), field: 'sku' },
		{ title: 'sku with a space', body: set('sku', 'ITEST bad'), field: 'sku' },
		{ title: 'sku with a slash', body: set('sku', 'ITEST/bad'), field: 'sku' },
		{ title: 'sku with a dot', body: set('sku', 'ITEST.bad'), field: 'sku' },
		{ title: 'sku with a non-ASCII letter', body: set('sku', 'ITEST-ü'), field: 'sku' },
		{ title: 'sku of 65 characters', body: set('sku', `ITEST-${long(59, 'x')}`), field: 'sku' },
		{ title: 'currency "usd"', body: set('currency', 'usd'), field: 'currency' },
		{ title: 'currency "US"', body: set('currency', 'US'), field: 'currency' },
		{ title: 'currency "EURO"', body: set('currency', 'EURO'), field: 'currency' },
		{ title: 'currency "U5D"', body: set('currency', 'U5D'), field: 'currency' },
		{ title: 'image_url ftp://', body: set('image_url', 'ftp://example.com/x.svg'), field: 'image_url' },
		{ title: 'image_url without a leading slash', body: set('image_url', 'images/x.svg'), field: 'image_url' },
		{ title: 'image_url javascript:', body: set('image_url', 'javascript:alert(1)'), field: 'image_url' },
		{ title: 'image_url of 2049 characters', body: set('image_url', `/${long(2048, 'i')}`), field: 'image_url' },
		{ title: 'an unknown category', body: set('category', 'nope-no-such-category'), field: 'category' },
		{ title: 'category ""', body: set('category', ''), field: 'category' },
		{ title: 'a 900 KiB body under the size limit (read whole, then validated)', body: set('description', long(900 * 1024)), field: 'description' },
	];

	const target = {};

	for (const c of cases) {
		if (c.only !== 'PATCH') {
			it(`POST with ${c.title} -> 400${c.field ? ` naming ${[c.field].flat().join('|')}` : ''}`, async () => {
				const base = validBody();
				const b = c.body(base);
				const skus = [base.sku, b?.sku].filter((s) => typeof s === 'string');
				const total = await catalogTotal();
				const opts = { token: admin() };
				const res = b && b.raw !== undefined
					? await gw.send('POST', '/api/products', { ...opts, body: b.raw, contentType: 'application/json' })
					: await gw.post('/api/products', b, opts);
				if (res.status === 201) created.add(res.body?.id);
				assertProblem(res, 400, { field: c.field });
				await assertNoRow(skus, total, `POST with ${c.title}`);
			});
		}
		if (c.only !== 'POST') {
			it(`PATCH with ${c.title} -> 400${c.field ? ` naming ${[c.field].flat().join('|')}` : ''}`, async () => {
				const before = await freshTarget(target);
				const base = { name: `Itest ${randomWord()} Patched`, price_cents: 1 };
				const b = c.body(base);
				const opts = { token: admin() };
				const res = b && b.raw !== undefined
					? await gw.send('PATCH', `/api/products/${before.id}`, { ...opts, body: b.raw, contentType: 'application/json' })
					: await gw.patch(`/api/products/${before.id}`, b, opts);
				assertProblem(res, 400, { field: c.field });
				await assertUnchanged(before, `PATCH with ${c.title}`);
			});
		}
	}

	const contentTypes = [
		['text/plain', 'text/plain'],
		['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
		['no Content-Type at all', null],
		['application/jsonx', 'application/jsonx'],
	];
	for (const [label, contentType] of contentTypes) {
		it(`POST with ${label} -> 415`, async () => {
			const body = validBody();
			const total = await catalogTotal();
			const res = await gw.send('POST', '/api/products', { token: admin(), body: JSON.stringify(body), contentType });
			if (res.status === 201) created.add(res.body?.id);
			assertProblem(res, 415);
			await assertNoRow([body.sku], total, `POST with ${label}`);
		});
		it(`PATCH with ${label} -> 415`, async () => {
			const before = await freshTarget(target);
			const res = await gw.send('PATCH', `/api/products/${before.id}`, { token: admin(), body: JSON.stringify({ price_cents: 1 }), contentType });
			assertProblem(res, 415);
			await assertUnchanged(before, `PATCH with ${label}`);
		});
	}

	const big = (b) => JSON.stringify({ ...b, description: 'a'.repeat(1536 * 1024) }); // 1.5 MiB
	it('POST with a body over 1 MiB -> 413', async () => {
		const body = validBody();
		const total = await catalogTotal();
		const res = await gw.raw('POST', '/api/products', {
			body: big(body), contentType: 'application/json', headers: { authorization: `Bearer ${admin()}` },
		});
		assertProblem(res, 413);
		await assertNoRow([body.sku], total, 'POST over 1 MiB');
	});

	it('PATCH with a body over 1 MiB -> 413', async () => {
		const before = await freshTarget(target);
		const res = await gw.raw('PATCH', `/api/products/${before.id}`, {
			body: big({ price_cents: 1 }), contentType: 'application/json', headers: { authorization: `Bearer ${admin()}` },
		});
		assertProblem(res, 413);
		await assertUnchanged(before, 'PATCH over 1 MiB');
	});

	it('the service still answers normally after all of the above', async () => {
		const before = await freshTarget(target);
		assert.deepEqual(await getProduct(before.id), before);
		const res = await gw.get(`/api/products${qs({ page_size: 1 })}`);
		assertJson(res, 200);
	});
});
