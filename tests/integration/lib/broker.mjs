// RabbitMQ for the event tests, with no AMQP client: the management HTTP
// API (SHOP_RABBITMQ_MGMT_URL, guest/guest) to declare a throw-away queue
// bound to shop.events and to take messages off it; scripts/rabbitmqctl.sh
// to stop and start the broker's application (broker-outage.test.mjs); and
// a fleet-wide readers-writer lock so that the broker outage never overlaps
// a test that needs the broker (events, /ready = 200).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { env, repoRoot } from './env.mjs';
import { request, show } from './http.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const EXCHANGE = 'shop.events';
/** How long an event may take from the request that caused it to the queue. */
export const eventTimeoutMs = Number(process.env.SHOP_EVENT_TIMEOUT_MS) || 10000;

// ---------------------------------------------------------------- management API

const mgmt = (() => {
	const u = new URL(env.rabbitMgmtUrl);
	const user = decodeURIComponent(u.username) || 'guest';
	const pass = decodeURIComponent(u.password) || 'guest';
	u.username = '';
	u.password = '';
	return {
		base: u.toString().replace(/\/+$/, ''),
		auth: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
	};
})();

const enc = encodeURIComponent;

/** One call to the management API: mgmtApi('GET', '/api/overview'). */
export function mgmtApi(method, apiPath, json, opts = {}) {
	return request(method, `${mgmt.base}${apiPath}`, {
		headers: { authorization: mgmt.auth },
		json,
		retry429: false,
		timeoutMs: opts.timeoutMs ?? env.requestTimeoutMs,
	});
}

/** Asserts a management API answer is 2xx; returns it. */
function ok(res, what) {
	assert.ok(res.status >= 200 && res.status < 300, `RabbitMQ management API: ${what} failed\n${show(res)}`);
	return res;
}

/** The node name the management API runs on (e.g. shop-test@localhost). */
export async function brokerNode() {
	const res = ok(await mgmtApi('GET', '/api/overview'), 'GET /api/overview');
	return res.body?.node;
}

/**
 * Declares a durable classic queue `itest.<tag>-<random>` (x-expires: a
 * safety net should the test die before deleting it) bound to shop.events
 * with each routing key; returns its name.
 */
export async function declareTestQueue(tag, routingKeys) {
	const name = `itest.${tag}-${crypto.randomBytes(4).toString('hex')}`;
	ok(await mgmtApi('PUT', `/api/queues/%2F/${enc(name)}`, {
		durable: true,
		auto_delete: false,
		arguments: { 'x-queue-type': 'classic', 'x-expires': 30 * 60 * 1000 },
	}), `declare queue ${name}`);
	for (const key of routingKeys) {
		ok(await mgmtApi('POST', `/api/bindings/%2F/e/${enc(EXCHANGE)}/q/${enc(name)}`, { routing_key: key, arguments: {} }),
			`bind ${name} to ${EXCHANGE} with ${key}`);
	}
	return name;
}

/** Deletes a queue (no error when it is already gone). */
export async function deleteQueue(name) {
	const res = await mgmtApi('DELETE', `/api/queues/%2F/${enc(name)}`);
	if (res.status !== 204 && res.status !== 404 && !(res.status >= 200 && res.status < 300)) {
		console.error(`# could not delete queue ${name}: ${show(res)}`);
	}
}

/**
 * Takes up to `count` messages off the queue (acknowledged, not requeued).
 * Returns [{ routingKey, exchange, redelivered, properties, payload (the
 * text), body (parsed JSON or undefined), jsonError }].
 */
export async function takeMessages(queue, count = 100) {
	const res = ok(await mgmtApi('POST', `/api/queues/%2F/${enc(queue)}/get`, {
		count,
		ackmode: 'ack_requeue_false',
		encoding: 'auto',
		truncate: 1000000,
	}), `get from ${queue}`);
	assert.ok(Array.isArray(res.body), `get from ${queue}: expected a JSON list\n${show(res)}`);
	return res.body.map((m) => {
		const payload = m.payload_encoding === 'base64' ? Buffer.from(m.payload, 'base64').toString('utf8') : m.payload;
		let body;
		let jsonError;
		try {
			body = JSON.parse(payload);
		} catch (err) {
			jsonError = err.message;
		}
		return { routingKey: m.routing_key, exchange: m.exchange, redelivered: m.redelivered, properties: m.properties ?? {}, payload, body, jsonError };
	});
}

