// tools/bench/checkout.mjs: the load generator of scripts/bench.sh --suite
// checkout (scripts/lib/bench-checkout.sh writes its config and formats its
// result). Node 20, no dependencies.
//
//   node tools/bench/checkout.mjs CONFIG.json > RESULT.json
//
// CONFIG: {gateway, tokens: [...], products: [...], warmupS, durationS,
//   rate (orders/s over all clients; 0: each client as fast as it can),
//   mailDir (null: no order-to-email), mailWaitS, gauges, rabbit, daemons: {name: pid},
//   infra: {name: [pid...]}, sampleUsers}
//
// One client per token (its own user and cart), each in a loop: DELETE
// /api/cart and POST /api/cart/items (1 of the next product of the list;
// neither timed), then POST /api/orders, timed from the send to the end of
// the 201 (the whole answer read). The DELETE is there because the cart
// service drops an order's lines only when it consumes order.created, after
// the 201: without it the next order could hold the previous line again. Requests go over a keep-alive agent, one connection per client.
//
// With rate > 0 the load is open-loop: client i starts an iteration every
// tokens.length / rate seconds (the clients staggered evenly), on schedule
// whatever the answers take, so that the latency is that of the offered
// rate rather than of a queue the clients keep full; an iteration that
// could not start on time (its client was still busy) starts at once and
// is counted as late. The latency is still from the send to the 201.
// After the warm-up a measured window of durationS seconds: an answer is
// measured when it ends inside it (as wrk counts); clients start nothing after
// it. At the start of the window each daemon's peak RSS is reset
// (clear_refs 5) and every process' CPU ticks read; CPU again at its end.
//
// Order-to-email: after the window the Maildir (new/ and cur/) is polled for
// up to mailWaitS seconds until every measured order has its mail. A mail
// belongs to the order whose full id is in its (quoted-printable) body, "...
// order\n<id> is confirmed." (services/email/src/domain/render.c); its time
// is the file's mtime (ms, sub-ms precision: the sink writes the file when
// the mail has been received), set against the wall-clock time of the 201.
// The files there before the run are skipped. Then VmHWM of every daemon,
// and the status of the orders of the run among the newest 100 orders of
// sampleUsers of the users (GET /api/orders). While it runs, backlogs
// (outbox_backlog, email_queue_depth, the broker's queues) are sampled every
// 500 ms.
//
// Progress goes to stderr; the result, one JSON object, to stdout.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const log = (...a) => process.stderr.write(`  ${a.join(' ')}\n`);
const gw = new URL(cfg.gateway);
const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.tokens.length + 8 });
const wallNow = () => performance.timeOrigin + performance.now(); // ms, sub-ms precision
const ADDRESS = { name: 'Bench Client', line1: '1 Benchmark Street', city: 'Benchville', postal_code: '12345', country: 'US' };
const ORDER_BODY = JSON.stringify({ payment_token: 'tok_visa', shipping_address: ADDRESS });

/** One request; resolves {status, body, t0, t1 (hrtime ns), wall (ms at the end)}; status 0 on a network error. */
function send(method, pathname, token, body) {
	return new Promise((resolve) => {
		const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			headers['Content-Length'] = Buffer.byteLength(body);
		}
		const t0 = process.hrtime.bigint();
		const req = http.request({ host: gw.hostname, port: gw.port, method, path: pathname, headers, agent, timeout: 30000 }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), t0, t1: process.hrtime.bigint(), wall: wallNow() }));
			res.on('error', (err) => resolve({ status: 0, error: err.code || err.message, t0, t1: process.hrtime.bigint(), wall: wallNow() }));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', (err) => resolve({ status: 0, error: err.code || err.message, t0, t1: process.hrtime.bigint(), wall: wallNow() }));
		if (body !== undefined) req.write(body);
		req.end();
	});
}

// ---------------------------------------------------------------- /proc

