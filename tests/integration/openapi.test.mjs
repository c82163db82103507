// The OpenAPI documents of docs/api/ against what the fleet really answers.
// A sample of real requests, mostly through the gateway (the /internal/
// routes and each daemon's own /health, /ready, /metrics on the daemons,
// as their documents' servers say), covering every service and every
// documented operation: the catalog (list, search, filters, by id, 404,
// bad query, the admin writes), accounts (register, 409, bad input 400,
// 415, login, 401, me, PATCH me, JWKS, logout), the cart (add, read,
// 409, 404, set, remove, clear), an order with tok_visa (201, Location,
// Idempotency-Key replayed, 422) followed until it is confirmed, its
// payment and its confirmation mail once the saga has run, the
// unauthenticated 401s, the gateway's own answers and its 404s. Each answer
// is matched to its operation (server + path template + method) and must
// have a documented status, the documented media type (no body where none
// is documented), every required documented header with a valid value, and
// a body valid against the documented schema (Ajv2020, $refs resolved
// across the files); and a request that was accepted (2xx) must be one the
// document allows (every query parameter documented and valid, the JSON
// body valid against the request body). At the end, every documented
// operation must have been exercised. A mismatch is either a documentation
// fix or a daemon bug.
//
// Holds the broker lock shared (the order must settle) and the catalog lock
// (its throw-away product must not show up in the read-only catalog
// checks). SHOP_SAGA_TIMEOUT_MS (default 30000): how long the order may
// take to settle and its mail to be recorded.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { env, repoRoot } from './lib/env.mjs';
import { client, show, waitForHealthy, once } from './lib/http.mjs';
import { adminToken, mintToken } from './lib/jwt.mjs';
import { newEmail, newName, newPassword, rememberSecret } from './lib/users.mjs';
import { acquireBrokerLock } from './lib/broker.mjs';
import { acquireCatalogLock, getCategories } from './lib/catalog.mjs';
import { internalToken, productFactory } from './lib/cart.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const SAGA_TIMEOUT_MS = Number(process.env.SHOP_SAGA_TIMEOUT_MS) || 30000;
const apiDir = path.join(repoRoot, 'docs', 'api');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ADDRESS = { name: 'Itest OpenAPI', line1: '1 Schema Street', line2: null, city: 'Testville', postal_code: '12345', country: 'DE' };

// The documents' servers are the dev fleet's; the fleet under test is the
// one of env.mjs (the test fleet runs on other ports).
const serverBase = {
	'http://localhost:9000': env.gatewayUrl,
	'http://localhost:8004': env.productUrl,
	'http://localhost:8005': env.userUrl,
	'http://localhost:8006': env.cartUrl,
	'http://localhost:8001': env.orderUrl,
	'http://localhost:8002': env.paymentUrl,
	'http://localhost:8003': env.emailUrl,
};

/**
 * A client (lib/http.mjs) whose answers remember the JSON body sent
 * (`res.sent`), so that an accepted request can be checked against the
 * documented request body.
 */
function tracked(base) {
	const send = async (method, p, opts = {}) => {
		const res = await base.send(method, p, opts);
		res.sent = opts.json;
		return res;
	};
	return {
		send,
		get: (p, opts) => send('GET', p, opts),
		delete: (p, opts) => send('DELETE', p, opts),
		post: (p, json, opts = {}) => send('POST', p, { ...opts, json }),
		patch: (p, json, opts = {}) => send('PATCH', p, { ...opts, json }),
		put: (p, json, opts = {}) => send('PUT', p, { ...opts, json }),
		raw: base.raw,
	};
}

const gw = tracked(client(env.gatewayUrl));

// ---------------------------------------------------------------- the documents

