// /ready answers and daemon logs, for the user service tests: the entries
// of a /ready answer (same accepted layouts as platform.test.mjs), waiting
// for /ready, and whether a request id ever reached a daemon (its log).
import fs from 'node:fs';
import path from 'node:path';
import { env } from './env.mjs';
import { request } from './http.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The dependency entries of a /ready answer as [{ name, status }]: a list or
 * a name -> status (or name -> {status}) map under checks / dependencies /
 * deps / upstreams / components / services, or else the top-level keys.
 */
export function readyEntries(body) {
	if (!body || typeof body !== 'object') return [];
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

export const isUp = (s) => s === true || /^(ok|up|ready|healthy|pass|passing)$/i.test(String(s));
export const BROKER_RE = /rabbit|amqp|broker|mq/i;

/**
 * Polls `${baseUrl}/ready` until `want(res)` or `ms` passes; returns the
 * last answer and whether `want` held.
 */
export async function pollReady(baseUrl, want, ms) {
	const deadline = Date.now() + ms;
	let last;
	for (;;) {
		try {
			last = await request('GET', `${baseUrl}/ready`, { timeoutMs: 3000, retry429: false });
			if (want(last)) return { res: last, ok: true };
		} catch (err) {
			last = { status: 0, text: err.message, body: undefined };
		}
		if (Date.now() > deadline) return { res: last, ok: false };
		await sleep(200);
	}
}

/** Log files of `service` under SHOP_STATE_DIR (`<service>.log`, `.jsonl`, `.out`; depth 4). */
export function logFilesOf(service) {
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
			if (e.isDirectory() && depth < 4 && !/^(pg|postgres|data|rabbitmq|redis|mnesia|node_modules)/i.test(e.name)) walk(p, depth + 1);
			else if (e.isFile() && new RegExp(`^${service}\\.(log|jsonl|out)$`).test(e.name)) out.push(p);
		}
	};
	walk(env.stateDir, 0);
	return out;
}

function tail(file, bytes = 8 * 1024 * 1024) {
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

/**
 * Which of `ids` (request ids) appear in the logs of `service`. To know the
 * log is current, `sendMarker(id)` must send a request carrying X-Request-ID
 * `id` that does reach the service: it is waited for (5 s). Returns
 * { logs: false } when the service has no log file here or the marker never
 * shows up (the caller skips), else { logs: true, seen: [...] }.
 */
export async function idsSeenBy(service, ids, sendMarker) {
	const files = logFilesOf(service);
	if (files.length === 0) return { logs: false, why: `no log file of ${service} under ${env.stateDir}` };
	const marker = `itest-marker-${Date.now()}-${Math.random().toString(16).slice(2)}`;
	await sendMarker(marker);
	const deadline = Date.now() + 5000;
	for (;;) {
		const text = files.map((f) => tail(f)).join('\n');
		if (text.includes(marker)) return { logs: true, seen: ids.filter((id) => text.includes(id)) };
		if (Date.now() > deadline) return { logs: false, why: `the ${service} log (${files.join(', ')}) never showed the marker request ${marker}` };
		await sleep(200);
	}
}