const readProc = (pid, file) => {
	try {
		return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
	} catch {
		return null;
	}
};
/** utime + stime of a process (all its threads), in clock ticks; null when gone. */
function ticks(pid) {
	const s = readProc(pid, 'stat');
	if (!s) return null;
	const f = s.slice(s.lastIndexOf(') ') + 2).split(' '); // f[0] is field 3 (state)
	return Number(f[11]) + Number(f[12]);
}
function sumTicks(pids) {
	let sum = 0;
	for (const p of pids) {
		const t = ticks(p);
		if (t === null) return null;
		sum += t;
	}
	return sum;
}
/** CPU ticks of a process tree (a server whose children come and go:
 * PostgreSQL's backends): everyone's utime + stime, plus the children that
 * have exited (cutime + cstime). */
function treeTicks(pid, kidsOf) {
	const s = readProc(pid, 'stat');
	if (!s) return 0;
	const f = s.slice(s.lastIndexOf(') ') + 2).split(' ');
	let sum = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
	for (const k of kidsOf.get(String(pid)) ?? []) sum += treeTicks(k, kidsOf);
	return sum;
}
/** ppid -> [pid] of every process (/proc/<pid>/task/<tid>/children needs
 * CONFIG_PROC_CHILDREN, which this kernel lacks). */
function childrenMap() {
	const m = new Map();
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		const s = readProc(d, 'stat');
		if (!s) continue;
		const ppid = s.slice(s.lastIndexOf(') ') + 2).split(' ')[1];
		if (!m.has(ppid)) m.set(ppid, []);
		m.get(ppid).push(d);
	}
	return m;
}
const infraTicks = (pids, kidsOf) => pids.reduce((a, p) => a + treeTicks(p, kidsOf), 0);
const statusKiB = (pid, key) => {
	const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readProc(pid, 'status') ?? '');
	return m ? Number(m[1]) : null;
};
const clearRefs = (pid) => {
	try {
		fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
		return true;
	} catch {
		return false;
	}
};

// ---------------------------------------------------------------- mail

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const qpDecode = (s) => s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
const mailDirs = cfg.mailDir ? ['new', 'cur'].map((d) => path.join(cfg.mailDir, d)) : [];
const listMail = () => mailDirs.flatMap((d) => {
	try {
		return fs.readdirSync(d).map((f) => path.join(d, f));
	} catch {
		return [];
	}
});
// A file moved from new/ to cur/ gets a ":2,..." suffix: key on the unique part.
const mailKey = (p) => path.basename(p).split(':')[0];
/** {kind: confirmed|failed|other, orderId} of a mail file, or null. */
function parseMail(raw) {
	const sep = raw.search(/\r?\n\r?\n/);
	const head = sep < 0 ? raw : raw.slice(0, sep);
	let body = sep < 0 ? '' : raw.slice(sep).replace(/^\r?\n\r?\n/, '');
	if (/^content-transfer-encoding:\s*quoted-printable/im.test(head)) body = qpDecode(body);
	const subject = /^subject:\s*(.*)$/im.exec(head)?.[1] ?? '';
	const m = /order\s+([0-9a-f-]{36})\s+is confirmed/i.exec(body);
	if (m) return { kind: 'confirmed', orderId: m[1].toLowerCase() };
	const any = body.match(UUID);
	return { kind: /could not be completed/i.test(subject) ? 'failed' : 'other', orderId: any ? any[0].toLowerCase() : null };
}

// ---------------------------------------------------------------- stats

function pct(sorted, p) { // nearest rank
	if (!sorted.length) return null;
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const summary = (xs) => {
	const s = Float64Array.from(xs).sort();
	return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s.length ? s[s.length - 1] : null, mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : null };
};

// ---------------------------------------------------------------- the run