/**
 * Polls the queue (every 200 ms) until `done(all messages so far)` is true
 * or `timeoutMs` passes; returns every message taken. `what` explains a
 * timeout. With `settleMs`, keeps draining that long after `done` to catch
 * duplicates and strays.
 */
export async function collectUntil(queue, done, { timeoutMs = eventTimeoutMs, settleMs = 0, what = 'the expected events' } = {}) {
	const all = [];
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		all.push(...(await takeMessages(queue)));
		if (done(all)) break;
		if (Date.now() > deadline) {
			const seen = all.map((m) => `${m.routingKey} ${m.payload.slice(0, 300)}`).join('\n  ');
			assert.fail(`${what} did not arrive on ${queue} within ${timeoutMs} ms; ${all.length} message(s) seen:\n  ${seen}`);
		}
		await sleep(200);
	}
	const settle = Date.now() + settleMs;
	while (Date.now() < settle) {
		await sleep(Math.min(250, Math.max(0, settle - Date.now())));
		all.push(...(await takeMessages(queue)));
	}
	return all;
}

/** Waits until the management API answers again (after start_app). */
export async function waitForManagement(ms = 60000) {
	const deadline = Date.now() + ms;
	let last = '';
	for (;;) {
		try {
			const res = await mgmtApi('GET', '/api/overview', undefined, { timeoutMs: 3000 });
			if (res.status === 200) return;
			last = `${res.status}`;
		} catch (err) {
			last = err.message;
		}
		assert.ok(Date.now() < deadline, `the RabbitMQ management API did not come back within ${ms} ms (${last})`);
		await sleep(250);
	}
}

/** Waits until the queue is back (after start_app, durable queues are recovered). */
export async function waitForQueue(name, ms = 30000) {
	const deadline = Date.now() + ms;
	for (;;) {
		const res = await mgmtApi('GET', `/api/queues/%2F/${enc(name)}`, undefined, { timeoutMs: 3000 }).catch((err) => ({ status: 0, text: err.message }));
		if (res.status === 200) return;
		assert.ok(Date.now() < deadline, `queue ${name} is not back ${ms} ms after the broker started (last answer ${res.status} ${String(res.text).slice(0, 200)})`);
		await sleep(250);
	}
}

// ---------------------------------------------------------------- rabbitmqctl

/**
 * Which fleet scripts/rabbitmqctl.sh must target, and the environment that
 * makes it target the fleet under test: FLEET=test with
 * SHOP_TEST_STATE=$SHOP_STATE_DIR when SHOP_STATE_DIR lies under
 * .state/test/ (the release and asan passes of test-all), else FLEET=dev
 * with SHOP_DEV_STATE=$SHOP_STATE_DIR. SHOP_FLEET=dev|test overrides the
 * guess. Ports come from the environment as the script reads them
 * (TEST_RABBIT_DIST_PORT, TEST_EPMD_PORT, ... for the test fleet).
 */
export function rabbitmqctlTarget() {
	const stateDir = path.resolve(env.stateDir);
	const testRoot = path.resolve((process.env.SHOP_TEST_STATE_ROOT ?? '').trim() || path.join(repoRoot, '.state', 'test'));
	const rel = path.relative(testRoot, stateDir);
	const underTest = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
	const fleet = (process.env.SHOP_FLEET ?? '').trim() || (underTest ? 'test' : 'dev');
	assert.ok(fleet === 'dev' || fleet === 'test', `SHOP_FLEET must be dev or test (is '${fleet}')`);
	const vars = fleet === 'test' ? { FLEET: 'test', SHOP_TEST_STATE: stateDir } : { FLEET: 'dev', SHOP_DEV_STATE: stateDir };
	return { fleet, node: `shop-${fleet}@localhost`, vars };
}

