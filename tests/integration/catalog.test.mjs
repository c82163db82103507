// The public catalog through the gateway: listing, pagination, filters,
// sort orders, typo-tolerant search, categories, product by id, and the
// strict query-parameter rules of services/product/README.md.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { env } from './lib/env.mjs';
import { client, qs, show, assertJson, assertProblem, waitForHealthy, once, itAfter } from './lib/http.mjs';
import {
	acquireCatalogLock, assertOrdered, assertPage, assertProduct, getCategories, listAll, namesInOrder,
} from './lib/catalog.mjs';

const gw = client(env.gatewayUrl);

let release;
let catalog; // every product, sort=newest: the reference the other answers are checked against
let categories;

const ids = (items) => items.map((p) => p.id);
const idSet = (items) => new Set(ids(items));
const byName = (re) => catalog.items.filter((p) => re.test(p.name));

/** Asserts every product of `expected` is among `found`, naming the missing ones. */
function assertIncludesAll(found, expected, what) {
	const have = idSet(found);
	const missing = expected.filter((p) => !have.has(p.id));
	assert.deepEqual(missing.map((p) => p.name), [], `${what}: these products are missing from the results`);
}

function assertSameSet(found, expected, what) {
	const a = [...idSet(found)].sort();
	const b = [...idSet(expected)].sort();
	if (a.join() === b.join()) return;
	const fa = new Set(a);
	const fb = new Set(b);
	const extra = found.filter((p) => !fb.has(p.id)).map((p) => `${p.name} (${p.category}, ${p.price_cents})`);
	const missing = expected.filter((p) => !fa.has(p.id)).map((p) => `${p.name} (${p.category}, ${p.price_cents})`);
	assert.fail(`${what}: wrong set of products. Missing: ${JSON.stringify(missing)}; unexpected: ${JSON.stringify(extra)}`);
}

const setup = once(async () => {
	await waitForHealthy(env.gatewayUrl);
	release = await acquireCatalogLock();
	catalog = await listAll(gw, { sort: 'newest' });
	categories = await getCategories(gw);
});
const it = itAfter(setup, nodeIt);

after(() => release?.());

describe('seed catalog', () => {
	it('has at least 64 products in at least 8 categories', () => {
		assert.ok(catalog.total >= 64, `the seeded catalog must hold 64+ products, the listing says ${catalog.total}`);
		assert.ok(categories.length >= 8, `the seeded catalog must have 8+ categories, got ${categories.length}`);
		assert.ok(byName(/headphones/i).length >= 1, 'the seed must contain a product named "...Headphones"');
		assert.ok(byName(/mechanical keyboard/i).length >= 1, 'the seed must contain a "Mechanical Keyboard"');
		assert.ok(byName(/running shoes/i).length >= 1, 'the seed must contain "Running Shoes"');
		assert.ok(byName(/laptop/i).length >= 1, 'the seed must contain a "Laptop"');
	});
});

