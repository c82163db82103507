// Events (EVENTS.md): the JSON Schemas in shared/events/ themselves (each
// compiles as draft 2020-12; a hand-made valid sample of its event passes,
// one with a data field missing or an extra field fails), and what the user
// service really publishes on shop.events when someone registers, watched
// through a throw-away queue bound with the management API: one
// user.registered per account, the envelope, its AMQP properties, the
// correlation id taken from X-Request-ID, valid against its schema; nothing
// for a refused registration.
import { describe, it as nodeIt, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { env } from './lib/env.mjs';
import { show, assertProblem, waitForHealthy, once, itAfter } from './lib/http.mjs';
import { guardedClient, newEmail, newPassword, newName, registerUser } from './lib/users.mjs';
import { acquireBrokerLock, collectUntil, declareTestQueue, deleteQueue, eventTimeoutMs } from './lib/broker.mjs';
import { EVENT_SAMPLES, ENVELOPE_KEYS, ajvErrors, assertEnvelope, compileSchema, newAjv, sampleEnvelope, schemaDir, schemaFiles } from './lib/events.mjs';

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

// ---------------------------------------------------------------- the schemas themselves

describe('the event schemas in shared/events/', () => {
	// Listed when the file loads, so that each schema gets its own tests.
	let files = [];
	let listError;
	try {
		files = fs.existsSync(schemaDir) ? schemaFiles() : [];
	} catch (err) {
		listError = err;
	}

	nodeIt('the folder holds user.registered.schema.json, and only <event_type>.schema.json files of events of EVENTS.md', () => {
		if (listError) throw listError;
		assert.ok(fs.existsSync(schemaDir), `no folder ${schemaDir}`);
		const types = files.map((f) => f.eventType);
		assert.ok(types.includes('user.registered'), `shared/events/ must hold user.registered.schema.json; it holds ${JSON.stringify(fs.readdirSync(schemaDir))}`);
		for (const t of types) {
			assert.ok(EVENT_SAMPLES[t], `shared/events/${t}.schema.json is not an event of EVENTS.md (${Object.keys(EVENT_SAMPLES).join(', ')}); ` +
				'a new event needs a sample in tests/integration/lib/events.mjs');
		}
	});

	for (const { file, eventType, schema } of files) {
		const known = Boolean(EVENT_SAMPLES[eventType]);
		const validator = once(async () => (await newAjv()).compile(schema));

		nodeIt(`${file}: draft 2020-12, compiles`, async () => {
			assert.equal(schema.$schema, DRAFT_2020_12, `${file}: "$schema" must be "${DRAFT_2020_12}"`);
			await validator();
		});

		nodeIt(`${file}: a valid ${eventType} envelope passes; each of its fields is required`, { skip: !known && 'not an event of EVENTS.md' }, async () => {
			const validate = await validator();
			const sample = sampleEnvelope(eventType);
			assert.ok(validate(sample), `${file} must accept a valid ${eventType}:\n  ${ajvErrors(validate)}\n${JSON.stringify(sample, null, 2)}`);
			for (const k of ENVELOPE_KEYS) {
				const bad = sampleEnvelope(eventType);
				delete bad[k];
				assert.equal(validate(bad), false, `${file} must refuse an envelope without ${k}`);
			}
			for (const k of Object.keys(sample.data)) {
				const bad = sampleEnvelope(eventType);
				delete bad.data[k];
				assert.equal(validate(bad), false, `${file} must refuse data without ${k} (EVENTS.md lists it)`);
			}
		});

		nodeIt(`${file}: extra fields, another event_type and wrong types fail`, { skip: !known && 'not an event of EVENTS.md' }, async () => {
			const validate = await validator();
			const refuse = (what, bad) => assert.equal(validate(bad), false, `${file} must refuse ${what}: ${JSON.stringify(bad)}`);
			const s = () => sampleEnvelope(eventType);
			refuse('an extra field in data', (() => { const b = s(); b.data.itest_extra = 'x'; return b; })());
			refuse('an extra field in the envelope', { ...s(), itest_extra: 'x' });
			const other = Object.keys(EVENT_SAMPLES).find((t) => t !== eventType);
			refuse(`event_type "${other}"`, { ...s(), event_type: other });
			refuse('event_version "1" (a string)', { ...s(), event_version: '1' });
			refuse('data null', { ...s(), data: null });
			refuse('data as a list', { ...s(), data: [] });
			refuse('occurred_at 42', { ...s(), occurred_at: 42 });
			refuse('a non-object envelope', [s()]);
			const intKey = Object.keys(s().data).find((k) => Number.isInteger(s().data[k]));
			if (intKey) refuse(`data.${intKey} as a string`, (() => { const b = s(); b.data[intKey] = String(b.data[intKey]); return b; })());
			const strKey = Object.keys(s().data).find((k) => typeof s().data[k] === 'string');
			refuse(`data.${strKey} as a number`, (() => { const b = s(); b.data[strKey] = 7; return b; })());
		});
	}
});

// ---------------------------------------------------------------- what the user service publishes

const gw = guardedClient(env.gatewayUrl);
const direct = guardedClient(env.userUrl);
let queue;
let release;
const published = []; // every user.registered envelope checked here: the schema test validates them all

const setup = once(async () => {
	await waitForHealthy(env.gatewayUrl);
	await waitForHealthy(env.userUrl);
	release = await acquireBrokerLock('shared'); // never while broker-outage.test.mjs has the broker down
	queue = await declareTestQueue('events', ['user.registered']);
});
const it = itAfter(setup, nodeIt);

after(async () => {
	try {
		if (queue) await deleteQueue(queue);
	} finally {
		release?.();
	}
});

/** The user.registered messages of `userId` among `msgs`. */
const eventsOf = (msgs, userId) => msgs.filter((m) => m.body?.data?.user_id === userId);

/** Waits for the user.registered of every id; keeps draining `settleMs`; returns all messages taken. */
function waitForUsers(ids, settleMs = 1500) {
	return collectUntil(queue, (all) => ids.every((id) => eventsOf(all, id).length > 0), {
		settleMs,
		what: `user.registered for ${ids.join(', ')} (timeout SHOP_EVENT_TIMEOUT_MS=${eventTimeoutMs})`,
	});
}

/** Asserts exactly one valid user.registered for `user`; returns its envelope. */
function assertOneEvent(msgs, user, name) {
	const mine = eventsOf(msgs, user.id);
	assert.equal(mine.length, 1, `exactly one user.registered for ${user.email}, got ${mine.length}:\n${mine.map((m) => m.payload).join('\n')}`);
	const e = assertEnvelope(mine[0], { eventType: 'user.registered', producer: 'user' });
	assert.deepEqual(e.data, { user_id: user.id, email: user.email, name }, 'data must be {user_id, email (stored, lower-case), name}');
	published.push(e);
	return e;
}

describe('user.registered on shop.events', () => {
	it('one per registration: the envelope, AMQP properties, data {user_id, email, name}, correlation_id = the X-Request-ID sent', async () => {
		const requestId = `itest-${crypto.randomUUID()}`;
		const email = newEmail('event').replace(/^itest/, 'ITest');
		const name = `Itest Événement ${crypto.randomBytes(3).toString('hex')}`;
		const a = await registerUser(gw, { email, name }, { headers: { 'x-request-id': requestId } });
		assert.equal(a.res.headers.get('x-request-id'), requestId);
		const msgs = await waitForUsers([a.user.id]);
		const e = assertOneEvent(msgs, a.user, name);
		assert.equal(e.correlation_id, requestId, 'correlation_id must be the X-Request-ID of the request that caused the event');
		assert.equal(e.data.email, email.toLowerCase());
		assert.ok(Date.parse(e.occurred_at) >= Date.parse(a.user.created_at) - 2000, `occurred_at (${e.occurred_at}) must not be before the account was created (${a.user.created_at})`);
	});

	it('the correlation_id is the X-Request-ID the gateway generated, or the one sent to the daemon directly', async () => {
		const viaGw = await registerUser(gw);
		const generated = viaGw.res.headers.get('x-request-id');
		assert.ok(generated, `the register answer must carry X-Request-ID\n${show(viaGw.res)}`);
		const requestId = `itest-direct-${crypto.randomUUID()}`;
		const viaDaemon = await registerUser(direct, {}, { headers: { 'x-request-id': requestId } });
		const msgs = await waitForUsers([viaGw.user.id, viaDaemon.user.id]);
		assert.equal(assertOneEvent(msgs, viaGw.user, viaGw.name).correlation_id, generated, 'no X-Request-ID sent: the gateway\'s own id');
		assert.equal(assertOneEvent(msgs, viaDaemon.user, viaDaemon.name).correlation_id, requestId, 'sent to the daemon directly');
	});

	it('a refused registration publishes nothing (409 duplicate, 400 bad input)', async () => {
		const a = await registerUser(gw);
		const badEmail = newEmail('refused');
		assertProblem(await gw.post('/api/auth/register', { email: a.email.toUpperCase(), password: newPassword(), name: newName('Dup') }), 409);
		assertProblem(await gw.post('/api/auth/register', { email: badEmail, password: 'short', name: newName('Short') }), 400, { field: 'password' });
		assertProblem(await gw.post('/api/auth/register', { email: newEmail('refused'), password: newPassword(), name: '  ' }), 400, { field: 'name' });
		const msgs = await waitForUsers([a.user.id], 2500);
		assertOneEvent(msgs, a.user, a.name);
		const strays = msgs.filter((m) => {
			const em = String(m.body?.data?.email ?? '').toLowerCase();
			return (em === a.email && m.body?.data?.user_id !== a.user.id) || em === badEmail || em.includes('-refused-');
		});
		assert.deepEqual(strays.map((m) => m.payload), [], 'refused registrations must publish nothing');
	});

	it('event_ids are unique and message_id = event_id across several registrations', async () => {
		const users = [];
		for (let i = 0; i < 3; i++) users.push(await registerUser(gw));
		const msgs = await waitForUsers(users.map((u) => u.user.id));
		const envelopes = users.map((u) => assertOneEvent(msgs, u.user, u.name));
		assert.equal(new Set(envelopes.map((e) => e.event_id)).size, envelopes.length, 'each event has its own event_id');
	});

	it('every user.registered taken above is valid against shared/events/user.registered.schema.json', async () => {
		const validate = await compileSchema('user.registered');
		if (published.length === 0) {
			// The tests above failed before they saw an event: publish one for this check.
			const a = await registerUser(gw);
			const msgs = await waitForUsers([a.user.id], 0);
			assertOneEvent(msgs, a.user, a.name);
		}
		for (const e of published) {
			assert.ok(validate(e), `invalid against the schema:\n  ${ajvErrors(validate)}\n${JSON.stringify(e)}`);
		}
	});
});
