// Catalog helpers shared by catalog.test.mjs and catalog-admin.test.mjs:
// walking every page of a listing, the product shape, sort comparators, and
// a cross-process lock so the two files (which node --test runs in parallel)
// never overlap: the read-only checks compare totals across requests and
// must not see the admin tests' products come and go.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { env } from './env.mjs';
import { assertJson, qs, show } from './http.mjs';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// services/product/README.md: RFC 3339 UTC with second precision.
export const RFC3339_UTC_SECONDS = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$/;
export const SKU_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const PRODUCT_KEYS = ['id', 'sku', 'name', 'description', 'category', 'price_cents', 'currency', 'image_url', 'stock', 'created_at', 'updated_at'];
export const SORTS = ['relevance', 'name', 'price_asc', 'price_desc', 'newest'];

/** Asserts `p` has exactly the Product shape of API.md, with valid values. */
export function assertProduct(p, where = 'product') {
	const j = JSON.stringify(p);
	assert.ok(p && typeof p === 'object' && !Array.isArray(p), `${where} must be an object: ${j}`);
	assert.deepEqual(Object.keys(p).sort(), [...PRODUCT_KEYS].sort(), `${where} must have exactly the fields ${PRODUCT_KEYS.join(', ')}: ${j}`);
	assert.match(p.id, UUID_RE, `${where}.id must be a UUID: ${j}`);
	assert.ok(typeof p.sku === 'string' && SKU_RE.test(p.sku), `${where}.sku must be 1-64 of [A-Za-z0-9_-]: ${j}`);
	assert.ok(typeof p.name === 'string' && p.name.length >= 1 && [...p.name].length <= 200, `${where}.name must be a 1-200 character string: ${j}`);
	assert.ok(typeof p.description === 'string' && [...p.description].length <= 5000, `${where}.description must be a string of at most 5000 characters: ${j}`);
	assert.ok(typeof p.category === 'string' && p.category.length > 0, `${where}.category must be a slug: ${j}`);
	assert.ok(Number.isInteger(p.price_cents) && p.price_cents >= 0 && p.price_cents <= 100000000, `${where}.price_cents must be an integer 0-100000000 (cents, never a float): ${j}`);
	assert.ok(typeof p.currency === 'string' && /^[A-Z]{3}$/.test(p.currency), `${where}.currency must be three capital letters: ${j}`);
	assert.ok(typeof p.image_url === 'string', `${where}.image_url must be a string: ${j}`);
	assert.ok(Number.isInteger(p.stock) && p.stock >= 0 && p.stock <= 1000000, `${where}.stock must be an integer 0-1000000: ${j}`);
	for (const k of ['created_at', 'updated_at']) {
		assert.ok(typeof p[k] === 'string' && RFC3339_UTC_SECONDS.test(p[k]) && !Number.isNaN(Date.parse(p[k])),
			`${where}.${k} must be RFC 3339 UTC with second precision (e.g. 2026-11-21T10:02:03Z): ${j}`);
	}
	assert.ok(Date.parse(p.updated_at) >= Date.parse(p.created_at), `${where}.updated_at must not be before created_at: ${j}`);
}

/** Asserts the paginated envelope and returns it. */
export function assertPage(res, { page, pageSize } = {}) {
	const body = assertJson(res, 200);
	assert.ok(body && Array.isArray(body.items), `listing must have an 'items' array\n${show(res)}`);
	assert.ok(Number.isInteger(body.total) && body.total >= 0, `listing 'total' must be a non-negative integer\n${show(res)}`);
	assert.ok(Number.isInteger(body.page), `listing 'page' must be an integer\n${show(res)}`);
	assert.ok(Number.isInteger(body.page_size), `listing 'page_size' must be an integer\n${show(res)}`);
	if (page !== undefined) assert.equal(body.page, page, `listing 'page' must echo ${page}\n${show(res)}`);
	if (pageSize !== undefined) assert.equal(body.page_size, pageSize, `listing 'page_size' must echo ${pageSize}\n${show(res)}`);
	const expected = Math.max(0, Math.min(body.page_size, body.total - (body.page - 1) * body.page_size));
	assert.equal(body.items.length, expected,
		`page ${body.page} of size ${body.page_size} with total ${body.total} must hold ${expected} items, holds ${body.items.length}\n${show(res)}`);
	body.items.forEach((p, i) => assertProduct(p, `${res.url} items[${i}]`));
	return body;
}

/**
 * Walks every page of /api/products with the given query (page_size 100 by
 * default) and returns { items, total }. Asserts every page reports the
 * same total and the pages add up to it.
 */