describe('GET /api/products: listing and pagination', () => {
	it('defaults to page 1, page_size 20, newest first', async () => {
		const res = await gw.get('/api/products');
		const body = assertPage(res, { page: 1, pageSize: 20 });
		assert.equal(body.total, catalog.total, `default listing total must be the catalog size\n${show(res)}`);
		assert.equal(body.items.length, Math.min(20, catalog.total));
		assert.deepEqual(ids(body.items), ids(catalog.items.slice(0, 20)),
			'without q the default sort is newest: page 1 must equal the first 20 of sort=newest');
	});

	it('sort=relevance without q is the same as newest', async () => {
		const res = await gw.get('/api/products?sort=relevance&page_size=100');
		const body = assertPage(res, { page: 1, pageSize: 100 });
		assert.deepEqual(ids(body.items), ids(catalog.items.slice(0, 100)));
	});

	it('page_size=100 is accepted and returns up to 100 items', async () => {
		const res = await gw.get('/api/products?page_size=100');
		const body = assertPage(res, { page: 1, pageSize: 100 });
		assert.equal(body.items.length, Math.min(100, catalog.total));
	});

	it('page_size=1 is accepted', async () => {
		const body = assertPage(await gw.get('/api/products?page_size=1&page=2'), { page: 2, pageSize: 1 });
		assert.deepEqual(ids(body.items), [catalog.items[1].id], 'page 2 of size 1 must be the second product');
	});

	for (const sort of ['newest', 'name', 'price_asc', 'price_desc']) {
		it(`pages are consistent (sort=${sort}): page_size=7 walk equals the page_size=100 walk, no duplicates, no gaps`, async () => {
			const big = await listAll(gw, { sort }, { pageSize: 100 });
			const small = await listAll(gw, { sort }, { pageSize: 7 });
			assert.equal(small.total, catalog.total);
			assert.deepEqual(ids(small.items), ids(big.items),
				`paging with page_size 7 and 100 must yield the same sequence; sort=${sort} needs a unique tie-breaker (e.g. id) so pages never overlap`);
		});
	}

	it('the last page holds the remainder', async () => {
		const pageSize = 20;
		const last = Math.ceil(catalog.total / pageSize);
		const body = assertPage(await gw.get(`/api/products${qs({ page: last, page_size: pageSize })}`), { page: last, pageSize });
		assert.equal(body.items.length, catalog.total - (last - 1) * pageSize);
		assert.deepEqual(ids(body.items), ids(catalog.items.slice((last - 1) * pageSize)));
	});

	it('a page beyond the end is empty and still reports the total', async () => {
		for (const page of [Math.ceil(catalog.total / 20) + 1, 100000]) {
			const res = await gw.get(`/api/products${qs({ page, page_size: 20 })}`);
			const body = assertPage(res, { page, pageSize: 20 });
			assert.deepEqual(body.items, [], `page ${page} is past the end: items must be []\n${show(res)}`);
			assert.equal(body.total, catalog.total, `page ${page}: total must still be ${catalog.total}\n${show(res)}`);
		}
	});
});