const baseline = new Set(listMail().map(mailKey));
const daemons = Object.entries(cfg.daemons ?? {}).filter(([, pid]) => pid);
const infra = Object.entries(cfg.infra ?? {}).filter(([, pids]) => pids.length);
const t0wall = wallNow();
const warmEnd = t0wall + cfg.warmupS * 1000;
const end = warmEnd + cfg.durationS * 1000;
const orders = []; // measured: {id, ms, wall}
const tail = new Set(); // the ids of every other order of the run (warm-up and after the window)
const errors = {}; // "cart 409" / "order 503" / "order error ECONNRESET" -> count, measured window only
let attempts = 0;
let multiLine = 0; // orders that were not 1 of one product (should be none)
let late = 0; // open loop: measured iterations that started behind their schedule
const rate = Number(cfg.rate) || 0;
const interval = rate > 0 ? (cfg.tokens.length * 1000) / rate : 0; // ms per client
let errorsAll = 0;
const firstErrors = [];
let at = { cpu: null, cpuSelf: null, reset: {} };

const inWindow = (wall) => wall >= warmEnd && wall < end;
function fail(what, r) {
	errorsAll++;
	if (firstErrors.length < 5) firstErrors.push(`${what} ${r.status || r.error}: ${(r.body ?? '').slice(0, 200)}`);
	if (!inWindow(r.wall)) return;
	const k = r.status ? `${what} ${r.status}` : `${what} error ${r.error}`;
	errors[k] = (errors[k] ?? 0) + 1;
}

async function client(i) {
	const token = cfg.tokens[i];
	let due = t0wall + (interval * i) / cfg.tokens.length;
	for (let k = 0; wallNow() < end; k++) {
		if (rate > 0) {
			const wait = due - wallNow();
			if (wait > 0) await new Promise((r) => setTimeout(r, wait));
			else if (wait < -1 && inWindow(wallNow())) late++;
			due += interval;
			if (wallNow() >= end) break;
		}
		const product = cfg.products[(i + k) % cfg.products.length];
		// The cart drops an order's lines when it consumes order.created, a
		// few ms after the 201: empty it first, or the previous line may be
		// ordered again (the late removal then finds another product).
		const clear = await send('DELETE', '/api/cart', token);
		if (inWindow(clear.wall)) attempts++;
		if (clear.status !== 204) {
			fail('cart-clear', clear);
			await new Promise((r) => setTimeout(r, 10));
			continue;
		}
		const add = await send('POST', '/api/cart/items', token, JSON.stringify({ product_id: product, quantity: 1 }));
		if (inWindow(add.wall)) attempts++;
		if (add.status !== 200) {
			fail('cart', add);
			await new Promise((r) => setTimeout(r, 10));
			continue;
		}
		const o = await send('POST', '/api/orders', token, ORDER_BODY);
		const measured = inWindow(o.wall);
		if (measured) attempts++;
		if (o.status !== 201) {
			fail('order', o);
			continue;
		}
		let id;
		try {
			const order = JSON.parse(o.body);
			id = order.id.toLowerCase();
			if (order.items?.length !== 1 || order.items[0].quantity !== 1) multiLine++;
		} catch {
			fail('order', { ...o, status: 'unparsable-201' });
			continue;
		}
		if (measured) orders.push({ id, ms: Number(o.t1 - o.t0) / 1e6, wall: o.wall });
		else tail.add(id);
	}
}

setTimeout(() => {
	const kids = childrenMap();
	at.cpu = Object.fromEntries([...daemons.map(([n, p]) => [n, sumTicks([p])]), ...infra.map(([n, ps]) => [n, infraTicks(ps, kids)])]);
	at.cpuSelf = process.cpuUsage();
	for (const [n, p] of daemons) at.reset[n] = clearRefs(p);
	log(`measuring ${cfg.durationS} s`);
}, Math.max(0, warmEnd - wallNow()));
let cpu1 = null;
let cpuSelf1 = null;
setTimeout(() => {
	const kids = childrenMap();
	cpu1 = Object.fromEntries([...daemons.map(([n, p]) => [n, sumTicks([p])]), ...infra.map(([n, ps]) => [n, infraTicks(ps, kids)])]);
	cpuSelf1 = process.cpuUsage(at.cpuSelf);
}, Math.max(0, end - wallNow()));

