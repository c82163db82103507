#!/usr/bin/env node
// The checks of scripts/checks/openapi.sh that no linter knows: that
// docs/api/*.yaml and docs/events/ say what the code does.
//
//   docs/api vs the daemons' route tables (services/<svc>/src/api/handlers.c):
//     every route is documented in docs/api/<svc>.yaml and every documented
//     operation is a route (or a daemon's built-in /health, /ready,
//     /metrics); a route's flags match the operation: HTTP_AUTH/HTTP_ADMIN →
//     bearerAuth and 401, HTTP_ADMIN → x-required-role admin and 403,
//     HTTP_INTERNAL → an /internal/ path with x-internal, a daemon server and
//     internalToken, HTTP_JSON_BODY → a required application/json body and
//     400, 413, 415;
//   docs/api vs the gateway (gateway/src/router.c, gateway/src/route_auth.c):
//     each documented /api path is routed to its document's service; an
//     operation needs bearerAuth exactly when the gateway protects it; every
//     proxied operation lists 429, 502, 503, 504;
//   docs/events vs shared/events and the broker: every schema of
//     shared/events/ is the payload of one message of asyncapi.yaml, every
//     message example and every event in a JSON block of docs/events/README.md
//     validates against its schema (Ajv2020), and the queues, their
//     routing keys and dead-letter queues of asyncapi.yaml are exactly those
//     of infrastructure/rabbitmq/definitions.json, whose every queue and
//     exchange docs/events/README.md names.
//
// Prints one line per problem and exits 1 when there is any.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const problems = [];
const fail = (msg) => problems.push(msg);
const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SERVICES = ['product', 'user', 'cart', 'order', 'payment', 'email'];
const BUILTIN = ['/health', '/ready', '/metrics'];

function loadYaml(p) {
	const doc = YAML.parseDocument(read(p));
	if (doc.errors.length) throw new Error(`${p}: ${doc.errors.map((e) => e.message).join('; ')}`);
	return doc.toJS();
}

// ---------------------------------------------------------------- the C tables

/** services/<svc>/src/api/handlers.c's route table: [{method, path, flags:Set}]. */
function daemonRoutes(svc) {
	const text = read(`services/${svc}/src/api/handlers.c`);
	const table = /const struct http_route \w+_routes\[\] = \{([\s\S]*?)\n\};/.exec(text);
	if (!table) throw new Error(`no route table in services/${svc}/src/api/handlers.c`);
	const routes = [];
	for (const m of table[1].matchAll(/\{\s*"([A-Z]+)",\s*"(\/[^"]*)",\s*\w+,\s*([A-Z_|\s0]+?)\s*\}/g)) {
		routes.push({ method: m[1].toLowerCase(), path: m[2], flags: new Set(m[3].split('|').map((s) => s.trim()).filter((s) => s !== '0')) });
	}
	if (routes.length === 0) throw new Error(`cannot read the route table of services/${svc}/src/api/handlers.c`);
	return routes;
}