/** Runs scripts/rabbitmqctl.sh ARGS against the fleet under test; resolves { code, out }. */
export function rabbitmqctl(args, { timeoutMs = 90000 } = {}) {
	const { vars } = rabbitmqctlTarget();
	const script = path.join(repoRoot, 'scripts', 'rabbitmqctl.sh');
	return new Promise((resolve) => {
		execFile(script, args, { env: { ...process.env, ...vars }, timeout: timeoutMs, cwd: repoRoot }, (err, stdout, stderr) => {
			const code = err ? (typeof err.code === 'number' ? err.code : (err.killed ? `killed after ${timeoutMs} ms` : err.message)) : 0;
			resolve({ code, out: `${stdout}${stderr}`.trim() });
		});
	});
}

// ---------------------------------------------------------------- the broker lock

function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return err.code === 'EPERM';
	}
}

function ownerAlive(file) {
	try {
		const pid = Number(fs.readFileSync(file, 'utf8'));
		if (Number.isInteger(pid) && pid > 0) return alive(pid);
	} catch {
		return false; // gone
	}
	// no pid written yet: alive unless old
	try {
		return Date.now() - fs.statSync(file).mtimeMs < 10000;
	} catch {
		return false;
	}
}

function lockDir() {
	const root = fs.existsSync(env.stateDir) ? env.stateDir : os.tmpdir();
	const key = crypto.createHash('sha256').update(env.rabbitMgmtUrl).digest('hex').slice(0, 12);
	const dir = path.join(root, `itest-broker-${key}.lock`);
	fs.mkdirSync(dir, { recursive: true });
	return dir;
}

/** Runs fn() while holding the lock folder's mutex (a directory, held for microseconds). */
async function withMutex(dir, fn) {
	const m = path.join(dir, 'mutex');
	for (;;) {
		try {
			fs.mkdirSync(m);
			break;
		} catch (err) {
			if (err.code !== 'EEXIST') throw err;
			try {
				if (Date.now() - fs.statSync(m).mtimeMs > 5000) fs.rmSync(m, { recursive: true, force: true }); // its owner died inside
			} catch {
				/* gone: retry */
			}
			await sleep(20);
		}
	}
	try {
		return fn();
	} finally {
		fs.rmSync(m, { recursive: true, force: true });
	}
}

/**
 * Takes the fleet's broker lock (keyed by SHOP_RABBITMQ_MGMT_URL, a folder
 * `itest-broker-<hash>.lock` in SHOP_STATE_DIR or the temp dir) and returns
 * a function that releases it.
 *   shared     any number of holders: tests that need the broker up (they
 *              read events, or assert /ready = 200)
 *   exclusive  one holder and no shared one: broker-outage.test.mjs, while
 *              it stops the broker. Once it waits, new shared holders wait
 *              for it (no starvation).
 * A process never holds shared while asking for exclusive, so no deadlock;
 * locks left by dead processes are taken over.
 */
export async function acquireBrokerLock(mode = 'shared', { timeoutMs = 5 * 60 * 1000 } = {}) {
	assert.ok(mode === 'shared' || mode === 'exclusive', `lock mode must be shared or exclusive, is ${mode}`);
	const dir = lockDir();
	const writer = path.join(dir, 'exclusive');
	const mine = mode === 'exclusive' ? writer : path.join(dir, `shared-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
	const deadline = Date.now() + timeoutMs;
	let released = false;
	const release = () => {
		if (released) return;
		released = true;
		fs.rmSync(mine, { force: true });
	};

	for (;;) {
		const got = await withMutex(dir, () => {
			if (fs.existsSync(writer)) {
				if (ownerAlive(writer)) return false;
				fs.rmSync(writer, { force: true }); // left by a dead process
			}
			fs.writeFileSync(mine, String(process.pid));
			return true;
		});
		if (got) break;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for the broker lock ${dir} (${mode}): the broker outage test holds it`);
		await sleep(100);
	}
	process.once('exit', release);

	if (mode === 'exclusive') {
		// Wait for the shared holders to leave (new ones now wait for us).
		for (;;) {
			const readers = fs.readdirSync(dir).filter((f) => f.startsWith('shared-')).map((f) => path.join(dir, f));
			const live = readers.filter((f) => {
				if (ownerAlive(f)) return true;
				fs.rmSync(f, { force: true });
				return false;
			});
			if (live.length === 0) break;
			if (Date.now() > deadline) {
				release();
				throw new Error(`timed out after ${timeoutMs} ms waiting for ${live.length} shared holder(s) of the broker lock ${dir}`);
			}
			await sleep(100);
		}
	}
	return release;
}
