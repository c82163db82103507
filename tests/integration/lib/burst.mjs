// Helpers of the burst tests (saga-faults, scale-out): many shoppers'
// checkouts at once, then waiting for every order to leave `pending`.
import assert from 'node:assert/strict';
import { request } from './http.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs fn(item, index) over items with `n` workers. */
export async function pool(items, n, fn) {
	let next = 0;
	await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
		while (next < items.length) {
			const k = next++;
			await fn(items[k], k);
		}
	}));
}

/** request(), but a network error answers {status: 0, error} instead of throwing. */
export const tryRequest = (method, url, opts) => request(method, url, opts)
	.catch((err) => ({ method, url, status: 0, text: err.message, headers: new Headers(), body: undefined, error: err.message }));

/**
 * Polls GET {baseUrl}/api/orders/{s.order.id} with each shopper's token
 * until no order of `list` is pending (s.final is then its last answer; s.lastPoll
 * the last poll); fails after timeoutMs naming some of those left.
 */
export async function settleAll(list, what, { baseUrl, timeoutMs, concurrency = 8, pollMs = 300, retry429 = true }) {
	const t0 = Date.now();
	let pending = list.filter((s) => !s.final);
	while (pending.length > 0) {
		await pool(pending, concurrency, async (s) => {
			const res = await tryRequest('GET', `${baseUrl}/api/orders/${s.order.id}`, { token: s.token, retry429 });
			s.lastPoll = res;
			if (res.status === 200 && res.body?.status && res.body.status !== 'pending') s.final = res.body;
		});
		pending = list.filter((s) => !s.final);
		if (pending.length === 0) break;
		assert.ok(Date.now() - t0 < timeoutMs, `${what}: ${pending.length} of ${list.length} orders still not settled after ${timeoutMs} ms, e.g.:\n  ` +
			pending.slice(0, 8).map((s) => `order ${s.order.id} (${s.paymentToken}${s.requestId ? `, request ${s.requestId}` : ''}): ${s.lastPoll?.status} ${String(s.lastPoll?.text).slice(0, 300)}`).join('\n  '));
		await sleep(pollMs);
	}
	console.error(`# ${what}: all ${list.length} orders settled ${Date.now() - t0} ms after the burst`);
}
