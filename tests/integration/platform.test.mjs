// What every daemon and the gateway share: /health, /ready, /metrics,
// X-Request-ID, problem+json for unknown routes and methods, /internal/
// never routed, and the storefront served by the gateway (SPA fallback,
// product images, no path traversal).
import { describe, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { env } from './lib/env.mjs';
import { client, show, assertJson, assertProblem, assertStatus, waitForHealthy, once, itAfter } from './lib/http.mjs';
import { adminToken } from './lib/jwt.mjs';
import { acquireBrokerLock } from './lib/broker.mjs';

const gw = client(env.gatewayUrl);
const product = client(env.productUrl);
const targets = [
	{ label: 'gateway', http: gw, service: 'gateway' },
	{ label: 'product daemon (direct)', http: product, service: 'product' },
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const newRequestId = () => `itest-${crypto.randomUUID()}`;

const setup = once(async () => {
	await waitForHealthy(env.gatewayUrl);
	await waitForHealthy(env.productUrl);
});
const it = itAfter(setup, nodeIt);

describe('GET /health', () => {
	for (const { label, http, service } of targets) {
		it(`${label}: 200 {status:"ok", service:"${service}", version}`, async () => {
			const res = await http.get('/health');
			const body = assertJson(res, 200, `${label} /health`);
			assert.equal(body.status, 'ok', `${label} /health status\n${show(res)}`);
			assert.equal(body.service, service, `${label} /health must name its service\n${show(res)}`);
			assert.ok(typeof body.version === 'string' && body.version.length > 0, `${label} /health version must be a non-empty string\n${show(res)}`);
		});
	}
});

/**
 * The dependency entries of a /ready answer as [{ name, status }]. Accepted
 * layouts: a list or a name -> status (or name -> {status}) map under one of
 * checks / dependencies / deps / upstreams / components / services, or,
 * failing that, the top-level keys other than status / service / version.
 */
function readyEntries(body) {
	const statusOf = (v) => (v !== null && typeof v === 'object' ? (v.status ?? v.state ?? v.ok ?? v.healthy) : v);
	for (const key of ['checks', 'dependencies', 'deps', 'upstreams', 'components', 'services']) {
		const v = body[key];
		if (Array.isArray(v) && v.length > 0) {
			return v.map((e) => ({ name: String(e.name ?? e.dependency ?? e.service ?? e.upstream ?? e.id ?? JSON.stringify(e)), status: statusOf(e) }));
		}
		if (v && typeof v === 'object' && Object.keys(v).length > 0) {
			return Object.entries(v).map(([name, s]) => ({ name, status: statusOf(s) }));
		}
	}
	return Object.entries(body)
		.filter(([k]) => !['status', 'service', 'version', 'time', 'timestamp', 'uptime_s', 'uptime'].includes(k))
		.map(([name, s]) => ({ name, status: statusOf(s) }));
}
const isUp = (s) => s === true || /^(ok|up|ready|healthy|pass|passing)$/i.test(String(s));

describe('GET /ready', () => {
	const expectations = [
		{ label: 'product daemon (direct)', http: product, needs: [[/postgres|database|\bdb\b|_db|pg/i, 'its database'], [/redis|cache/i, 'Redis (its cache)']] },
		{ label: 'gateway', http: gw, needs: [[/product/i, 'the product upstream']] },
	];
	for (const { label, http, needs } of expectations) {
		it(`${label}: 200 with one entry per dependency, all up`, async (t) => {
			// Not while broker-outage.test.mjs has the broker down (lib/broker.mjs).
			const release = await acquireBrokerLock('shared');
			t.after(release);
			const res = await http.get('/ready');
			const body = assertJson(res, 200, `${label} /ready`);
			assert.ok(body && typeof body === 'object' && !Array.isArray(body), `${label} /ready must answer a JSON object\n${show(res)}`);
			const entries = readyEntries(body);
			assert.ok(entries.length > 0, `${label} /ready must list its dependencies\n${show(res)}`);
			for (const [re, what] of needs) {
				assert.ok(entries.some((e) => re.test(e.name)), `${label} /ready must have an entry for ${what}; entries: ${JSON.stringify(entries)}\n${show(res)}`);
			}
			for (const e of entries) {
				assert.ok(isUp(e.status), `${label} /ready answered 200 but dependency '${e.name}' is '${e.status}'\n${show(res)}`);
			}
		});
	}
});

describe('GET /metrics', () => {
	for (const { label, http } of targets) {
		it(`${label}: Prometheus text with http_requests_total{route,method,status} and the http_request_duration_seconds histogram`, async () => {
			await http.get('/api/categories'); // at least one counted API request
			const res = await http.get('/metrics');
			assertStatus(res, 200, `${label} /metrics`);
			assert.equal(res.contentType, 'text/plain', `${label} /metrics must be text/plain (Prometheus text exposition)\n${show(res)}`);
			const text = res.text;
			assert.match(text, /^http_requests_total[{ ]/m, `${label} /metrics must expose http_requests_total`);
			assert.match(text, /^http_request_duration_seconds/m, `${label} /metrics must expose http_request_duration_seconds`);
			assert.match(text, /^# TYPE http_requests_total counter$/m, `${label}: http_requests_total must be declared a counter`);
			assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m, `${label}: http_request_duration_seconds must be declared a histogram`);
			assert.match(text, /^http_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d/m, `${label}: the histogram needs a le="+Inf" bucket`);
			assert.match(text, /^http_request_duration_seconds_count[{ ]/m, `${label}: the histogram needs _count`);
			assert.match(text, /^http_request_duration_seconds_sum[{ ]/m, `${label}: the histogram needs _sum`);
			const samples = text.split('\n').filter((l) => l.startsWith('http_requests_total{'));
			for (const labelName of ['route', 'method', 'status']) {
				assert.ok(samples.some((l) => new RegExp(`[{,]\\s*${labelName}="[^"]*"`).test(l)), `${label}: http_requests_total samples must carry the label ${labelName}; samples:\n${samples.slice(0, 10).join('\n')}`);
			}
			assert.ok(samples.some((l) => /method="GET"/.test(l) && /status="200"/.test(l)), `${label}: a GET answered 200 must have been counted; samples:\n${samples.slice(0, 10).join('\n')}`);
		});
	}

	it('product daemon: the route label names the route that was called', async () => {
		await product.get('/api/categories');
		const text = (await product.get('/metrics')).text;
		const samples = text.split('\n').filter((l) => l.startsWith('http_requests_total{'));
		assert.ok(samples.some((l) => /route="[^"]*categories[^"]*"/.test(l)), `a sample with route="...categories..." must exist after GET /api/categories; samples:\n${samples.slice(0, 20).join('\n')}`);
	});
});

/** Log files under SHOP_STATE_DIR whose name mentions `service` (depth 4). */
function logFilesOf(service) {
	const out = [];
	const walk = (dir, depth) => {
		let entries;
		try {
			entries = fs.readdirSync(dir, { withFileTypes: true });
		} catch {
			return;
		}
		for (const e of entries) {
			const p = path.join(dir, e.name);
			if (e.isDirectory() && depth < 4 && !/^(pg|postgres|data|rabbitmq|redis|mnesia)/i.test(e.name)) walk(p, depth + 1);
			else if (e.isFile() && e.name.includes(service) && /\.(log|jsonl|out)$/.test(e.name)) out.push(p);
		}
	};
	walk(env.stateDir, 0);
	return out;
}

function tail(file, bytes = 4 * 1024 * 1024) {
	const fd = fs.openSync(file, 'r');
	try {
		const size = fs.fstatSync(fd).size;
		const start = Math.max(0, size - bytes);
		const buf = Buffer.alloc(size - start);
		fs.readSync(fd, buf, 0, buf.length, start);
		return buf.toString('utf8');
	} finally {
		fs.closeSync(fd);
	}
}

describe('X-Request-ID', () => {
	const routes = [
		['gateway', gw, '/health'],
		['gateway', gw, '/api/categories'],
		['gateway', gw, '/api/products?page_size=1'],
		['gateway', gw, '/api/no-such-route'],
		['gateway', gw, '/'],
		['product daemon (direct)', product, '/health'],
		['product daemon (direct)', product, '/api/categories'],
	];

	for (const [label, http, route] of routes) {
		it(`${label} ${route}: echoes the X-Request-ID sent, exactly once`, async () => {
			const id = newRequestId();
			const res = await http.get(route, { headers: { 'x-request-id': id } });
			assert.equal(res.headers.get('x-request-id'), id, `the answer must carry X-Request-ID ${id} (once, not duplicated by gateway and upstream)\n${show(res)}`);
		});
	}

	for (const [label, http, route] of routes) {
		it(`${label} ${route}: generates an X-Request-ID when none is sent`, async () => {
			const a = (await http.get(route)).headers.get('x-request-id');
			const b = (await http.get(route)).headers.get('x-request-id');
			assert.ok(a && a.trim().length > 0, `${label} ${route}: a generated X-Request-ID must be present`);
			assert.ok(!a.includes(','), `${label} ${route}: a single X-Request-ID, not a list ('${a}')`);
			assert.notEqual(a, b, `${label} ${route}: two requests must get two different ids`);
		});
	}

	it('the id sent to the gateway reaches the product service (its log line carries it)', async (t) => {
		const id = newRequestId();
		const res = await gw.get('/api/categories', { headers: { 'x-request-id': id } });
		assertJson(res, 200);
		assert.equal(res.headers.get('x-request-id'), id, `the gateway must hand back the product service's X-Request-ID ${id}\n${show(res)}`);
		const files = logFilesOf('product');
		if (files.length === 0) {
			t.skip(`no product log file under ${env.stateDir}; cannot see whether the product service logged ${id}`);
			return;
		}
		const deadline = Date.now() + 5000;
		for (;;) {
			if (files.some((f) => tail(f).includes(id))) return;
			if (Date.now() > deadline) {
				assert.fail(`the product service never logged request_id ${id} (looked in ${files.join(', ')}): the gateway must pass X-Request-ID on`);
			}
			await sleep(200);
		}
	});
});

describe('routing errors are problem+json', () => {
	for (const route of ['/api/no-such-route', '/api/', '/api/products/00000000-0000-0000-0000-000000000000/extra', '/api/categoriesx']) {
		it(`GET ${route} -> 404 problem (never the storefront)`, async () => {
			assertProblem(await gw.get(route), 404);
		});
	}

	const methodCases = [
		['PUT', '/api/categories', false, ['GET']],
		['DELETE', '/api/categories', true, ['GET']],
		['PUT', '/api/products', true, ['GET', 'POST']],
		['POST', `/api/products/${crypto.randomUUID()}`, true, ['GET', 'PATCH', 'DELETE']],
	];
	for (const [method, route, withToken, allowed] of methodCases) {
		it(`${method} ${route.replace(/[0-9a-f-]{36}$/, '{id}')}${withToken ? ' (admin token)' : ''} -> 405 problem with Allow: ${allowed.join(', ')}`, async () => {
			const opts = withToken ? { token: adminToken() } : {};
			if (method !== 'DELETE') opts.json = {};
			const res = await gw.send(method, route, opts);
			assertProblem(res, 405);
			const allow = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
			assert.ok(allow.length > 0, `405 must carry an Allow header\n${show(res)}`);
			for (const m of allowed) assert.ok(allow.includes(m), `Allow must include ${m}, is '${res.headers.get('allow')}'`);
			assert.ok(!allow.includes(method), `Allow must not include ${method}, is '${res.headers.get('allow')}'`);
		});
	}
});

describe('the gateway never routes /internal/', () => {
	const cases = [
		['GET', '/internal/anything'],
		['GET', '/internal/'],
		['POST', '/internal/reservations'],
		['GET', '/internal/products/00000000-0000-0000-0000-000000000000'],
	];
	for (const [method, route] of cases) {
		it(`${method} ${route} -> 404 problem`, async () => {
			const opts = method === 'POST' ? { json: { order_id: crypto.randomUUID(), items: [] } } : {};
			assertProblem(await gw.send(method, route, opts), 404);
		});
	}

	for (const raw of ['/api/../internal/reservations', '/api/%2e%2e/internal/reservations', '/api/products/../../internal/reservations']) {
		it(`${raw} (dot segments) does not reach an internal route`, async () => {
			const res = await gw.raw('GET', raw, { headers: { 'x-request-id': newRequestId() } });
			assert.ok([400, 404].includes(res.status), `expected 400 or 404, got ${res.status}\n${show(res)}`);
		});
	}
});

describe('storefront', () => {
	let index;
	const loadIndex = once(async () => {
		index = await gw.get('/');
	});
	const it = itAfter(loadIndex, itAfter(setup, nodeIt));

	it('GET / answers index.html (text/html)', () => {
		assertStatus(index, 200, 'GET /');
		assert.equal(index.contentType, 'text/html', `GET / must be text/html\n${show(index)}`);
		assert.match(index.text, /<!doctype html|<html/i, `GET / must be an HTML page\n${show(index)}`);
	});

	for (const route of ['/some/unknown/page', '/products/123', '/cart']) {
		it(`GET ${route} answers the same index.html (single-page app)`, async () => {
			const res = await gw.get(route);
			assertStatus(res, 200, `GET ${route}`);
			assert.equal(res.contentType, 'text/html', `GET ${route} must be text/html\n${show(res)}`);
			assert.equal(res.text, index.text, `GET ${route} must answer index.html`);
		});
	}

	it('GET a seeded product\'s image answers image/svg+xml', async () => {
		// One page, not a walk: the admin tests may be adding products meanwhile.
		const { items } = assertJson(await gw.get('/api/products?sort=name&page_size=100'), 200, 'GET /api/products');
		// A seeded product: not one the admin tests (sku ITEST-...) may be creating right now.
		const withImage = items.find((p) => !p.sku.startsWith('ITEST-') && /^\/images\/products\/[^/]+\.svg$/.test(p.image_url));
		assert.ok(withImage, `no product has an image_url like /images/products/<name>.svg; image_urls: ${JSON.stringify(items.slice(0, 5).map((p) => p.image_url))}`);
		const res = await gw.get(withImage.image_url);
		assertStatus(res, 200, `GET ${withImage.image_url}`);
		assert.equal(res.contentType, 'image/svg+xml', `${withImage.image_url} must be served as image/svg+xml\n${show(res)}`);
		assert.match(res.text, /<svg[\s>]/, `${withImage.image_url} must be an SVG document`);
	});

	const traversals = [
		'/../../etc/passwd',
		'/../../../../../../../../../../etc/passwd',
		'/%2e%2e/%2e%2e/etc/passwd',
		'/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
		'/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd',
		'/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
		'/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
		'/.%2e/.%2e/.%2e/.%2e/etc/passwd',
		'/%252e%252e/%252e%252e/%252e%252e/etc/passwd',
		'/..%5c..%5c..%5c..%5cetc%5cpasswd',
		'/images/../../../../../../../etc/passwd',
		'/images/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
		'/images/products/..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
		'/images/%00/../../etc/passwd',
		'//etc/passwd',
		'/%2fetc%2fpasswd',
		'/../../CMakeLists.txt',
		'/%2e%2e/%2e%2e/CMakeLists.txt',
		'/../package.json',
		'/%2e%2e/package.json',
		'/../../.gitignore',
	];
	for (const raw of traversals) {
		it(`GET ${raw} never returns a file outside the static folder`, async () => {
			const res = await gw.raw('GET', raw);
			assert.ok(res.status < 500, `a traversal attempt must not crash or 5xx\n${show(res)}`);
			assert.doesNotMatch(res.text, /root:[^:\n]*:0:0:/, `served /etc/passwd!\n${show(res)}`);
			assert.doesNotMatch(res.text, /cmake_minimum_required|"devDependencies"|^\/\.state\/$/m, `served a repository file!\n${show(res)}`);
			if (res.status >= 200 && res.status < 300) {
				assert.equal(res.text, index.text, `a 2xx answer to a traversal attempt may only be index.html\n${show(res)}`);
			} else {
				assert.ok(res.status >= 300 && res.status < 500, `expected index.html, a redirect or a 4xx\n${show(res)}`);
			}
		});
	}

	it('the gateway is still healthy after the traversal attempts', async () => {
		assertJson(await gw.get('/health'), 200);
	});
});