describe('GET /api/products: filters', () => {
	it('category returns exactly the products of that category', async () => {
		const biggest = [...categories].sort((a, b) => b.product_count - a.product_count)[0];
		const { items, total } = await listAll(gw, { category: biggest.slug });
		assert.equal(total, biggest.product_count, `category=${biggest.slug}: total must equal its product_count`);
		for (const p of items) assert.equal(p.category, biggest.slug, `category=${biggest.slug} returned ${p.name} of category ${p.category}`);
		assertSameSet(items, catalog.items.filter((p) => p.category === biggest.slug), `category=${biggest.slug}`);
	});

	function priceBounds() {
		const prices = [...new Set(catalog.items.map((p) => p.price_cents))].sort((a, b) => a - b);
		assert.ok(prices.length >= 4, 'the seed needs at least 4 distinct prices');
		return { prices, lo: prices[Math.floor(prices.length / 4)], hi: prices[Math.floor((prices.length * 3) / 4)] };
	}

	it('min_price_cents and max_price_cents bound the price, inclusively', async () => {
		const { lo, hi } = priceBounds();
		const { items } = await listAll(gw, { min_price_cents: lo, max_price_cents: hi });
		for (const p of items) {
			assert.ok(p.price_cents >= lo && p.price_cents <= hi, `min=${lo} max=${hi} returned ${p.name} at ${p.price_cents}`);
		}
		assertSameSet(items, catalog.items.filter((p) => p.price_cents >= lo && p.price_cents <= hi), `min_price_cents=${lo}&max_price_cents=${hi} (bounds are inclusive)`);
	});

	it('min_price_cents alone', async () => {
		const { lo } = priceBounds();
		const { items } = await listAll(gw, { min_price_cents: lo });
		assertSameSet(items, catalog.items.filter((p) => p.price_cents >= lo), `min_price_cents=${lo}`);
	});

	it('max_price_cents alone', async () => {
		const { hi } = priceBounds();
		const { items } = await listAll(gw, { max_price_cents: hi });
		assertSameSet(items, catalog.items.filter((p) => p.price_cents <= hi), `max_price_cents=${hi}`);
	});

	it('min == max returns the products at exactly that price', async () => {
		const { lo } = priceBounds();
		const { items } = await listAll(gw, { min_price_cents: lo, max_price_cents: lo });
		assert.ok(items.length >= 1, `a product costs ${lo}; min=max=${lo} must find it`);
		assertSameSet(items, catalog.items.filter((p) => p.price_cents === lo), `min_price_cents=max_price_cents=${lo}`);
	});

	it('a price range with no product gives an empty page with total 0', async () => {
		const { prices } = priceBounds();
		const above = prices[prices.length - 1] + 1;
		const res = await gw.get(`/api/products${qs({ min_price_cents: above })}`);
		const body = assertPage(res, { page: 1, pageSize: 20 });
		assert.equal(body.total, 0, `nothing costs ${above} or more\n${show(res)}`);
		assert.deepEqual(body.items, []);
	});

	it('filters combine: category + price range + sort=price_asc', async () => {
		const cat = [...categories].sort((a, b) => b.product_count - a.product_count)[0];
		const inCat = catalog.items.filter((p) => p.category === cat.slug).map((p) => p.price_cents).sort((a, b) => a - b);
		const lo = inCat[0];
		const hi = inCat[Math.floor(inCat.length / 2)];
		const { items } = await listAll(gw, { category: cat.slug, min_price_cents: lo, max_price_cents: hi, sort: 'price_asc' });
		assertSameSet(items, catalog.items.filter((p) => p.category === cat.slug && p.price_cents >= lo && p.price_cents <= hi),
			`category=${cat.slug}&min_price_cents=${lo}&max_price_cents=${hi}`);
		assertOrdered(items, 'price_asc', 'combined filters');
	});
});

describe('GET /api/products: sort orders', () => {
	for (const sort of ['name', 'price_asc', 'price_desc', 'newest']) {
		it(`sort=${sort} orders the whole catalog, across pages`, async () => {
			const { items, total } = await listAll(gw, { sort }, { pageSize: 25 });
			assert.equal(total, catalog.total);
			assertSameSet(items, catalog.items, `sort=${sort} must list the whole catalog`);
			assertOrdered(items, sort, `sort=${sort}`);
		});
	}

	it('sort=name really sorts (not just the insertion order)', async () => {
		const { items } = await listAll(gw, { sort: 'name' });
		const first = items[0].name;
		for (const p of catalog.items) {
			assert.ok(namesInOrder(first, p.name), `sort=name starts with '${first}' but '${p.name}' sorts before it`);
		}
	});

	it('sort=price_asc and sort=price_desc are reverses in price', async () => {
		const asc = (await listAll(gw, { sort: 'price_asc' })).items.map((p) => p.price_cents);
		const desc = (await listAll(gw, { sort: 'price_desc' })).items.map((p) => p.price_cents);
		assert.deepEqual(asc, [...desc].reverse());
	});
});