// Where a backlog waits: gauges sampled every 500 ms until the mail is in
// (cfg.gauges: [{name, url, metric}] of Prometheus text, and cfg.rabbit:
// {url, auth} for the broker's queues; the management API refreshes its
// figures every few seconds).
const gauges = {}; // name -> {max, at_window_end, samples}
const note = (name, v) => {
	const g = (gauges[name] ??= { max: null, at_window_end: null, samples: 0 });
	g.samples++;
	g.max = Math.max(g.max ?? 0, v);
	if (wallNow() <= end + 250) g.at_window_end = v;
};
const getText = (url, headers, fn) => http.get(url, { timeout: 2000, headers }, (res) => {
	let text = '';
	res.on('data', (c) => { text += c; });
	res.on('end', () => fn(res.statusCode, text));
}).on('error', () => {});
function sampleGauges() {
	for (const g of cfg.gauges ?? []) {
		getText(new URL('/metrics', g.url), {}, (st, text) => {
			const m = new RegExp(`^${g.metric}\\s+(\\d+)`, 'm').exec(text);
			if (st === 200 && m) note(g.name, Number(m[1]));
		});
	}
	if (cfg.rabbit?.url) {
		getText(new URL('/api/queues/%2F', cfg.rabbit.url), { Authorization: `Basic ${Buffer.from(cfg.rabbit.auth).toString('base64')}` }, (st, text) => {
			if (st !== 200) return;
			try {
				for (const q of JSON.parse(text)) if (!q.name.endsWith('.dlq') && !q.name.startsWith('itest.')) note(`queue ${q.name}`, q.messages ?? 0);
			} catch {
				/* not JSON */
			}
		});
	}
}
const gaugeTimer = setInterval(sampleGauges, 500);

log(`${cfg.tokens.length} clients, ${cfg.products.length} products; warm-up ${cfg.warmupS} s`);
await Promise.all(cfg.tokens.map((_, i) => client(i)));
const windowS = cfg.durationS;
const measuredIds = new Map(orders.map((o) => [o.id, o]));
log(`${orders.length} orders in the window (${(orders.length / windowS).toFixed(0)}/s), errors ${JSON.stringify(errors)}`);

// mail
let mail = null;
if (cfg.mailDir) {
	const seen = new Set(baseline);
	const got = new Map(); // order id -> first mail time (ms)
	let dup = 0;
	let failedMails = 0;
	let foreign = 0;
	let landedInWindow = 0; // confirmations of the run's orders (any) that landed inside the window
	const ofRun = (id) => measuredIds.has(id) || tail.has(id);
	const scan = () => {
		for (const p of listMail()) {
			const key = mailKey(p);
			if (seen.has(key)) continue;
			let raw;
			let st;
			try {
				st = fs.statSync(p);
				raw = fs.readFileSync(p, 'utf8');
			} catch {
				continue; // moved between readdir and read: the next scan finds it
			}
			seen.add(key);
			const m = parseMail(raw);
			if (!m.orderId || !ofRun(m.orderId)) {
				foreign++;
				continue;
			}
			if (m.kind !== 'confirmed') {
				failedMails++;
				continue;
			}
			if (st.mtimeMs >= warmEnd && st.mtimeMs < end) landedInWindow++;
			if (got.has(m.orderId)) {
				dup++;
				if (st.mtimeMs < got.get(m.orderId)) got.set(m.orderId, st.mtimeMs);
			} else got.set(m.orderId, st.mtimeMs);
		}
	};
	const deadline = wallNow() + cfg.mailWaitS * 1000;
	const missingNow = () => orders.reduce((n, o) => n + (got.has(o.id) ? 0 : 1), 0);
	for (;;) {
		scan();
		if (missingNow() === 0 || wallNow() >= deadline) break;
		await new Promise((r) => setTimeout(r, 250));
	}
	const delays = [];
	let lastMail = 0;
	for (const o of orders) {
		const t = got.get(o.id);
		if (t === undefined) continue;
		delays.push(t - o.wall);
		lastMail = Math.max(lastMail, t);
	}
	const missing = orders.length - delays.length;
	// a backlog shows as a delay that grows through the window
	const tenth = (from, to) => summary(orders.filter((o) => o.wall >= from && o.wall < to && got.has(o.id)).map((o) => got.get(o.id) - o.wall)).p50;
	mail = {
		delay_ms: summary(delays),
		with_mail: delays.length,
		missing,
		missing_ids: orders.filter((o) => !got.has(o.id)).slice(0, 5).map((o) => o.id),
		negative: delays.filter((d) => d < 0).length,
		duplicates: dup,
		failed_mails: failedMails,
		other_mails: foreign,
		complete_per_s: delays.length / windowS,
		landed_in_window_per_s: landedInWindow / windowS,
		delay_first_tenth_ms: tenth(warmEnd, warmEnd + windowS * 100),
		delay_last_tenth_ms: tenth(end - windowS * 100, end),
		drained_s_after_window: lastMail ? (lastMail - end) / 1000 : null,
		wait_s: cfg.mailWaitS,
	};
	log(`mail: ${delays.length} of ${orders.length} orders have their mail (${missing} missing)`);
}