export async function listAll(http, query = {}, { pageSize = 100 } = {}) {
	const items = [];
	let total;
	for (let page = 1; page <= 1000; page++) {
		const res = await http.get(`/api/products${qs({ ...query, page, page_size: pageSize })}`);
		const body = assertPage(res, { page, pageSize });
		if (total === undefined) total = body.total;
		assert.equal(body.total, total, `total changed while paging (${total} then ${body.total}) — is something else writing the catalog?\n${show(res)}`);
		items.push(...body.items);
		if (items.length >= total || body.items.length === 0) break;
	}
	assert.equal(items.length, total, `walking ${JSON.stringify(query)} gave ${items.length} items, total says ${total}`);
	const ids = new Set(items.map((p) => p.id));
	assert.equal(ids.size, items.length, `walking ${JSON.stringify(query)} with page_size=${pageSize} returned some product twice (unstable ordering?)`);
	return { items, total };
}

/** The product with exactly this sku in the whole catalog, or undefined. */
export async function findBySku(http, sku) {
	const { items } = await listAll(http, { sort: 'newest' });
	return items.find((p) => p.sku === sku);
}

/** GET /api/categories, shape-checked; returns the items. */
export async function getCategories(http) {
	const res = await http.get('/api/categories');
	const body = assertJson(res, 200);
	assert.ok(body && Array.isArray(body.items), `categories must be {"items": [...]}\n${show(res)}`);
	for (const c of body.items) {
		assert.deepEqual(Object.keys(c).sort(), ['name', 'product_count', 'slug'], `a category must be {slug, name, product_count}: ${JSON.stringify(c)}`);
		assert.ok(typeof c.slug === 'string' && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(c.slug), `category slug must be lower-case words joined by '-': ${JSON.stringify(c)}`);
		assert.ok(typeof c.name === 'string' && c.name.length > 0, `category name must be a non-empty string: ${JSON.stringify(c)}`);
		assert.ok(Number.isInteger(c.product_count) && c.product_count >= 0, `product_count must be a non-negative integer: ${JSON.stringify(c)}`);
	}
	return body.items;
}

// Names sort the way PostgreSQL sorts text; the database may use the C
// collation (code point order) or a linguistic one (en_US: case and
// punctuation only break ties). A pair is in order if any of these says so.
const collators = [
	new Intl.Collator('en', { sensitivity: 'variant' }),
	new Intl.Collator('en', { sensitivity: 'variant', ignorePunctuation: true }),
];
export function namesInOrder(a, b) {
	return a <= b || a.toLowerCase() <= b.toLowerCase() || collators.some((c) => c.compare(a, b) <= 0);
}

/** [how to check a sort order, its description] per sort value. */
export const ORDER_CHECKS = {
	name: [(a, b) => namesInOrder(a.name, b.name), 'name ascending'],
	price_asc: [(a, b) => a.price_cents <= b.price_cents, 'price_cents ascending'],
	price_desc: [(a, b) => a.price_cents >= b.price_cents, 'price_cents descending'],
	newest: [(a, b) => Date.parse(a.created_at) >= Date.parse(b.created_at), 'created_at descending'],
};

/** Asserts the items are ordered as `sort` says. */
export function assertOrdered(items, sort, where) {
	const [ok, what] = ORDER_CHECKS[sort];
	for (let i = 1; i < items.length; i++) {
		const a = items[i - 1];
		const b = items[i];
		assert.ok(ok(a, b), `${where}: sort=${sort} must order by ${what}, but item ${i - 1} ` +
			`(${a.name} | ${a.price_cents} | ${a.created_at}) comes before item ${i} (${b.name} | ${b.price_cents} | ${b.created_at})`);
	}
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return err.code === 'EPERM';
	}
}

/**
 * Takes the catalog lock shared by the catalog test files of this fleet
 * (keyed by SHOP_GATEWAY_URL); returns a function that releases it. A lock
 * left by a dead process is taken over.
 */
export async function acquireCatalogLock({ timeoutMs = 10 * 60 * 1000 } = {}) {
	const root = fs.existsSync(env.stateDir) ? env.stateDir : os.tmpdir();
	const key = crypto.createHash('sha256').update(env.gatewayUrl).digest('hex').slice(0, 12);
	const dir = path.join(root, `itest-catalog-${key}.lock`);
	const owner = path.join(dir, 'pid');
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			fs.mkdirSync(dir);
			fs.writeFileSync(owner, String(process.pid));
			let released = false;
			const release = () => {
				if (!released) {
					released = true;
					fs.rmSync(dir, { recursive: true, force: true });
				}
			};
			process.once('exit', release);
			return release;
		} catch (err) {
			if (err.code !== 'EEXIST') throw err;
		}
		let stale = false;
		try {
			const pid = Number(fs.readFileSync(owner, 'utf8'));
			stale = Number.isInteger(pid) && pid > 0 && !alive(pid);
		} catch {
			// no pid yet: the owner is between mkdir and write, unless long dead
			try {
				stale = Date.now() - fs.statSync(dir).mtimeMs > 10000;
			} catch {
				/* gone: retry */
			}
		}
		if (stale) {
			fs.rmSync(dir, { recursive: true, force: true });
			continue;
		}
		if (Date.now() > deadline) throw new Error(`timed out waiting for the catalog test lock ${dir}`);
		await sleep(100);
	}
}
