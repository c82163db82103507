// The product daemon as an operator meets it: a bad configuration value
// stops it at once with one line naming the variable; SIGTERM stops it
// cleanly (exit 0, well within 10 s) after finishing what is in flight;
// and with Redis unresponsive it keeps serving from PostgreSQL, fast, while
// /ready says 503 and names Redis.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { env, repoRoot } from './lib/env.mjs';
import { client, assertJson, assertProblem } from './lib/http.mjs';
import { acquireCatalogLock } from './lib/catalog.mjs';

const buildDir = (process.env.SHOP_BUILD_DIR ?? '').trim() || path.join(repoRoot, 'build');
const binary = path.join(buildDir, 'services', 'product', 'shop-product');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Environment of a second product daemon on the test fleet's stores. */
function productEnv(extra = {}) {
	const need = ['SHOP_PRODUCT_DATABASE_URL', 'SHOP_REDIS_URL'];
	for (const n of need) assert.ok(process.env[n], `${n} must be set (scripts/test-all.sh sets it)`);
	return {
		PATH: process.env.PATH,
		HTTP_ADDRESS: '127.0.0.1',
		HTTP_PORT: '1', // overridden where the daemon really starts
		DATABASE_URL: process.env.SHOP_PRODUCT_DATABASE_URL,
		REDIS_URL: process.env.SHOP_REDIS_URL,
		// Serves the API only: no consumer to compete with the fleet's
		// (a stopped test daemon would sit on the fleet's events).
		CONSUMERS: '0',
		MIGRATIONS_DIR: path.join(repoRoot, 'services', 'product', 'migrations'),
		JWT_PUBLIC_KEY_FILE: env.jwtPublicKeyPath,
		INTERNAL_TOKEN_FILE: env.internalTokenPath,
		ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? '',
		UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? '',
		...extra,
	};
}

/** Runs the daemon; resolves with {code, signal, out, ms} when it exits. */
function run(envVars, { onLine } = {}) {
	const started = Date.now();
	const child = spawn(binary, [], { env: envVars, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	const feed = (chunk) => {
		const text = chunk.toString();
		out += text;
		if (onLine) for (const line of text.split('\n')) if (line) onLine(line, child);
	};
	child.stdout.on('data', feed);
	child.stderr.on('data', feed);
	const done = new Promise((resolve) => {
		child.on('exit', (code, signal) => resolve({ code, signal, out, ms: Date.now() - started }));
	});
	return { child, done, output: () => out };
}

async function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
		s.on('error', reject);
	});
}

/** Sends one command to Redis (RESP) and resolves with the raw reply. */
function redisCommand(url, ...args) {
	const u = new URL(url);
	return new Promise((resolve, reject) => {
		const sock = net.connect(Number(u.port || 6379), u.hostname);
		let reply = '';
		sock.on('connect', () => {
			sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
		});
		sock.on('data', (d) => {
			reply += d.toString();
			if (reply.endsWith('\r\n')) {
				sock.end();
				resolve(reply.trim());
			}
		});
		sock.on('error', reject);
	});
}

describe('product daemon configuration', () => {
	it('refuses a bad value with one line naming the variable, exit 2', async () => {
		assert.ok(fs.existsSync(binary), `no daemon binary at ${binary}`);
		for (const [name, value] of [['HTTP_PORT', 'eighty'], ['HTTP_THREADS', '-1'], ['CACHE_TTL_S', '0'], ['LOG_LEVEL', 'loud']]) {
			const { done } = run(productEnv({ [name]: value }));
			const r = await done;
			assert.equal(r.code, 2, `${name}=${value}: expected exit 2, got ${r.code} / ${r.signal}\n${r.out}`);
			assert.ok(r.ms < 5000, `${name}=${value}: took ${r.ms} ms to give up`);
			const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
			const named = lines.filter((l) => l.variable === name);
			assert.equal(named.length, 1, `${name}=${value}: expected one line naming ${name}:\n${r.out}`);
			assert.equal(named[0].level, 'error');
			assert.equal(named[0].value, value);
		}
	});

	it('refuses a JWT public key file that does not exist', async () => {
		const r = await run(productEnv({ JWT_PUBLIC_KEY_FILE: '/nonexistent/key.pem' })).done;
		assert.equal(r.code, 2, r.out);
		assert.match(r.out, /"variable":"JWT_PUBLIC_KEY_FILE"/);
	});
});

