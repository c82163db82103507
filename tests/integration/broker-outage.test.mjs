// Losing the broker loses nothing (EVENTS.md "Delivery rules"): with a
// durable queue bound to user.registered, RabbitMQ's application is stopped
// (scripts/rabbitmqctl.sh stop_app), users register meanwhile (201 at once:
// the outbox decouples the request from the broker) and the user daemon's
// /ready says 503 naming the broker; once the broker is started again
// (start_app) every one of those user.registered arrives, exactly once (by
// event_id), and /ready is 200 again.
//
// The broker is the fleet's: this file takes the broker lock exclusively
// (lib/broker.mjs) so that no test that reads events or expects /ready = 200
// runs meanwhile, checks that rabbitmqctl targets the very node behind
// SHOP_RABBITMQ_MGMT_URL, and always starts the broker again (finally, after
// hook, and a synchronous last resort on exit).
//
// Which fleet: derived from SHOP_STATE_DIR (under .state/test/ -> FLEET=test
// with SHOP_TEST_STATE=$SHOP_STATE_DIR, else FLEET=dev with
// SHOP_DEV_STATE=$SHOP_STATE_DIR), SHOP_FLEET=dev|test overrides. On a dev
// fleet it only runs with SHOP_BROKER_OUTAGE=1: stopping the broker of a
// fleet people are working with is not done behind their backs.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { env, repoRoot } from './lib/env.mjs';
import { show, assertJson, waitForHealthy } from './lib/http.mjs';
import { guardedClient, registerUser, runId } from './lib/users.mjs';
import {
	acquireBrokerLock, brokerNode, collectUntil, declareTestQueue, deleteQueue, rabbitmqctl, rabbitmqctlTarget, waitForManagement, waitForQueue,
} from './lib/broker.mjs';
import { assertEnvelope, ajvErrors, compileSchema } from './lib/events.mjs';
import { BROKER_RE, isUp, pollReady, readyEntries } from './lib/platform.mjs';

const gw = guardedClient(env.gatewayUrl);
const USERS = 5;
/** After start_app: how long the relay may take to reconnect and drain the outbox. */
const drainTimeoutMs = Number(process.env.SHOP_OUTAGE_DRAIN_TIMEOUT_MS) || 30000;

let stopped = false; // the broker's app is down because of us
let release;
let queue;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * start_app, retried: a start that fails half-way (e.g. a listener port
 * taken for a moment) leaves the app half up, so a retry is stop_app then
 * start_app. Returns the last { code, out }.
 */
async function startBroker(why) {
	if (!stopped) return { code: 0, out: '' };
	let r;
	for (let attempt = 1; attempt <= 3; attempt++) {
		if (attempt > 1) {
			await sleep(2000);
			await rabbitmqctl(['stop_app']);
		}
		r = await rabbitmqctl(['start_app']);
		if (r.code === 0) {
			stopped = false;
			return r;
		}
		console.error(`# rabbitmqctl start_app (${why}, attempt ${attempt}) exited ${r.code}:\n${r.out}`);
	}
	return r;
}

// Last resort (the process is ending with the broker still down): start it
// synchronously, so a crash of this file never leaves the fleet without it.
process.once('exit', () => {
	if (!stopped) return;
	try {
		execFileSync(path.join(repoRoot, 'scripts', 'rabbitmqctl.sh'), ['start_app'], {
			env: { ...process.env, ...rabbitmqctlTarget().vars }, stdio: 'ignore', timeout: 60000,
		});
	} catch {
		/* nothing more can be done here */
	}
});
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));

after(async () => {
	try {
		await startBroker('after hook');
		if (queue) {
			await waitForManagement(60000).catch(() => {});
			await deleteQueue(queue).catch(() => {});
		}
	} finally {
		release?.();
	}
});

/** The /ready entries of the broker that are not up. */
const brokerDown = (res) => readyEntries(res.body ?? {}).filter((e) => BROKER_RE.test(e.name) && !isUp(e.status));

