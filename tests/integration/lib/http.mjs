// A small HTTP helper over global fetch (and node:http for requests fetch
// cannot send as-is), and the assertions every test uses on answers.
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { env, describeEnv } from './env.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The media type of a Content-Type value, lower-cased, without parameters. */
export function mediaType(contentType) {
	return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function finish(method, url, status, headers, buf) {
	const text = buf.toString('utf8');
	const contentType = mediaType(headers.get('content-type'));
	const res = { method, url, status, headers, contentType, text, bytes: buf, body: undefined, jsonError: undefined };
	if (contentType === 'application/json' || contentType.endsWith('+json')) {
		try {
			res.body = JSON.parse(text);
		} catch (err) {
			res.jsonError = err.message;
		}
	}
	return res;
}

/** One line + the start of the body, to put in assertion messages. */
export function show(res) {
	if (!res) return '(no response)';
	const rid = res.headers?.get?.('x-request-id');
	const snippet = res.text.length > 1200 ? `${res.text.slice(0, 1200)}... (${res.text.length} chars)` : res.text;
	return `${res.method} ${res.url} -> ${res.status} ${res.headers?.get?.('content-type') ?? ''}` +
		`${rid ? ` [X-Request-ID ${rid}]` : ''}\n${snippet}`;
}

function connectionHelp(url, err) {
	const cause = err?.cause?.code ?? err?.cause?.message ?? err?.code ?? err?.message;
	return new Error(`cannot reach ${url}: ${cause}. Is the fleet running? (${describeEnv()})`, { cause: err });
}

/**
 * Sends one request with fetch. Options:
 *   json         a value sent as the JSON body (Content-Type application/json)
 *   body         a raw body (string, Buffer/Uint8Array); with contentType
 *   contentType  Content-Type to send; null sends none (body sent as bytes)
 *   token        sends Authorization: Bearer <token>
 *   headers      extra headers
 *   retry429     retry (up to 3 times, honouring Retry-After up to 10 s)
 *                when rate-limited; default true
 * Returns { method, url, status, headers (Headers), contentType (media
 * type), text, bytes, body (parsed JSON for *json media types) }.
 */
export async function request(method, url, opts = {}) {
	const headers = new Headers(opts.headers ?? {});
	let body;
	if (opts.json !== undefined) {
		body = JSON.stringify(opts.json);
		if (!headers.has('content-type') && opts.contentType !== null) headers.set('content-type', opts.contentType ?? 'application/json');
	} else if (opts.body !== undefined) {
		body = opts.body;
		if (opts.contentType) headers.set('content-type', opts.contentType);
	}
	if (opts.contentType === null && typeof body === 'string') body = Buffer.from(body); // fetch adds text/plain to strings
	if (opts.token !== undefined) headers.set('authorization', `Bearer ${opts.token}`);
	const retries = opts.retry429 === false ? 0 : 3;
	for (let attempt = 0; ; attempt++) {
		let r;
		try {
			r = await fetch(url, {
				method,
				headers,
				body,
				redirect: 'manual',
				signal: AbortSignal.timeout(opts.timeoutMs ?? env.requestTimeoutMs),
			});
		} catch (err) {
			if (err?.name === 'TimeoutError') {
				throw new Error(`${method} ${url}: no answer within ${opts.timeoutMs ?? env.requestTimeoutMs} ms (a hang is a bug)`);
			}
			throw connectionHelp(url, err);
		}
		const buf = Buffer.from(await r.arrayBuffer());
		const res = finish(method, url, r.status, r.headers, buf);
		if (res.status === 429 && attempt < retries) {
			const wait = Math.min(Number(res.headers.get('retry-after')) || 1, 10);
			console.error(`# rate-limited (429) on ${method} ${url}; retrying in ${wait}s. Raise the test fleet's rate limits.`);
			await sleep(wait * 1000);
			continue;
		}
		return res;
	}
}

/**
 * Sends a request with node:http, the path written exactly as given (fetch
 * would normalise `/../` and `%2e%2e`). Tolerates a server that answers
 * before it has read the whole body (413) and then closes the connection.
 * Options: headers, body (string/Buffer), contentType.
 */
export function rawRequest(baseUrl, method, rawPath, opts = {}) {
	const base = new URL(baseUrl);
	const lib = base.protocol === 'https:' ? https : http;
	const headers = { ...(opts.headers ?? {}) };
	let body = opts.body;
	if (typeof body === 'string') body = Buffer.from(body);
	if (body) headers['content-length'] = String(body.length);
	if (opts.contentType) headers['content-type'] = opts.contentType;
	const url = `${baseUrl}${rawPath}`;
	const timeoutMs = opts.timeoutMs ?? env.requestTimeoutMs;
	return new Promise((resolve, reject) => {
		let settled = false;
		let gotResponse = false;
		const done = (fn, v) => {
			if (!settled) {
				settled = true;
				fn(v);
			}
		};
		const req = lib.request({
			protocol: base.protocol,
			hostname: base.hostname,
			port: base.port,
			method,
			path: rawPath,
			headers,
			agent: false,
		});
		req.setTimeout(timeoutMs, () => {
			req.destroy();
			done(reject, new Error(`${method} ${url}: no answer within ${timeoutMs} ms (a hang is a bug)`));
		});
		req.on('response', (r) => {
			gotResponse = true;
			const chunks = [];
			const end = () => {
				const h = new Headers();
				for (const [k, v] of Object.entries(r.headers)) {
					for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
				}
				done(resolve, finish(method, url, r.statusCode, h, Buffer.concat(chunks)));
				req.destroy();
			};
			r.on('data', (c) => chunks.push(c));
			r.on('end', end);
			r.on('close', end);
			r.on('error', end);
		});
		req.on('error', (err) => {
			if (gotResponse) return;
			const early = body && ['EPIPE', 'ECONNRESET'].includes(err.code)
				? ' — the server dropped the connection while the body was being sent, without an answer; ' +
					'it must answer (e.g. 413 problem+json) and close gracefully (read or drain the body, or lingering close)'
				: '';
			done(reject, err.code === 'ECONNREFUSED' ? connectionHelp(url, err) : new Error(`${method} ${url}: ${err.code ?? err.message}${early}`, { cause: err }));
		});
		if (body) {
			req.write(body, () => {});
		}
		req.end();
	});
}

/** A client bound to one base URL: gw.get('/api/products'), ... */
export function client(baseUrl) {
	const send = (method, path, opts) => request(method, `${baseUrl}${path}`, opts);
	return {
		baseUrl,
		send,
		get: (path, opts) => send('GET', path, opts),
		head: (path, opts) => send('HEAD', path, opts),
		delete: (path, opts) => send('DELETE', path, opts),
		post: (path, json, opts = {}) => send('POST', path, { ...opts, json }),
		patch: (path, json, opts = {}) => send('PATCH', path, { ...opts, json }),
		put: (path, json, opts = {}) => send('PUT', path, { ...opts, json }),
		raw: (method, rawPath, opts) => rawRequest(baseUrl, method, rawPath, opts),
	};
}

/** Builds a query string from an object, keeping the given order. */
export function qs(params = {}) {
	const entries = Object.entries(params).filter(([, v]) => v !== undefined);
	if (entries.length === 0) return '';
	return `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
}

/** Asserts the status code, showing the answer when it differs. */
export function assertStatus(res, status, what = '') {
	assert.equal(res.status, status, `${what ? `${what}: ` : ''}expected HTTP ${status}, got ${res.status}\n${show(res)}`);
}

/** Asserts `status` with a JSON body (application/json); returns the body. */
export function assertJson(res, status, what = '') {
	assertStatus(res, status, what);
	assert.equal(res.contentType, 'application/json', `${what ? `${what}: ` : ''}expected Content-Type application/json\n${show(res)}`);
	assert.equal(res.jsonError, undefined, `body is not valid JSON (${res.jsonError})\n${show(res)}`);
	return res.body;
}

/**
 * Asserts an RFC 9457 problem: the status, Content-Type
 * application/problem+json, a body with string `type` and `title`, numeric
 * `status` equal to the HTTP status and a non-empty `detail`; when `field`
 * is given (a name or a list of acceptable names), that `errors` is a list
 * of {field, message} naming it. Returns the body.
 */
export function assertProblem(res, status, { field, what = '' } = {}) {
	const pre = what ? `${what}: ` : '';
	assertStatus(res, status, what);
	assert.equal(res.contentType, 'application/problem+json', `${pre}expected Content-Type application/problem+json\n${show(res)}`);
	assert.equal(res.jsonError, undefined, `${pre}problem body is not valid JSON (${res.jsonError})\n${show(res)}`);
	const p = res.body;
	assert.ok(p !== null && typeof p === 'object' && !Array.isArray(p), `${pre}problem body must be a JSON object\n${show(res)}`);
	assert.ok(typeof p.type === 'string' && p.type.length > 0, `${pre}problem 'type' must be a non-empty string (a URI reference, e.g. about:blank)\n${show(res)}`);
	assert.ok(typeof p.title === 'string' && p.title.length > 0, `${pre}problem 'title' must be a non-empty string\n${show(res)}`);
	assert.equal(p.status, status, `${pre}problem 'status' must equal the HTTP status ${status}\n${show(res)}`);
	assert.ok(typeof p.detail === 'string' && p.detail.trim().length > 0, `${pre}problem 'detail' must be a non-empty string\n${show(res)}`);
	if (p.errors !== undefined || field !== undefined) {
		assert.ok(Array.isArray(p.errors), `${pre}problem 'errors' must be a list of {field, message}\n${show(res)}`);
		for (const e of p.errors) {
			assert.ok(e && typeof e.field === 'string' && typeof e.message === 'string' && e.message.length > 0,
				`${pre}every entry of 'errors' must be {field: string, message: non-empty string}\n${show(res)}`);
		}
	}
	if (field !== undefined) {
		const wanted = Array.isArray(field) ? field : [field];
		assert.ok(p.errors.some((e) => wanted.includes(e.field)),
			`${pre}problem 'errors' must name the field ${wanted.map((f) => `'${f}'`).join(' or ')}; ` +
				`it names ${JSON.stringify(p.errors.map((e) => e.field))}\n${show(res)}`);
	}
	return p;
}

/**
 * Waits (up to `ms`) until `${baseUrl}/health` answers 200, so a fleet that
 * is still starting does not fail the first test; throws a helpful error.
 */
export async function waitForHealthy(baseUrl, ms = 20000) {
	const deadline = Date.now() + ms;
	let last;
	for (;;) {
		try {
			const res = await request('GET', `${baseUrl}/health`, { timeoutMs: 3000, retry429: false });
			if (res.status === 200) return;
			last = new Error(`GET ${baseUrl}/health answered ${res.status}\n${show(res)}`);
		} catch (err) {
			last = err;
		}
		if (Date.now() > deadline) {
			throw new Error(`the fleet is not healthy after ${ms} ms: ${last.message}`, { cause: last });
		}
		await sleep(250);
	}
}

/**
 * Memoises an async setup so each test can await it: when it fails (fleet
 * down, key missing), every test fails with its message (a failed
 * before-hook would only cancel them, and cancelled tests count as neither
 * passed nor failed).
 */
export function once(fn) {
	let p;
	return () => (p ??= fn());
}

/**
 * An `it` that awaits `setup()` before the test body, with the same
 * signature as node:test's it(name, fn).
 */
export function itAfter(setup, nodeIt) {
	return (name, fn) => nodeIt(name, async (t) => {
		await setup();
		return fn(t);
	});
}