describe('product daemon lifecycle', () => {
	it('stops on SIGTERM with exit 0, finishing in-flight requests', async () => {
		const port = await freePort();
		const proc = run(productEnv({ HTTP_PORT: String(port) }));
		const base = `http://127.0.0.1:${port}`;
		const deadline = Date.now() + 20000;
		for (;;) {
			try {
				const r = await fetch(`${base}/health`);
				if (r.ok) break;
			} catch {
				/* not up yet */
			}
			assert.ok(Date.now() < deadline, `the daemon did not come up:\n${proc.output()}`);
			await sleep(100);
		}
		// Requests in flight when SIGTERM arrives still get their answer.
		const inflight = Array.from({ length: 20 }, () => fetch(`${base}/api/products?page_size=100`).then((r) => r.status));
		await sleep(5);
		proc.child.kill('SIGTERM');
		const statuses = await Promise.allSettled(inflight);
		const r = await proc.done;
		assert.equal(r.code, 0, `exit code ${r.code} / ${r.signal}\n${r.out}`);
		assert.ok(r.ms < 30000);
		for (const s of statuses) {
			// A request that had not reached the server before it stopped
			// listening may be refused; one that reached it is answered.
			if (s.status === 'fulfilled') assert.equal(s.value, 200);
		}
		assert.match(r.out, /"msg":"shutting down"/);
		assert.match(r.out, /"msg":"stopped"/);
		assert.doesNotMatch(r.out, /Sanitizer|runtime error:/);
	});
});

describe('product daemon without Redis', () => {
	const direct = client(env.productUrl);
	let release;
	after(async () => {
		await redisCommand(process.env.SHOP_REDIS_URL, 'CLIENT', 'UNPAUSE').catch(() => {});
		release?.();
	});

	it('keeps serving from PostgreSQL, fast, and /ready says 503 naming redis', async () => {
		release = await acquireCatalogLock();
		const list = assertJson(await direct.get('/api/products?page_size=100'), 200);
		// Products nobody has read yet are in no cache: each read below has to
		// try Redis, give up quickly, and answer from PostgreSQL.
		const ids = list.items.map((p) => p.id);
		assert.equal(await redisCommand(process.env.SHOP_REDIS_URL, 'CLIENT', 'PAUSE', '4000', 'ALL'), '+OK');
		const started = Date.now();
		for (const id of ids.slice(-10)) {
			const p = assertJson(await direct.get(`/api/products/${id}`), 200, 'GET by id with Redis paused');
			assert.equal(p.id, id);
		}
		const took = Date.now() - started;
		assert.ok(took < 2000, `10 reads took ${took} ms with Redis unresponsive: a dependency must fail fast`);
		const ready = await direct.get('/ready');
		assert.equal(ready.status, 503, `/ready with Redis paused: ${ready.text}`);
		assert.notEqual(ready.body.checks.redis, 'ok');
		assert.equal(ready.body.checks.database, 'ok');
		assertJson(await direct.get('/api/categories'), 200, 'categories with Redis paused');
		await redisCommand(process.env.SHOP_REDIS_URL, 'CLIENT', 'UNPAUSE');
		// Back to ready within a few retry intervals.
		const deadline = Date.now() + 10000;
		for (;;) {
			const r = await direct.get('/ready');
			if (r.status === 200) break;
			assert.ok(Date.now() < deadline, `/ready did not come back after Redis did: ${r.text}`);
			await sleep(200);
		}
	});

	it('an unknown product is still a 404 problem with Redis paused', async () => {
		assert.equal(await redisCommand(process.env.SHOP_REDIS_URL, 'CLIENT', 'PAUSE', '1500', 'ALL'), '+OK');
		assertProblem(await direct.get('/api/products/00000000-0000-4000-8000-000000000000'), 404);
		await redisCommand(process.env.SHOP_REDIS_URL, 'CLIENT', 'UNPAUSE');
	});
});