const fileCache = new Map();
function loadFile(file) {
	if (!fileCache.has(file)) {
		const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'));
		assert.equal(doc.errors.length, 0, `${path.relative(repoRoot, file)} is not valid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
		fileCache.set(file, doc.toJS());
	}
	return fileCache.get(file);
}

function pointer(obj, ptr, where) {
	let v = obj;
	for (const raw of ptr.replace(/^#?\/?/, '').split('/').filter((s) => s !== '')) {
		const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
		assert.ok(v !== null && typeof v === 'object' && key in v, `unresolvable $ref ${where}`);
		v = v[key];
	}
	return v;
}

/** `node` with every $ref inlined (relative to `file`); throws on a $ref that does not resolve. */
function resolve(node, file, depth = 0) {
	assert.ok(depth < 64, `$ref nesting too deep in ${path.relative(repoRoot, file)} (a cycle?)`);
	if (Array.isArray(node)) return node.map((n) => resolve(n, file, depth + 1));
	if (node === null || typeof node !== 'object') return node;
	if (typeof node.$ref === 'string') {
		const [target, frag = ''] = node.$ref.split('#');
		const targetFile = target ? path.resolve(path.dirname(file), target) : file;
		const where = `'${node.$ref}' in ${path.relative(repoRoot, file)}`;
		assert.ok(fs.existsSync(targetFile), `unresolvable $ref ${where}: no file ${targetFile}`);
		const value = resolve(pointer(loadFile(targetFile), frag, where), targetFile, depth + 1);
		const { $ref, ...siblings } = node;
		const keys = Object.keys(siblings);
		if (keys.length === 0) return value;
		// A Reference Object's summary/description override the target's; in a
		// schema, other siblings constrain alongside it.
		if (keys.every((k) => k === 'description' || k === 'summary')) return { ...value, ...siblings };
		return { allOf: [value], ...resolve(siblings, file, depth + 1) };
	}
	return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v, file, depth + 1)]));
}

/** Every operation of docs/api/*.yaml: { id, file, method, template, regex, literal, base, responses }. */
function loadOperations() {
	const files = fs.readdirSync(apiDir).filter((f) => f.endsWith('.yaml')).sort();
	assert.ok(files.length >= 7, `docs/api/ must hold the gateway's and six services' documents, found ${files.join(', ')}`);
	const ops = [];
	for (const f of files) {
		const file = path.join(apiDir, f);
		const doc = loadFile(file);
		assert.match(String(doc.openapi), /^3\.1\./, `docs/api/${f} must be OpenAPI 3.1`);
		for (const [template, rawItem] of Object.entries(doc.paths ?? {})) {
			for (const method of METHODS) {
				const op = rawItem[method];
				if (!op) continue;
				const servers = op.servers ?? rawItem.servers ?? doc.servers ?? [];
				assert.equal(servers.length, 1, `docs/api/${f} ${method.toUpperCase()} ${template}: one server expected`);
				const base = serverBase[servers[0].url];
				assert.ok(base, `docs/api/${f} ${method.toUpperCase()} ${template}: unknown server ${servers[0].url}`);
				// A template parameter matches one segment; the gateway's
				// catch-alls (/{file}, /internal/{path}, /api/{unknown})
				// match the rest of the path too.
				const catchAll = f === 'gateway.yaml';
				const rx = template.split('/').map((seg) => (/^\{.+\}$/.test(seg) ? (catchAll ? '.+' : '[^/]+') : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
				const byKey = new Map();
				for (const prm of resolve([...(rawItem.parameters ?? []), ...(op.parameters ?? [])], file)) byKey.set(`${prm.in}:${prm.name}`, prm);
				ops.push({
					parameters: [...byKey.values()],
					requestBody: resolve(op.requestBody, file),
					catchAll: catchAll && /\{/.test(template),
					id: `${f} ${method.toUpperCase()} ${template}`,
					file,
					method,
					template,
					regex: new RegExp(`^${rx}$`),
					params: (template.match(/\{[^}]+\}/g) ?? []).length,
					base,
					responses: resolve(op.responses ?? {}, file),
				});
			}
		}
	}
	// The gateway's catch-alls answer only what no service owns: the
	// prefixes its routing table gives the services (the first two segments
	// of their documents' gateway paths, e.g. /api/orders).
	const owned = new Set(ops.filter((o) => !o.catchAll && o.base === env.gatewayUrl && !o.file.endsWith('gateway.yaml'))
		.map((o) => o.template.split('/').slice(0, 3).join('/')));
	const ownedBy = (p) => [...owned].some((prefix) => p === prefix || p.startsWith(`${prefix}/`));
	for (const o of ops) {
		if (!o.catchAll) continue;
		o.accepts = o.template.startsWith('/{')
			? (p) => !ownedBy(p) && !/^\/(api|internal)(\/|$)/.test(p) && !['/health', '/ready', '/metrics'].includes(p)
			: (p) => !ownedBy(p);
	}
	return ops;
}

// ---------------------------------------------------------------- matching an answer

let ajv;
let headerAjv;
const compiled = new Map();
function validator(schema, forHeaders = false) {
	const key = `${forHeaders}:${JSON.stringify(schema)}`;
	if (!compiled.has(key)) compiled.set(key, (forHeaders ? headerAjv : ajv).compile(schema));
	return compiled.get(key);
}
const ajvText = (v) => (v.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n    ');

let operations;
/** Operations that answered, by id (the coverage check at the end). */
const exercised = new Map();

/** The documented operation of (base URL, method, path). */
function operationOf(base, method, urlPath) {
	const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
	const candidates = operations.filter((o) => o.base === base && o.method === m && o.regex.test(urlPath) && (!o.accepts || o.accepts(urlPath)));
	candidates.sort((a, b) => a.params - b.params || b.template.length - a.template.length);
	return candidates[0];
}

/**
 * Checks one answer against its documented operation; returns a list of
 * mismatches (empty when it matches) and records the operation as
 * exercised.
 */
function mismatches(res) {
	const url = new URL(res.url);
	const base = `${url.protocol}//${url.host}`;
	const knownBase = Object.values(serverBase).find((b) => b.replace(/\/+$/, '') === base) ?? base;
	const op = operationOf(knownBase, res.method, url.pathname);
	const what = `${res.method} ${url.pathname}${url.search} -> ${res.status}`;
	if (!op) return [`${what}: no documented operation for ${res.method} ${url.pathname} on ${base}`];
	exercised.set(op.id, (exercised.get(op.id) ?? 0) + 1);
	const out = [];
	const doc = op.responses[String(res.status)] ?? op.responses[`${String(res.status)[0]}XX`] ?? op.responses.default;
	if (!doc) return [`${what}: status ${res.status} is not documented for ${op.id} (documented: ${Object.keys(op.responses).join(', ')})\n  ${show(res)}`];
	const where = `${what} (${op.id})`;
	// An accepted request must be one the document allows: every query
	// parameter documented and valid, the JSON body valid.
	if (res.status >= 200 && res.status < 300) {
		for (const [name, value] of url.searchParams) {
			const prm = op.parameters.find((x) => x.in === 'query' && x.name === name);
			if (!prm) {
				out.push(`${where}: the query parameter ${name} was accepted but is not documented`);
				continue;
			}
			const v = validator(prm.schema ?? {}, true);
			if (!v(prm.schema?.type === 'array' ? value.split(',') : value)) out.push(`${where}: ${name}=${value} was accepted but does not match its documented schema: ${ajvText(v)}`);
		}
		for (const prm of op.parameters.filter((x) => x.in === 'query' && x.required)) {
			if (!url.searchParams.has(prm.name)) out.push(`${where}: the required query parameter ${prm.name} was not sent, yet the request was accepted`);
		}
		if (res.sent !== undefined) {
			const schema = op.requestBody?.content?.['application/json']?.schema;
			if (!schema) out.push(`${where}: a JSON body was accepted but none is documented`);
			else {
				const v = validator(schema);
				if (!v(res.sent)) out.push(`${where}: the body ${JSON.stringify(res.sent)} was accepted but does not match the documented request body: ${ajvText(v)}`);
			}
		}
	}
	// headers
	for (const [name, h] of Object.entries(doc.headers ?? {})) {
		const value = res.headers.get(name);
		if (value === null) {
			if (h.required) out.push(`${where}: the required header ${name} is missing`);
			continue;
		}
		if (h.schema) {
			const v = validator(h.schema, true);
			if (!v(value)) out.push(`${where}: header ${name}: ${JSON.stringify(value)} does not match its schema: ${ajvText(v)}`);
		}
	}
	// content
	const content = doc.content ?? {};
	const types = Object.keys(content);
	if (types.length === 0) {
		if (res.bytes.length !== 0) out.push(`${where}: no body is documented, got ${res.bytes.length} bytes\n  ${show(res)}`);
		return out;
	}
	const media = types.includes(res.contentType) ? res.contentType : types.includes('*/*') ? '*/*' : undefined;
	if (!media) {
		out.push(`${where}: Content-Type ${res.headers.get('content-type')} is not documented (documented: ${types.join(', ')})\n  ${show(res)}`);
		return out;
	}
	const schema = content[media].schema;
	if (!schema) return out;
	let body;
	if (res.contentType === 'application/json' || res.contentType.endsWith('+json')) {
		if (res.jsonError !== undefined) {
			out.push(`${where}: the body is not JSON (${res.jsonError})\n  ${show(res)}`);
			return out;
		}
		body = res.body;
	} else {
		body = res.text;
	}
	if (schema.format === 'binary') return out;
	const v = validator(schema);
	if (!v(body)) out.push(`${where}: the body does not match the documented schema:\n    ${ajvText(v)}\n  ${show(res)}`);
	return out;
}

/** Asserts that every answer matches its documentation (all mismatches in one message). */
function assertDocumented(...answers) {
	const found = answers.flat().flatMap((res) => mismatches(res));
	assert.equal(found.length, 0, `answers that do not match docs/api/:\n${found.join('\n')}`);
}

/** Asserts status (the answer is still checked against the docs by assertDocumented). */
function expectStatus(res, status, what = '') {
	assert.equal(res.status, status, `${what ? `${what}: ` : ''}expected ${status}\n${show(res)}`);
	return res;
}

// ---------------------------------------------------------------- setup

let releaseBroker;
let releaseCatalog;
let products;
let product; // a throw-away product (stock 50)
let spare; // a second one, deleted by a test
let account; // { user, token, email, password }

const setup = once(async () => {
	for (const url of [env.gatewayUrl, env.productUrl, env.userUrl, env.cartUrl, env.orderUrl, env.paymentUrl, env.emailUrl]) await waitForHealthy(url);
	adminToken(); // fail early, with the key path, when the key is unusable
	internalToken();
	// strict (an unknown keyword is an error), but the documents' allOf parts
	// constrain members without repeating `type: object` (or `properties` for
	// a `required` of anyOf)
	ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
	addFormats(ajv);
	// header values are strings on the wire; their schemas say what they mean
	headerAjv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, coerceTypes: true });
	addFormats(headerAjv);
	operations = loadOperations();
	for (const o of operations) {
		// compile every documented schema now: a schema Ajv refuses is a bug of the docs
		for (const [media, c] of Object.entries(o.requestBody?.content ?? {})) {
			try {
				validator(c.schema);
			} catch (err) {
				throw new Error(`${o.id} request body ${media}: the schema does not compile: ${err.message}`, { cause: err });
			}
		}
		for (const prm of o.parameters) {
			try {
				validator(prm.schema ?? {}, true);
			} catch (err) {
				throw new Error(`${o.id} parameter ${prm.name}: the schema does not compile: ${err.message}`, { cause: err });
			}
		}
		for (const [status, r] of Object.entries(o.responses)) {
			for (const [media, c] of Object.entries(r.content ?? {})) {
				if (c.schema && c.schema.format !== 'binary') {
					try {
						validator(c.schema);
					} catch (err) {
						throw new Error(`${o.id} ${status} ${media}: the schema does not compile: ${err.message}`, { cause: err });
					}
				}
			}
		}
	}
	releaseBroker = await acquireBrokerLock('shared');
	releaseCatalog = await acquireCatalogLock();
	const cats = await getCategories(gw);
	assert.ok(cats.length > 0, 'the catalog needs at least one category');
	products = productFactory(gw, { tag: 'oapi', category: cats[0].slug });
	product = await products.create({ stock: 50, price_cents: 2500 });
	spare = await products.create({ stock: 1 });
});