/** gateway/src/router.c: [[prefix, service]]. */
function gatewayPrefixes() {
	const out = [...read('gateway/src/router.c').matchAll(/\{"(\/[^"]+)",\s*SVC_([A-Z]+)\}/g)].map((m) => [m[1], m[2].toLowerCase()]);
	if (out.length === 0) throw new Error('cannot read the routes of gateway/src/router.c');
	return out;
}

/** gateway/src/route_auth.c: [{prefix, methods:Set|'any', required}]. */
function gatewayAuthTable() {
	const text = read('gateway/src/route_auth.c');
	const table = /static const struct route_auth table\[\] = \{([\s\S]*?)\n\};/.exec(text);
	if (!table) throw new Error('no table in gateway/src/route_auth.c');
	const out = [];
	for (const m of table[1].matchAll(/\{"(\/[^"]+)",\s*([A-Z_|\s]+?),\s*([A-Z_|\s]+?)\}/g)) {
		const ms = m[2].split('|').map((s) => s.trim());
		out.push({
			prefix: m[1],
			methods: ms.includes('M_ANY') ? 'any' : new Set(ms.map((s) => s.replace(/^M_/, '').toLowerCase())),
			required: m[3].includes('ROUTE_AUTH_REQUIRED'),
		});
	}
	if (out.length === 0) throw new Error('cannot read the table of gateway/src/route_auth.c');
	return out;
}

const hasPrefix = (p, prefix) => p === prefix || p.startsWith(`${prefix}/`);

function gatewayProtects(authTable, method, p) {
	for (const e of authTable) {
		if ((e.methods === 'any' || e.methods.has(method)) && hasPrefix(p, e.prefix)) return e.required;
	}
	return false;
}

// ---------------------------------------------------------------- docs/api

const securityNames = (sec) => new Set((sec ?? []).flatMap((req) => Object.keys(req)));

function checkApiDocs() {
	const prefixes = gatewayPrefixes();
	const authTable = gatewayAuthTable();
	const files = fs.readdirSync(path.join(root, 'docs/api')).filter((f) => f.endsWith('.yaml')).sort();
	for (const svc of [...SERVICES, 'gateway']) {
		if (!files.includes(`${svc}.yaml`)) fail(`docs/api/${svc}.yaml is missing`);
	}
	for (const svc of SERVICES) {
		const file = `docs/api/${svc}.yaml`;
		if (!files.includes(`${svc}.yaml`)) continue;
		const doc = loadYaml(file);
		const routes = daemonRoutes(svc);
		const documented = new Map();
		for (const [p, item] of Object.entries(doc.paths ?? {})) {
			for (const m of METHODS) if (item[m]) documented.set(`${m} ${p}`, { p, item, op: item[m], method: m });
		}
		for (const r of routes) {
			const key = `${r.method} ${r.path}`;
			const d = documented.get(key);
			if (!d) {
				fail(`${file}: ${r.method.toUpperCase()} ${r.path} is a route of services/${svc}/src/api/handlers.c but is not documented`);
				continue;
			}
			const where = `${file}: ${r.method.toUpperCase()} ${r.path}`;
			const sec = securityNames(d.op.security ?? doc.security);
			const codes = Object.keys(d.op.responses ?? {});
			const internal = r.flags.has('HTTP_INTERNAL');
			const auth = r.flags.has('HTTP_AUTH') || r.flags.has('HTTP_ADMIN');
			if (auth !== sec.has('bearerAuth')) fail(`${where}: the route ${auth ? 'needs' : 'takes no'} a bearer token, the document ${sec.has('bearerAuth') ? 'asks for' : 'does not ask for'} bearerAuth`);
			if (auth && !codes.includes('401')) fail(`${where}: a route with a token answers 401; document it`);
			const admin = r.flags.has('HTTP_ADMIN');
			if (admin !== (d.op['x-required-role'] === 'admin')) fail(`${where}: the route is ${admin ? '' : 'not '}admin-only; x-required-role says ${d.op['x-required-role'] ?? 'nothing'}`);
			if (admin && !codes.includes('403')) fail(`${where}: an admin-only route answers 403; document it`);
			if (internal !== r.path.startsWith('/internal/')) fail(`${where}: HTTP_INTERNAL routes live under /internal/ and only they do`);
			if (internal !== sec.has('internalToken')) fail(`${where}: the route ${internal ? 'needs' : 'takes no'} the internal token; the document ${sec.has('internalToken') ? 'asks for' : 'does not ask for'} internalToken`);
			if (internal && d.item['x-internal'] !== true) fail(`${where}: an internal route must be marked x-internal: true`);
			if (internal && !(d.item.servers ?? d.op.servers ?? []).some((s) => !/:9000\b/.test(s.url))) fail(`${where}: the gateway never routes /internal/: give the daemon's own server`);
			if (internal && !codes.includes('401')) fail(`${where}: an internal route answers 401 without the token; document it`);
			const body = r.flags.has('HTTP_JSON_BODY');
			const rb = d.op.requestBody;
			if (body) {
				if (!rb || rb.required !== true || !rb.content?.['application/json']) fail(`${where}: the route requires a JSON body: document a required application/json requestBody`);
				for (const c of ['400', '413', '415']) if (!codes.includes(c)) fail(`${where}: a JSON body route answers ${c}; document it`);
			} else if (rb) {
				fail(`${where}: the route reads no body, the document has a requestBody`);
			}
			documented.delete(key);
		}
		for (const [key, d] of documented) {
			if (d.method === 'get' && BUILTIN.includes(d.p)) {
				if (!(d.item.servers ?? []).some((s) => !/:9000\b/.test(s.url))) fail(`${file}: ${d.p} is the daemon's own (the gateway's is in gateway.yaml): give the daemon's server`);
				continue;
			}
			fail(`${file}: ${key.toUpperCase()} is documented but is no route of services/${svc}/src/api/handlers.c`);
		}
		for (const b of BUILTIN) if (!doc.paths?.[b]?.get) fail(`${file}: GET ${b} (every daemon serves it) is not documented`);

		// What the gateway does with each operation it routes.
		for (const [p, item] of Object.entries(doc.paths ?? {})) {
			if (p.startsWith('/internal/') || BUILTIN.includes(p)) continue;
			const owner = prefixes.find(([prefix]) => hasPrefix(p.replace(/\{[^}]+\}/g, 'x'), prefix));
			if (!owner) fail(`${file}: ${p} is routed by no prefix of gateway/src/router.c`);
			else if (owner[1] !== svc) fail(`${file}: ${p} is routed to ${owner[1]} by gateway/src/router.c, not to ${svc}`);
			for (const m of METHODS) {
				const op = item[m];
				if (!op) continue;
				const where = `${file}: ${m.toUpperCase()} ${p}`;
				const sec = securityNames(op.security ?? doc.security);
				const prot = gatewayProtects(authTable, m, p.replace(/\{[^}]+\}/g, 'x'));
				if (prot !== sec.has('bearerAuth')) fail(`${where}: gateway/src/route_auth.c ${prot ? 'protects' : 'does not protect'} it, the document ${sec.has('bearerAuth') ? 'asks for' : 'does not ask for'} bearerAuth`);
				const codes = Object.keys(op.responses ?? {});
				for (const c of ['429', '502', '503', '504']) if (!codes.includes(c)) fail(`${where}: the gateway can answer ${c} on any route it proxies; document it`);
			}
		}
	}
}

