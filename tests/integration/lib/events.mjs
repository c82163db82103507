// The events of EVENTS.md: their JSON Schemas in shared/events/ compiled
// with ajv (draft 2020-12, with ajv-formats), a valid hand-made sample of
// each event, and the checks of an envelope and its AMQP properties as a
// message is taken off a queue.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './env.mjs';

export const schemaDir = path.join(repoRoot, 'shared', 'events');
export const ENVELOPE_KEYS = ['event_id', 'event_type', 'event_version', 'occurred_at', 'producer', 'correlation_id', 'data'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

/** A new Ajv (draft 2020-12, every error, formats) per call: schemas never share $ids. */
export async function newAjv() {
	let Ajv2020;
	let addFormats;
	try {
		Ajv2020 = (await import('ajv/dist/2020.js')).default;
		addFormats = (await import('ajv-formats')).default;
	} catch (err) {
		throw new Error(`cannot load ajv (${err.code ?? err.message}): run \`npm ci\` in tests/integration/ first`, { cause: err });
	}
	const ajv = new Ajv2020({ allErrors: true });
	addFormats(ajv);
	return ajv;
}

/** The schema files of shared/events/ as [{ file, eventType, schema }] (throws on bad JSON). */
export function schemaFiles() {
	assert.ok(fs.existsSync(schemaDir), `no folder ${schemaDir}: the event schemas live there (EVENTS.md)`);
	return fs.readdirSync(schemaDir)
		.filter((f) => f.endsWith('.schema.json'))
		.sort()
		.map((file) => {
			const text = fs.readFileSync(path.join(schemaDir, file), 'utf8');
			let schema;
			try {
				schema = JSON.parse(text);
			} catch (err) {
				assert.fail(`shared/events/${file} is not valid JSON: ${err.message}`);
			}
			return { file, eventType: file.replace(/\.schema\.json$/, ''), schema };
		});
}

/** Compiles shared/events/<eventType>.schema.json; returns ajv's validate function. */
export async function compileSchema(eventType) {
	const file = path.join(schemaDir, `${eventType}.schema.json`);
	assert.ok(fs.existsSync(file), `missing ${path.relative(repoRoot, file)} (EVENTS.md: the JSON Schema of each event lives in shared/events/)`);
	const schema = JSON.parse(fs.readFileSync(file, 'utf8'));
	const ajv = await newAjv();
	return ajv.compile(schema);
}

/** ajv's errors as one readable line each. */
export const ajvErrors = (validate) => (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n  ');

// ---------------------------------------------------------------- samples

const uuid = () => crypto.randomUUID();
const items = () => [
	{ product_id: uuid(), sku: 'ITEST-SKU-1', name: 'Itest Headphones', quantity: 2, unit_price_cents: 4999 },
	{ product_id: uuid(), sku: 'ITEST-SKU-2', name: 'Itest Keyboard', quantity: 1, unit_price_cents: 12900 },
];

/** The producer of each event (EVENTS.md) and a valid `data` for it. */
export const EVENT_SAMPLES = {
	'user.registered': { producer: 'user', data: () => ({ user_id: uuid(), email: 'itest-sample@example.com', name: 'Itest Sample' }) },
	'order.created': {
		producer: 'order',
		data: () => ({ order_id: uuid(), user_id: uuid(), user_email: 'itest-sample@example.com', items: items(), total_cents: 22898, currency: 'USD', payment_token: 'tok_visa' }),
	},
	'payment.completed': {
		producer: 'payment',
		data: () => ({ payment_id: uuid(), order_id: uuid(), user_id: uuid(), amount_cents: 22898, currency: 'USD', provider_ref: 'mock_ch_itest123' }),
	},
	'payment.failed': {
		producer: 'payment',
		data: () => ({ payment_id: uuid(), order_id: uuid(), user_id: uuid(), amount_cents: 22898, currency: 'USD', reason: 'card_declined' }),
	},
	'order.confirmed': {
		producer: 'order',
		data: () => ({ order_id: uuid(), user_id: uuid(), user_email: 'itest-sample@example.com', items: items(), total_cents: 22898, currency: 'USD' }),
	},
	'order.failed': {
		producer: 'order',
		data: () => ({ order_id: uuid(), user_id: uuid(), user_email: 'itest-sample@example.com', items: items(), total_cents: 22898, currency: 'USD', reason: 'card_declined' }),
	},
};

/** A valid envelope of `eventType` (EVENTS.md), with `over` merged in. */
export function sampleEnvelope(eventType, over = {}) {
	const s = EVENT_SAMPLES[eventType];
	assert.ok(s, `no sample for event type ${eventType}: add one to EVENT_SAMPLES in lib/events.mjs`);
	return {
		event_id: uuid(),
		event_type: eventType,
		event_version: 1,
		occurred_at: '2026-11-21T10:02:03Z',
		producer: s.producer,
		correlation_id: `itest-${uuid()}`,
		data: s.data(),
		...over,
	};
}

// ---------------------------------------------------------------- a message off the queue

/**
 * Asserts a message taken off a queue (lib/broker.mjs takeMessages) is an
 * EVENTS.md envelope of `eventType` from `producer`, with its AMQP
 * properties: content_type application/json, delivery_mode 2, message_id =
 * event_id, type = event_type, correlation_id = the envelope's. Returns the
 * envelope.
 */
export function assertEnvelope(msg, { eventType, producer }) {
	const where = `message ${msg.payload.slice(0, 400)}\n  properties ${JSON.stringify(msg.properties)}`;
	assert.equal(msg.jsonError, undefined, `the body must be JSON (${msg.jsonError}): ${where}`);
	const e = msg.body;
	assert.ok(e && typeof e === 'object' && !Array.isArray(e), `the body must be one JSON object: ${where}`);
	assert.deepEqual(Object.keys(e).sort(), [...ENVELOPE_KEYS].sort(), `the envelope must have exactly ${ENVELOPE_KEYS.join(', ')}: ${where}`);
	assert.match(String(e.event_id), UUID_RE, `event_id must be a UUID: ${where}`);
	assert.equal(e.event_type, eventType, `event_type: ${where}`);
	assert.equal(msg.routingKey, eventType, `the routing key must be the event type: ${where}`);
	assert.equal(e.event_version, 1, `event_version must be the number 1: ${where}`);
	assert.equal(e.producer, producer, `producer: ${where}`);
	assert.ok(typeof e.occurred_at === 'string' && RFC3339_UTC.test(e.occurred_at), `occurred_at must be RFC 3339 UTC: ${where}`);
	assert.ok(Math.abs(Date.parse(e.occurred_at) - Date.now()) < 10 * 60 * 1000, `occurred_at must be about now: ${where}`);
	assert.ok(typeof e.correlation_id === 'string' && e.correlation_id.length > 0, `correlation_id must be a non-empty string: ${where}`);
	assert.ok(e.data && typeof e.data === 'object' && !Array.isArray(e.data), `data must be an object: ${where}`);

	const p = msg.properties;
	assert.equal(p.content_type, 'application/json', `AMQP content_type must be application/json: ${where}`);
	assert.equal(p.delivery_mode, 2, `AMQP delivery_mode must be 2 (persistent): ${where}`);
	assert.equal(p.message_id, e.event_id, `AMQP message_id must be the event_id: ${where}`);
	assert.equal(p.type, e.event_type, `AMQP type must be the event_type: ${where}`);
	assert.equal(p.correlation_id, e.correlation_id, `AMQP correlation_id must be the envelope's correlation_id: ${where}`);
	const tp = p.headers?.traceparent;
	if (tp !== undefined) {
		assert.match(String(tp), /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, `a traceparent header must be a W3C traceparent: ${where}`);
	}
	return e;
}