clearInterval(gaugeTimer);

// memory: after the mail, so the email daemon's work is in its peak
const memory = Object.fromEntries(daemons.map(([n, p]) => [n, { pid: p, hwm_kib: statusKiB(p, 'VmHWM'), rss_kib: statusKiB(p, 'VmRSS'), reset: at.reset[n] ?? false }]));
const hz = cfg.clkTck || 100;
const cpu = {};
for (const [n] of [...daemons, ...infra]) {
	const a = at.cpu?.[n];
	const b = cpu1?.[n];
	cpu[n] = a === null || b === null || a === undefined || b === undefined ? null : ((b - a) / hz) * 1e6 / Math.max(1, orders.length);
}
cpu.loadgen = cpuSelf1 ? (cpuSelf1.user + cpuSelf1.system) / Math.max(1, orders.length) : null;

// order statuses, of the orders of this run among the newest 100 of some users
const sample = cfg.tokens.slice(0, Math.min(cfg.sampleUsers ?? cfg.tokens.length, cfg.tokens.length));
let statuses = {};
let checked = 0;
for (let tries = 0; ; tries++) { // again for up to 10 s while some are pending (no mail wait before)
	statuses = {};
	checked = 0;
	for (const token of sample) {
		const r = await send('GET', '/api/orders?page_size=100', token);
		if (r.status !== 200) {
			statuses[`GET ${r.status || r.error}`] = (statuses[`GET ${r.status || r.error}`] ?? 0) + 1;
			continue;
		}
		for (const o of JSON.parse(r.body).items ?? []) {
			if (!measuredIds.has(o.id) && !tail.has(o.id)) continue;
			checked++;
			statuses[o.status] = (statuses[o.status] ?? 0) + 1;
		}
	}
	if (!statuses.pending || tries >= 20) break;
	await new Promise((r) => setTimeout(r, 500));
}
agent.destroy();

const lat = summary(orders.map((o) => o.ms));
const result = {
	clients: cfg.tokens.length,
	products: cfg.products.length,
	warmup_s: cfg.warmupS,
	window_s: windowS,
	orders: orders.length,
	orders_per_s: orders.length / windowS,
	offered_rate: rate,
	late_starts: late,
	latency_ms: lat,
	attempts,
	errors,
	errors_total: Object.values(errors).reduce((a, b) => a + b, 0),
	errors_outside_window: errorsAll - Object.values(errors).reduce((a, b) => a + b, 0),
	first_errors: firstErrors,
	other_orders: tail.size,
	orders_not_one_line: multiLine,
	mail,
	memory,
	cpu_us_per_order: cpu,
	statuses: { users: sample.length, orders: checked, by_status: statuses },
	gauges,
	started: new Date(t0wall).toISOString(),
};
process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