// ---------------------------------------------------------------- docs/events

async function checkEvents() {
	const file = 'docs/events/asyncapi.yaml';
	const doc = loadYaml(file);
	const ajv = new Ajv2020({ allErrors: true, strict: true });
	addFormats(ajv);
	const validators = new Map(); // event type -> validate
	const schemaDir = path.join(root, 'shared/events');
	const schemaFiles = fs.readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json')).sort();
	for (const f of schemaFiles) {
		validators.set(f.replace(/\.schema\.json$/, ''), ajv.compile(JSON.parse(fs.readFileSync(path.join(schemaDir, f), 'utf8'))));
	}
	const errs = (v) => (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');

	// Messages: one per schema, each example valid.
	const seen = new Set();
	for (const [id, msg] of Object.entries(doc.components?.messages ?? {})) {
		const ref = msg.payload?.$ref ?? '';
		const target = path.resolve(path.join(root, 'docs/events'), ref);
		const m = /^(.+)\.schema\.json$/.exec(path.basename(target));
		if (!m || path.dirname(target) !== schemaDir || !fs.existsSync(target)) {
			fail(`${file}: message ${id}: the payload must be a $ref to a file of shared/events/ (got '${ref}')`);
			continue;
		}
		const type = m[1];
		seen.add(type);
		if (msg.name !== type) fail(`${file}: message ${id} is named '${msg.name}' but carries ${type}`);
		if (msg.bindings?.amqp?.messageType !== type) fail(`${file}: message ${id}: the AMQP type property is the event type ${type}`);
		const examples = msg.examples ?? [];
		if (examples.length === 0) fail(`${file}: message ${id} has no example`);
		for (const [i, ex] of examples.entries()) {
			const v = validators.get(type);
			if (!v(ex.payload)) fail(`${file}: message ${id} example ${i} is not a valid ${type}: ${errs(v)}`);
		}
	}
	for (const type of validators.keys()) if (!seen.has(type)) fail(`${file}: shared/events/${type}.schema.json is the payload of no message`);

	// The topology: definitions.json vs the queue channels and the receive operations.
	const defs = JSON.parse(read('infrastructure/rabbitmq/definitions.json'));
	const channels = doc.channels ?? {};
	const byAddress = new Map(Object.entries(channels).map(([id, c]) => [c.address, { id, ...c }]));
	const msgType = (ref) => doc.components?.messages?.[ref.split('/').pop()]?.name;
	for (const ex of defs.exchanges) {
		const used = Object.values(channels).some((c) => c.bindings?.amqp?.exchange?.name === ex.name || c.bindings?.amqp?.$ref?.endsWith('shopEvents'));
		if (ex.name === 'shop.events' && !used) fail(`${file}: no channel publishes to the exchange shop.events`);
	}
	const shopEvents = doc.components?.channelBindings?.shopEvents?.exchange;
	const defEx = defs.exchanges.find((e) => e.name === 'shop.events');
	if (!shopEvents || !defEx || shopEvents.name !== defEx.name || shopEvents.type !== defEx.type || shopEvents.durable !== defEx.durable) {
		fail(`${file}: components.channelBindings.shopEvents must be the exchange shop.events of definitions.json (${defEx?.type}, durable ${defEx?.durable})`);
	}
	const queueNames = new Set(defs.queues.map((q) => q.name));
	for (const q of defs.queues) {
		const c = byAddress.get(q.name);
		if (!c) {
			fail(`${file}: the queue ${q.name} of definitions.json has no channel`);
			continue;
		}
		if (c.bindings?.amqp?.is !== 'queue' || c.bindings.amqp.queue?.name !== q.name || c.bindings.amqp.queue?.durable !== q.durable) {
			fail(`${file}: channel ${c.id} must be the durable queue ${q.name}`);
		}
		// The messages a queue can hold are the events bound to it (for a
		// .dlq, those of its work queue).
		const work = q.name.replace(/\.dlq$/, '');
		const keys = new Set(defs.bindings.filter((b) => b.source === 'shop.events' && b.destination === work).map((b) => b.routing_key));
		const types = new Set(Object.values(c.messages ?? {}).map((m) => msgType(m.$ref ?? '')));
		if ([...keys].sort().join() !== [...types].sort().join()) fail(`${file}: channel ${c.id} carries ${[...types].sort().join(', ')}; definitions.json binds ${[...keys].sort().join(', ')} to ${work}`);
		if (!q.name.endsWith('.dlq')) {
			const a = q.arguments ?? {};
			const dlq = a['x-dead-letter-routing-key'];
			if (!queueNames.has(dlq) || a['x-dead-letter-exchange'] !== 'shop.dlx') fail(`definitions.json: ${q.name} dead-letters to '${dlq}' through '${a['x-dead-letter-exchange']}'`);
			const receivers = Object.values(doc.operations ?? {}).filter((o) => o.action === 'receive' && o.channel?.$ref === `#/channels/${c.id}`);
			if (receivers.length !== 1) fail(`${file}: the work queue ${q.name} needs exactly one receive operation (has ${receivers.length})`);
		}
	}
	for (const [id, c] of Object.entries(channels)) {
		if (c.bindings?.amqp?.is === 'queue' && !queueNames.has(c.address)) fail(`${file}: channel ${id} is a queue '${c.address}' that definitions.json does not have`);
	}
	for (const type of validators.keys()) {
		const c = byAddress.get(type);
		if (!c || !c.bindings?.amqp?.$ref?.endsWith('/shopEvents')) fail(`${file}: no routing-key channel '${type}' on shop.events`);
		const senders = Object.values(doc.operations ?? {}).filter((o) => o.action === 'send' && c && o.channel?.$ref === `#/channels/${c.id}`);
		if (senders.length !== 1) fail(`${file}: ${type} needs exactly one send operation (its producer)`);
	}

	// docs/events/README.md: the names it must mention, and its JSON examples.
	const readme = read('docs/events/README.md');
	for (const name of [...queueNames, ...defs.exchanges.map((e) => e.name), ...validators.keys(), ...schemaFiles]) {
		if (!readme.includes(name)) fail(`docs/events/README.md does not mention ${name}`);
	}
	let checked = 0;
	for (const m of readme.matchAll(/```json\n([\s\S]*?)```/g)) {
		let v;
		try {
			v = JSON.parse(m[1]);
		} catch (err) {
			fail(`docs/events/README.md: a json block is not JSON (${err.message}): ${m[1].slice(0, 80)}`);
			continue;
		}
		if (v && typeof v === 'object' && typeof v.event_type === 'string') {
			const validate = validators.get(v.event_type);
			if (!validate) fail(`docs/events/README.md: an example has the unknown event_type ${v.event_type}`);
			else if (!validate(v)) fail(`docs/events/README.md: the ${v.event_type} example is not valid: ${errs(validate)}`);
			checked++;
		}
	}
	for (const type of validators.keys()) {
		if (!new RegExp(`"event_type":\\s*"${type.replace('.', '\\.')}"`).test(readme)) fail(`docs/events/README.md has no example payload of ${type}`);
	}
	return checked;
}

try {
	checkApiDocs();
	const n = await checkEvents();
	if (problems.length) {
		for (const p of problems) console.log(`docs: ${p}`);
		process.exit(1);
	}
	console.log(`docs match the code: the daemons' and the gateway's route tables, shared/events/, definitions.json (${n} README examples valid)`);
} catch (err) {
	console.log(`docs: ${err.message}`);
	process.exit(1);
}