describe('GET /api/products: search', () => {
	async function search(q, extra = {}) {
		return listAll(gw, { q, ...extra });
	}

	it('q=headphones finds every product named ...Headphones, a name match first', async () => {
		const expected = byName(/headphones/i);
		const { items } = await search('headphones');
		assertIncludesAll(items, expected, 'q=headphones');
		assert.match(items[0].name, /headphones/i, `relevance (the default with q) must rank a name match first; first is '${items[0].name}'`);
	});

	it('search is case-insensitive (q=HEADPHONES)', async () => {
		const { items } = await search('HEADPHONES');
		assertIncludesAll(items, byName(/headphones/i), 'q=HEADPHONES');
	});

	it('q=hedaphones (a typo) still finds the headphones', async () => {
		const { items } = await search('hedaphones');
		assertIncludesAll(items, byName(/headphones/i), 'q=hedaphones (typo tolerance)');
	});

	it('q=keybord (a typo) finds the Mechanical Keyboard', async () => {
		const { items } = await search('keybord');
		assertIncludesAll(items, byName(/keyboard/i), 'q=keybord (typo tolerance)');
	});

	it('a word found only in a description finds that product', async (t) => {
		// A word (7+ letters) that appears whole in some description and in no name.
		const stop = new Set(['against', 'because', 'between', 'further', 'himself', 'herself', 'yourself', 'yourselves', 'themselves', 'ourselves', 'through', 'without', 'whatever']);
		const words = (s) => s.toLowerCase().split(/\s+/).map((w) => w.replace(/^[^a-z]+|[^a-z]+$/g, '')).filter((w) => /^[a-z]{7,}$/.test(w) && !stop.has(w));
		const names = catalog.items.map((p) => p.name.toLowerCase());
		const holders = new Map();
		for (const p of catalog.items) {
			for (const w of new Set(words(p.description))) {
				if (!names.some((n) => n.includes(w))) holders.set(w, [...(holders.get(w) ?? []), p]);
			}
		}
		assert.ok(holders.size > 0, 'the seed descriptions must contain words that are not in any product name');
		const [word, expected] = [...holders.entries()].sort((a, b) => a[1].length - b[1].length || a[0].localeCompare(b[0]))[0];
		t.diagnostic(`searching for '${word}', found only in the description of ${expected.map((p) => p.name).join(', ')}`);
		const { items } = await search(word);
		assertIncludesAll(items, expected, `q=${word} (a description-only word)`);
	});

	it('q combines with category', async () => {
		const cat = byName(/headphones/i)[0].category;
		const { items } = await search('headphones', { category: cat });
		assert.ok(items.length >= 1, `q=headphones&category=${cat} must find the headphones of that category`);
		for (const p of items) assert.equal(p.category, cat, `q=headphones&category=${cat} returned ${p.name} of ${p.category}`);
		assertIncludesAll(items, byName(/headphones/i).filter((p) => p.category === cat), `q=headphones&category=${cat}`);
	});

	it('q with sort=price_asc orders the matches by price', async () => {
		const { items } = await search('headphones', { sort: 'price_asc' });
		assertIncludesAll(items, byName(/headphones/i), 'q=headphones&sort=price_asc');
		assertOrdered(items, 'price_asc', 'q=headphones&sort=price_asc');
	});

	it('q with sort=relevance is the default order for q, and pages consistently', async () => {
		const implicit = await search('headphones');
		const explicit = await search('headphones', { sort: 'relevance' });
		assert.deepEqual(ids(explicit.items), ids(implicit.items), 'sort=relevance is the default with q');
		const small = await listAll(gw, { q: 'headphones' }, { pageSize: 3 });
		assert.deepEqual(ids(small.items), ids(implicit.items), 'relevance paging needs a unique tie-breaker');
	});

	it('q of exactly 200 characters is accepted', async () => {
		const res = await gw.get(`/api/products${qs({ q: 'x'.repeat(200) })}`);
		assertPage(res, { page: 1, pageSize: 20 });
	});
});