/** it(name, fn) that awaits setup() first. */
const it = (name, fn) => nodeIt(name, async (t) => {
	await setup();
	return fn(t);
});

after(async () => {
	try {
		await products?.sweep();
	} finally {
		releaseCatalog?.();
		releaseBroker?.();
	}
});

/** POST /api/products of a throw-away product (swept at the end). */
async function createdAnswer(sku, over = {}) {
	const res = await gw.post('/api/products', {
		sku, name: `Itest oapi ${sku}`, description: 'created by openapi.test.mjs', category: product.category, price_cents: 100, stock: 1, ...over,
	}, { token: adminToken() });
	if (res.status === 201) products.created.add(res.body.id);
	return res;
}

// ---------------------------------------------------------------- the tests

describe('docs/api/ against real answers', { concurrency: false }, () => {
	it('the gateway: /health, /ready, /metrics, unrouted paths, the storefront', async () => {
		const answers = [
			expectStatus(await gw.get('/health'), 200),
			await gw.get('/ready'),
			expectStatus(await gw.get('/metrics'), 200),
			expectStatus(await gw.get('/internal/carts/x'), 404, '/internal/ is never routed'),
			expectStatus(await gw.get('/api/nothing-here'), 404),
			expectStatus(await gw.get('/api/categoriesx/deeper'), 404),
			await gw.get('/'),
			await gw.get('/some/app/page'),
			expectStatus(await gw.raw('GET', '/bad%zzescape'), 400),
		];
		assert.ok([200, 503].includes(answers[1].status), show(answers[1]));
		// a file of the storefront: a seeded product's picture, then again with its ETag
		const listing = expectStatus(await gw.get('/api/products?page_size=100'), 200);
		const image = listing.body.items.map((p) => p.image_url).find((u) => u.startsWith('/images/'));
		assert.ok(image, `the seed catalog has pictures under /images/\n${show(listing)}`);
		const file = expectStatus(await gw.get(image), 200);
		answers.push(file, expectStatus(await gw.get(image, { headers: { 'if-none-match': file.headers.get('etag') } }), 304));
		assertDocumented(answers);
	});

	it('each daemon directly: /health, /ready, /metrics', async () => {
		const answers = [];
		for (const base of [env.productUrl, env.userUrl, env.cartUrl, env.orderUrl, env.paymentUrl, env.emailUrl]) {
			const c = client(base);
			answers.push(expectStatus(await c.get('/health'), 200), await c.get('/ready'), expectStatus(await c.get('/metrics'), 200));
		}
		assertDocumented(answers);
	});

	it('catalog: list, search, filters, by id, 404, bad query, categories', async () => {
		const noSuch = crypto.randomUUID();
		assertDocumented(
			expectStatus(await gw.get('/api/products'), 200),
			expectStatus(await gw.get('/api/products?q=headphones&page_size=5'), 200),
			expectStatus(await gw.get(`/api/products?category=${product.category}&sort=price_asc&min_price_cents=0&max_price_cents=100000000&page=1&page_size=100`), 200),
			expectStatus(await gw.get('/api/products?q=keybord&sort=relevance'), 200),
			expectStatus(await gw.get(`/api/products/${product.id}`), 200),
			expectStatus(await gw.get(`/api/products/${noSuch}`), 404),
			expectStatus(await gw.get('/api/products/not-a-uuid'), 404),
			expectStatus(await gw.get('/api/products?foo=1&page=0'), 400),
			expectStatus(await gw.get('/api/products?sort=cheapest'), 400),
			expectStatus(await gw.get('/api/products?min_price_cents=9&max_price_cents=1'), 400),
			expectStatus(await gw.get('/api/categories'), 200),
		);
	});

	it('catalog admin: create 201, 409, 400, 415, 403, 401; patch; delete 204, 404', async () => {
		const sku = `ITEST-OAPI-${crypto.randomBytes(3).toString('hex')}`;
		const created = expectStatus(await createdAnswer(sku), 201);
		const customer = mintToken({ role: 'customer' });
		assertDocumented(
			created,
			expectStatus(await createdAnswer(sku), 409, 'duplicate sku'),
			expectStatus(await gw.post('/api/products', {}, { token: adminToken() }), 400),
			expectStatus(await gw.post('/api/products', { sku: 'x', id: 'read-only' }, { token: adminToken() }), 400),
			expectStatus(await gw.send('POST', '/api/products', { body: '{}', contentType: 'text/plain', token: adminToken() }), 415),
			expectStatus(await gw.post('/api/products', { sku }, { token: customer }), 403),
			expectStatus(await gw.post('/api/products', { sku }), 401),
			expectStatus(await gw.patch(`/api/products/${created.body.id}`, { price_cents: 150, stock: 2 }, { token: adminToken() }), 200),
			expectStatus(await gw.patch(`/api/products/${created.body.id}`, {}, { token: adminToken() }), 400),
			expectStatus(await gw.patch(`/api/products/${crypto.randomUUID()}`, { stock: 1 }, { token: adminToken() }), 404),
			expectStatus(await gw.delete(`/api/products/${spare.id}`, { token: adminToken() }), 204),
			expectStatus(await gw.delete(`/api/products/${spare.id}`, { token: adminToken() }), 404),
			expectStatus(await gw.delete(`/api/products/${spare.id}`, { token: customer }), 403),
		);
		products.created.delete(spare.id);
	});

	it('accounts: register 201, 409, 400, 415; login 200, 401, 400; me; PATCH me; JWKS', async () => {
		const email = newEmail('oapi');
		const password = rememberSecret(newPassword());
		const name = newName('OpenAPI');
		const reg = expectStatus(await gw.post('/api/auth/register', { email, password, name }), 201);
		account = { token: reg.body.access_token, email, password, user: reg.body.user };
		assertDocumented(
			reg,
			expectStatus(await gw.post('/api/auth/register', { email: email.toUpperCase(), password, name }), 409),
			expectStatus(await gw.post('/api/auth/register', { email: 'not-an-email', password: 'short', name: ' ', role: 'admin' }), 400),
			expectStatus(await gw.send('POST', '/api/auth/register', { body: '{"email":', contentType: 'application/json' }), 400),
			expectStatus(await gw.send('POST', '/api/auth/register', { body: JSON.stringify({ email, password, name }), contentType: 'text/plain' }), 415),
			expectStatus(await gw.post('/api/auth/login', { email, password }, { retry429: false }), 200),
			expectStatus(await gw.post('/api/auth/login', { email, password: `${password}-wrong` }, { retry429: false }), 401),
			expectStatus(await gw.post('/api/auth/login', { email: 'nope', password: '' }, { retry429: false }), 400),
			expectStatus(await gw.get('/api/users/me', { token: account.token }), 200),
			expectStatus(await gw.patch('/api/users/me', { name: `${name} Renamed` }, { token: account.token }), 200),
			expectStatus(await gw.patch('/api/users/me', {}, { token: account.token }), 400),
			expectStatus(await gw.patch('/api/users/me', { password: 'a brand new one' }, { token: account.token }), 400),
			expectStatus(await gw.get('/.well-known/jwks.json'), 200),
		);
	});

	it('unauthenticated: 401 from the gateway on every protected service', async () => {
		const answers = [];
		for (const p of ['/api/users/me', '/api/cart', '/api/orders', '/api/payments', '/api/emails']) {
			answers.push(expectStatus(await gw.get(p), 401, `${p} without a token`));
			answers.push(expectStatus(await gw.get(p, { token: 'not.a.token' }), 401, `${p} with garbage`));
		}
		answers.push(expectStatus(await gw.post('/api/auth/logout', undefined), 401));
		for (const r of answers) assert.ok(r.headers.get('www-authenticate')?.startsWith('Bearer'), `a 401 carries WWW-Authenticate\n${show(r)}`);
		assertDocumented(answers);
	});

	let orderId;
	let orderToken;
	it('cart: read, add, 409, 404, 400, set, remove, clear', async () => {
		assert.ok(account, 'the accounts test registers the user');
		const t = account.token;
		const noSuch = crypto.randomUUID();
		assertDocumented(
			expectStatus(await gw.get('/api/cart', { token: t }), 200),
			expectStatus(await gw.post('/api/cart/items', { product_id: product.id, quantity: 2 }, { token: t }), 200),
			expectStatus(await gw.post('/api/cart/items', { product_id: product.id, quantity: 60 }, { token: t }), 409, 'more than in stock'),
			expectStatus(await gw.post('/api/cart/items', { product_id: noSuch, quantity: 1 }, { token: t }), 404),
			expectStatus(await gw.post('/api/cart/items', { product_id: 'x', quantity: 0, colour: 'red' }, { token: t }), 400),
			expectStatus(await gw.put(`/api/cart/items/${product.id}`, { quantity: 3 }, { token: t }), 200),
			expectStatus(await gw.put(`/api/cart/items/${noSuch}`, { quantity: 1 }, { token: t }), 404),
			expectStatus(await gw.put(`/api/cart/items/${product.id}`, { quantity: 1.5 }, { token: t }), 400),
			expectStatus(await gw.delete(`/api/cart/items/${noSuch}`, { token: t }), 404),
			expectStatus(await gw.delete(`/api/cart/items/${product.id}`, { token: t }), 200),
			expectStatus(await gw.delete('/api/cart', { token: t }), 204),
			expectStatus(await gw.get('/api/cart', { token: t }), 200),
			expectStatus(await gw.post('/api/cart/items', { product_id: product.id, quantity: 1 }, { token: t }), 200),
		);
	});

	it('order: 201 pending with Location, replayed, 422, 400; lists; GET until confirmed', async () => {
		assert.ok(account, 'the accounts test registers the user');
		orderToken = account.token;
		const key = `itest-oapi-${crypto.randomUUID()}`;
		const body = { payment_token: 'tok_visa', shipping_address: ADDRESS };
		const placed = expectStatus(await gw.post('/api/orders', body, { token: orderToken, headers: { 'idempotency-key': key } }), 201);
		assert.equal(placed.body.status, 'pending', show(placed));
		orderId = placed.body.id;
		const replayed = expectStatus(await gw.post('/api/orders', body, { token: orderToken, headers: { 'idempotency-key': key } }), 201);
		assert.equal(replayed.headers.get('idempotent-replayed'), 'true', show(replayed));
		const empty = mintToken({ role: 'customer' }); // a user with no cart
		const answers = [
			placed,
			replayed,
			expectStatus(await gw.post('/api/orders', { ...body, payment_token: 'tok_mastercard' }, { token: orderToken, headers: { 'idempotency-key': key } }), 422, 'key reused'),
			expectStatus(await gw.post('/api/orders', body, { token: empty }), 422, 'empty cart'),
			expectStatus(await gw.post('/api/orders', { payment_token: 'tok_bogus', shipping_address: { ...ADDRESS, country: 'de', zip: '1' } }, { token: orderToken }), 400),
			expectStatus(await gw.post('/api/orders', body, { token: orderToken, headers: { 'idempotency-key': 'has space' } }), 400),
			expectStatus(await gw.get('/api/orders?page=1&page_size=5', { token: orderToken }), 200),
			expectStatus(await gw.get('/api/orders?page_size=0&x=1', { token: orderToken }), 400),
			expectStatus(await gw.get(`/api/orders/${crypto.randomUUID()}`, { token: orderToken }), 404),
			expectStatus(await gw.get(`/api/orders/${orderId}`, { token: empty }), 404, "another user's order"),
		];
		const deadline = Date.now() + SAGA_TIMEOUT_MS;
		let last;
		for (;;) {
			last = expectStatus(await gw.get(`/api/orders/${orderId}`, { token: orderToken }), 200);
			answers.push(last);
			if (last.body?.status !== 'pending') break;
			assert.ok(Date.now() < deadline, `order ${orderId} is still pending after ${SAGA_TIMEOUT_MS} ms\n${show(last)}`);
			await sleep(200);
		}
		assert.equal(last.body.status, 'confirmed', `a tok_visa order is confirmed\n${show(last)}`);
		assertDocumented(answers);
	});

	it('payments and emails once the saga has run', async () => {
		assert.ok(orderId, 'the order test placed an order');
		const t = orderToken;
		const answers = [];
		const list = expectStatus(await gw.get(`/api/payments?order_id=${orderId}`, { token: t }), 200);
		answers.push(list);
		assert.equal(list.body?.items?.length, 1, `one payment for the order\n${show(list)}`);
		const paymentId = list.body.items[0].id;
		answers.push(
			expectStatus(await gw.get('/api/payments?page=1&page_size=10', { token: t }), 200),
			expectStatus(await gw.get(`/api/payments/${paymentId}`, { token: t }), 200),
			expectStatus(await gw.get(`/api/payments/${paymentId}?x=1`, { token: t }), 400),
			expectStatus(await gw.get(`/api/payments/${crypto.randomUUID()}`, { token: t }), 404),
			expectStatus(await gw.get('/api/payments?order_id=nope&page=0', { token: t }), 400),
			expectStatus(await gw.get('/api/payments', { token: adminToken() }), 200),
		);
		// The confirmation mail is recorded by the email daemon's consumer.
		const deadline = Date.now() + SAGA_TIMEOUT_MS;
		for (;;) {
			const mails = expectStatus(await gw.get(`/api/emails?order_id=${orderId}`, { token: t }), 200);
			answers.push(mails);
			if (mails.body?.items?.some((m) => m.kind === 'order_confirmed')) break;
			assert.ok(Date.now() < deadline, `no order_confirmed mail for ${orderId} within ${SAGA_TIMEOUT_MS} ms\n${show(mails)}`);
			await sleep(200);
		}
		answers.push(
			expectStatus(await gw.get('/api/emails?page=1&page_size=5', { token: t }), 200),
			expectStatus(await gw.get('/api/emails?order_id=x&order_id=y', { token: t }), 400),
			expectStatus(await gw.get('/api/emails?colour=red', { token: t }), 400),
		);
		assertDocumented(answers);
	});

	it('logout: 204, then the token is refused', async () => {
		assert.ok(account, 'the accounts test registers the user');
		assertDocumented(
			expectStatus(await gw.post('/api/auth/logout', undefined, { token: account.token }), 204),
			expectStatus(await gw.get('/api/users/me', { token: account.token }), 401, 'a logged-out token'),
			expectStatus(await gw.post('/api/auth/logout', undefined, { token: account.token }), 401),
		);
	});

	it('the /internal/ routes, on the daemons, with and without the internal token', async () => {
		const product8004 = tracked(client(env.productUrl));
		const cart8006 = tracked(client(env.cartUrl));
		const it_ = { 'x-internal-token': internalToken() };
		const user = crypto.randomUUID();
		assertDocumented(
			expectStatus(await product8004.get(`/internal/products?ids=${product.id},${crypto.randomUUID()}`, { headers: it_ }), 200),
			expectStatus(await product8004.get(`/internal/products?ids=${product.id}`), 401),
			expectStatus(await product8004.get('/internal/products?ids=nope', { headers: it_ }), 400),
			expectStatus(await product8004.post('/internal/reservations', { order_id: 'x', items: [] }, { headers: it_ }), 400),
			expectStatus(await product8004.post('/internal/reservations', { order_id: crypto.randomUUID(), items: [{ product_id: crypto.randomUUID(), quantity: 1 }] }, { headers: it_ }), 422, 'an unknown product'),
			expectStatus(await product8004.post('/internal/reservations', {}), 401),
			expectStatus(await product8004.delete(`/internal/reservations/${crypto.randomUUID()}`, { headers: it_ }), 204),
			expectStatus(await product8004.delete('/internal/reservations/not-a-uuid', { headers: it_ }), 404),
			expectStatus(await cart8006.get(`/internal/carts/${user}?prices=stored`, { headers: it_ }), 200),
			expectStatus(await cart8006.get(`/internal/carts/${user}?x=1`, { headers: it_ }), 400),
			expectStatus(await cart8006.get(`/internal/carts/${user}`), 401),
			expectStatus(await cart8006.get('/internal/carts/nope', { headers: it_ }), 404),
		);
	});

	it('every documented operation was exercised', () => {
		const missed = operations.filter((o) => !exercised.has(o.id)).map((o) => o.id);
		assert.deepEqual(missed, [], `documented operations no request of this file reached (add one): ${missed.join(', ')}`);
	});
});