describe('a broker outage loses no event', () => {
	const target = rabbitmqctlTarget();
	const optIn = process.env.SHOP_BROKER_OUTAGE === '1';
	const skip = target.fleet === 'dev' && !optIn
		? `SHOP_STATE_DIR (${env.stateDir}) is a dev fleet: set SHOP_BROKER_OUTAGE=1 to stop its broker for this test`
		: false;

	nodeIt(`stop RabbitMQ, register ${USERS} users (201 each), start it: each user.registered arrives exactly once`, { skip, timeout: 180000 }, async () => {
		await waitForHealthy(env.gatewayUrl);
		await waitForHealthy(env.userUrl);
		release = await acquireBrokerLock('exclusive');

		const node = await brokerNode();
		assert.equal(node, target.node, `SHOP_RABBITMQ_MGMT_URL (${env.rabbitMgmtUrl}) is node ${node}, but scripts/rabbitmqctl.sh would target ${target.node} ` +
			`(FLEET=${target.fleet}, from SHOP_STATE_DIR=${env.stateDir}; SHOP_FLEET overrides): refusing to stop the wrong broker`);
		const ready = await pollReady(env.userUrl, (r) => r.status === 200, 30000);
		assert.ok(ready.ok, `the user daemon must be ready before the outage\n${show(ready.res)}`);

		queue = await declareTestQueue('outage', ['user.registered']);
		// The pipeline works before the outage (else a failure below would say nothing).
		const before = await registerUser(gw, { tag: 'pre-outage' });
		await collectUntil(queue, (all) => all.some((m) => m.body?.data?.user_id === before.user.id), { what: `user.registered of ${before.email}, before the outage` });

		try {
			stopped = true; // from here on, whatever happens, start_app runs
			const stop = await rabbitmqctl(['stop_app']);
			assert.equal(stop.code, 0, `rabbitmqctl stop_app (FLEET=${target.fleet}) failed:\n${stop.out}`);

			const users = [];
			for (let i = 0; i < USERS; i++) {
				const t0 = Date.now();
				users.push(await registerUser(gw, { tag: 'outage' }));
				const ms = Date.now() - t0;
				assert.ok(ms < 5000, `registering with the broker down took ${ms} ms: the request must not wait for the broker (outbox)`);
			}

			const down = await pollReady(env.userUrl, (r) => r.status === 503 && brokerDown(r).length > 0, 15000);
			assert.ok(down.ok, `with the broker down, the user daemon's /ready must say 503 with a broker entry not up\n${show(down.res)}`);

			const start = await startBroker('after the registrations');
			assert.equal(start.code, 0, `rabbitmqctl start_app failed:\n${start.out}`);
			await waitForManagement();
			await waitForQueue(queue);

			const ids = users.map((u) => u.user.id);
			const msgs = await collectUntil(queue, (all) => ids.every((id) => all.some((m) => m.body?.data?.user_id === id)), {
				timeoutMs: drainTimeoutMs,
				settleMs: 3000,
				what: `the ${USERS} user.registered of the outage (SHOP_OUTAGE_DRAIN_TIMEOUT_MS=${drainTimeoutMs})`,
			});

			const eventIds = msgs.map((m) => m.body?.event_id).filter(Boolean);
			const twice = eventIds.filter((id, i) => eventIds.indexOf(id) !== i);
			assert.deepEqual(twice, [], 'no event_id may arrive twice (the relay marks a row published only after the broker\'s confirm)');
			const envelopes = users.map((u) => {
				const mine = msgs.filter((m) => m.body?.data?.user_id === u.user.id);
				assert.equal(mine.length, 1, `exactly one user.registered for ${u.email}, got ${mine.length}:\n${mine.map((m) => m.payload).join('\n')}`);
				const e = assertEnvelope(mine[0], { eventType: 'user.registered', producer: 'user' });
				assert.deepEqual(e.data, { user_id: u.user.id, email: u.user.email, name: u.name });
				return e;
			});
			const prefix = `itest-${runId}-outage-`;
			const strays = msgs.filter((m) => String(m.body?.data?.email).startsWith(prefix) && !ids.includes(m.body?.data?.user_id));
			assert.deepEqual(strays.map((m) => m.payload), [], 'no event for an account that does not exist');

			const back = await pollReady(env.userUrl, (r) => r.status === 200, 30000);
			assert.ok(back.ok, `the user daemon's /ready must be 200 again once the broker is back\n${show(back.res)}`);
			assertJson(back.res, 200);

			const validate = await compileSchema('user.registered');
			for (const e of envelopes) assert.ok(validate(e), `valid against shared/events/user.registered.schema.json:\n  ${ajvErrors(validate)}\n${JSON.stringify(e)}`);
		} finally {
			await startBroker('finally');
		}
	});
});