describe('GET /api/categories', () => {
	it('lists 8+ categories with slug, name and product_count, ordered by name', () => {
		assert.ok(categories.length >= 8);
		const slugs = categories.map((c) => c.slug);
		assert.equal(new Set(slugs).size, slugs.length, `slugs must be unique: ${slugs}`);
		for (let i = 1; i < categories.length; i++) {
			assert.ok(namesInOrder(categories[i - 1].name, categories[i].name),
				`categories must be ordered by name: '${categories[i - 1].name}' comes before '${categories[i].name}'`);
		}
	});

	it('answers application/json', async () => {
		assertJson(await gw.get('/api/categories'), 200);
	});

	it('product counts add up to the catalog total', () => {
		const sum = categories.reduce((s, c) => s + c.product_count, 0);
		assert.equal(sum, catalog.total, `sum of product_count (${sum}) must equal the listing total (${catalog.total})`);
	});

	it('each product_count matches that category\'s filtered listing total and the products\' categories', async () => {
		for (const c of categories) {
			const res = await gw.get(`/api/products${qs({ category: c.slug, page_size: 1 })}`);
			const body = assertPage(res, { page: 1, pageSize: 1 });
			assert.equal(body.total, c.product_count, `category ${c.slug}: product_count ${c.product_count} but the filtered listing total is ${body.total}`);
			assert.equal(catalog.items.filter((p) => p.category === c.slug).length, c.product_count, `category ${c.slug}: product_count vs products carrying it`);
		}
	});

	it('every product belongs to a listed category', () => {
		const slugs = new Set(categories.map((c) => c.slug));
		for (const p of catalog.items) assert.ok(slugs.has(p.category), `${p.name} has category '${p.category}', not in /api/categories`);
	});
});

describe('GET /api/products/{id}', () => {
	it('answers 200 with the product, identical to its listing entry', async () => {
		const picks = [catalog.items[0], catalog.items[catalog.items.length - 1], byName(/headphones/i)[0]];
		for (const want of picks) {
			const res = await gw.get(`/api/products/${want.id}`);
			const p = assertJson(res, 200);
			assertProduct(p, `GET /api/products/${want.id}`);
			assert.deepEqual(p, want, `GET by id must return the same document as the listing\n${show(res)}`);
		}
	});

	it('answers the same document on a second read (cached or not)', async () => {
		const want = catalog.items[1];
		const a = assertJson(await gw.get(`/api/products/${want.id}`), 200);
		const b = assertJson(await gw.get(`/api/products/${want.id}`), 200);
		assert.deepEqual(b, a);
	});

	it('an unknown UUID is a 404 problem', async () => {
		const id = crypto.randomUUID();
		assertProblem(await gw.get(`/api/products/${id}`), 404);
	});

	for (const bad of ['not-a-uuid', '12345', `${'0'.repeat(8)}-0000-0000-0000-00000000000g`, `${crypto.randomUUID()}0`, "1'%20OR%20'1'='1"]) {
		it(`a non-UUID id (${bad}) is a 404 problem`, async () => {
			assertProblem(await gw.get(`/api/products/${bad}`), 404);
		});
	}
});

describe('GET /api/products: bad query input is a 400 problem naming the parameter', () => {
	const cases = [
		['page=0', 'page'],
		['page=-1', 'page'],
		['page=abc', 'page'],
		['page=', 'page'],
		['page=1.5', 'page'],
		['page=99999999999999999999999', 'page'],
		['page_size=0', 'page_size'],
		['page_size=101', 'page_size'],
		['page_size=1.5', 'page_size'],
		['page_size=abc', 'page_size'],
		['page_size=1e2', 'page_size'],
		['min_price_cents=-1', 'min_price_cents'],
		['max_price_cents=-1', 'max_price_cents'],
		['min_price_cents=abc', 'min_price_cents'],
		['max_price_cents=12.5', 'max_price_cents'],
		['min_price_cents=5000&max_price_cents=100', ['min_price_cents', 'max_price_cents']],
		['sort=bogus', 'sort'],
		['category=nope', 'category'],
		['foo=1', 'foo'],
		['page=1&foo=1', 'foo'],
		[`q=${'a'.repeat(201)}`, 'q'],
	];
	for (const [query, field] of cases) {
		it(`?${query.length > 60 ? `${query.slice(0, 40)}... (${query.length - 2} chars)` : query} -> 400 naming ${field}`, async () => {
			assertProblem(await gw.get(`/api/products?${query}`), 400, { field });
		});
	}
});
