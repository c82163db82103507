// The user service (API.md "Auth and users") through the gateway and on the
// daemon directly: register, login (case-insensitive emails, one answer for
// a wrong password and an unknown email, throttling with Retry-After),
// logout (the token is revoked everywhere, other tokens live on), the
// current user (me only: no route to another user), PATCH rules for the
// name and the password, the seed accounts, the JWK Set (a token from login
// verifies with it), and every bad input: malformed JSON, wrong types,
// missing and unknown fields, out-of-range lengths. No answer may ever be a
// 5xx or carry a password or its hash (guardedClient checks every one).
import { describe, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { env } from './lib/env.mjs';
import { show, assertJson, assertProblem, assertStatus, waitForHealthy, once, itAfter } from './lib/http.mjs';
import { decodeJwt, signingKeys, verifyES256 } from './lib/jwt.mjs';
import {
	SEED, assertAuthAnswer, assertUser, fetchJwks, guardedClient, login, loginMaxFailures, loginOk, me,
	newEmail, newName, newPassword, registerUser, rememberSecret, secretsSent, tokenClaims, UUID_RE,
} from './lib/users.mjs';
import { acquireBrokerLock } from './lib/broker.mjs';
import { BROKER_RE, isUp, logFilesOf, readyEntries } from './lib/platform.mjs';
import fs from 'node:fs';

const gw = guardedClient(env.gatewayUrl);
const direct = guardedClient(env.userUrl);
const targets = [
	{ label: 'gateway', http: gw },
	{ label: 'user daemon (direct)', http: direct },
];

const setup = once(async () => {
	await waitForHealthy(env.gatewayUrl);
	await waitForHealthy(env.userUrl);
});
const it = itAfter(setup, nodeIt);

/** Sends `body` ({raw} = these exact bytes as application/json, else JSON) with opts. */
function sendBody(http, method, path, body, opts = {}) {
	if (body && body.raw !== undefined) return http.send(method, path, { ...opts, body: body.raw, contentType: opts.contentType ?? 'application/json' });
	return http.send(method, path, { ...opts, json: body });
}

/**
 * After a rejected register: no account exists for `email` (registering it
 * now succeeds). Skipped for values that are not a valid address.
 */
async function assertNoAccount(email, what) {
	if (typeof email !== 'string' || email.length > 254 || !/^itest-[^@\s]+@example\.com$/i.test(email)) return;
	const res = await gw.post('/api/auth/register', { email, password: newPassword(), name: newName('Probe') });
	assert.equal(res.status, 201, `${what}: the request was rejected, yet an account for ${email} exists (registering it again answered ${res.status})\n${show(res)}`);
}

/** The body of a 401 login, without what may legitimately differ per answer. */
const comparable = (p) => ({ type: p.type, title: p.title, status: p.status, detail: p.detail, keys: Object.keys(p).filter((k) => k !== 'instance').sort() });

// ---------------------------------------------------------------- register

describe('POST /api/auth/register', () => {
	it('creates a customer: 201 {user, access_token, token_type "Bearer", expires_in 900}; the token works at once', async () => {
		const email = newEmail('reg');
		const password = newPassword();
		const name = `Itest Zoë Ørsted 李 ${crypto.randomBytes(3).toString('hex')}`;
		const res = await gw.post('/api/auth/register', { email, password, name });
		const { user, token } = assertAuthAnswer(res, 201, { email, name, role: 'customer' }, { what: 'register' });
		assert.ok(Math.abs(Date.parse(user.created_at) - Date.now()) < 5 * 60 * 1000, `created_at must be now, is ${user.created_at}`);
		assert.deepEqual(await me(gw, token), user, 'GET /api/users/me with the register token (gateway) must show the new user');
		assert.deepEqual(await me(direct, token), user, 'GET /api/users/me with the register token (daemon) must show the new user');
	});

	it('stores the email lower-case; the same address in any case is then 409 and changes nothing', async () => {
		const lower = newEmail('case');
		const mixed = lower.replace(/^itest/, 'ITest').replace('@example.com', '@Example.COM');
		const first = await registerUser(gw, { email: mixed });
		assert.equal(first.user.email, lower, `registering ${mixed} must store ${lower}`);
		assert.equal(tokenClaims(first.token).email, lower, 'the token\'s email claim must be the stored (lower-case) address');
		for (const again of [lower, mixed, lower.toUpperCase()]) {
			const password = newPassword();
			const res = await gw.post('/api/auth/register', { email: again, password, name: newName('Dup') });
			assertProblem(res, 409, { what: `register ${again} after ${mixed}` });
			assertProblem(await login(gw, lower, password), 401, { what: 'the password of the refused duplicate must not log in' });
		}
		const { user } = await loginOk(gw, lower, first.password);
		assert.deepEqual(user, first.user, 'the first account must be unchanged by the refused duplicates');
	});

	it('the user daemon serves the same route directly (the gateway forwards paths unchanged)', async () => {
		const a = await registerUser(direct);
		const { user } = await loginOk(gw, a.email, a.password);
		assert.deepEqual(user, a.user);
	});

	it('passwords count code points: 8 × "é", 8 and 128 characters, 128 × "é" are accepted and log in', async () => {
		const random = (n) => Array.from(crypto.randomBytes(n), (b) => 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'[b % 56]).join('');
		for (const password of ['é'.repeat(8), random(8), random(128), `${'é'.repeat(120)}${random(8)}`]) {
			rememberSecret(password);
			const what = `a password of ${[...password].length} characters (${Buffer.byteLength(password)} bytes)`;
			const a = await registerUser(gw, { password }).catch((err) => assert.fail(`${what} must be accepted: ${err.message}`));
			const { user } = await loginOk(gw, a.email, password);
			assert.equal(user.id, a.user.id, `${what}: login must find the account`);
		}
	});

	it('application/json; charset=utf-8 is accepted', async () => {
		const email = newEmail('charset');
		const res = await gw.post('/api/auth/register', { email, password: newPassword(), name: newName() }, { contentType: 'application/json; charset=utf-8' });
		assertAuthAnswer(res, 201, { email }, { what: 'register with charset=utf-8' });
	});

	it('a 100 000-character name gets a 201 or a 400 naming name, never a 5xx', async () => {
		const res = await gw.post('/api/auth/register', { email: newEmail('longname'), password: newPassword(), name: 'N'.repeat(100000) });
		if (res.status !== 201) assertProblem(res, 400, { field: 'name', what: 'a 100 000-character name' });
	});
});

describe('POST /api/auth/register: bad input is a 4xx problem and creates nothing', () => {
	const valid = () => ({ email: newEmail('bad'), password: newPassword(), name: newName('Bad') });
	const set = (k, v) => (b) => ({ ...b, [k]: v });
	const drop = (k) => (b) => {
		const c = { ...b };
		delete c[k];
		return c;
	};
	/** The JSON of `b` with the string value of `key` replaced by raw bytes. */
	const withBytes = (b, key, bytes) => {
		const [head, tail] = JSON.stringify({ ...b, [key]: '__BYTES__' }).split('__BYTES__');
		return { raw: Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from(tail)]) };
	};
	const json = (v) => ({ raw: JSON.stringify(v) });

	// { title, body: (valid) => object | {raw}, field? }: all 400.
	const cases = [
		...['email', 'password', 'name'].map((k) => ({ title: `no ${k}`, body: drop(k), field: k })),
		{ title: 'an empty object {}', body: () => ({}), field: ['email', 'password', 'name'] },
		{ title: 'password of 7 characters', body: set('password', 'abcdefg'), field: 'password' },
		{ title: 'password of 7 × "é" (14 bytes)', body: set('password', 'é'.repeat(7)), field: 'password' },
		{ title: 'an empty password', body: set('password', ''), field: 'password' },
		{ title: 'password of 129 characters', body: set('password', 'p'.repeat(129)), field: 'password' },
		{ title: 'password of 129 × "é"', body: set('password', 'é'.repeat(129)), field: 'password' },
		{ title: 'name ""', body: set('name', ''), field: 'name' },
		{ title: 'name of spaces', body: set('name', '   '), field: 'name' },
		{ title: 'name of tabs and newlines', body: set('name', '\t\n \r'), field: 'name' },
		...[
			['""', ''],
			['" "', ' '],
			['without @', 'itest-plainaddress.example.com'],
			['without a local part', '@example.com'],
			['without a domain', 'itest-nodomain@'],
			['with two @', 'itest@@example.com'],
			['with a space inside', 'itest space@example.com'],
			['with a space in the domain', 'itest@exa mple.com'],
			['with a newline', 'itest\n@example.com'],
			['of 400 characters', `itest-${'x'.repeat(380)}@example.com`],
		].map(([label, email]) => ({ title: `email ${label}`, body: set('email', email), field: 'email' })),
		{ title: 'email 5', body: set('email', 5), field: 'email' },
		{ title: 'email null', body: set('email', null), field: 'email' },
		{ title: 'email ["a@example.com"]', body: set('email', ['itest-a@example.com']), field: 'email' },
		{ title: 'password 12345678 (a number)', body: set('password', 12345678), field: 'password' },
		{ title: 'password true', body: set('password', true), field: 'password' },
		{ title: 'password null', body: set('password', null), field: 'password' },
		{ title: 'name 5', body: set('name', 5), field: 'name' },
		{ title: 'name null', body: set('name', null), field: 'name' },
		{ title: 'name {}', body: set('name', {}), field: 'name' },
		{ title: 'an unknown field (role: admin)', body: set('role', 'admin'), field: 'role' },
		{ title: 'an unknown field (id)', body: set('id', crypto.randomUUID()), field: 'id' },
		{ title: 'an unknown field (is_admin)', body: set('is_admin', true), field: 'is_admin' },
		{ title: 'an unknown field (password_hash)', body: set('password_hash', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA'), field: 'password_hash' },
		{ title: 'malformed JSON (truncated)', body: (b) => ({ raw: JSON.stringify(b).slice(0, -3) }) },
		{ title: 'malformed JSON (single quotes)', body: (b) => ({ raw: JSON.stringify(b).replace(/"/g, "'") }) },
		{ title: 'malformed JSON (trailing comma)', body: (b) => ({ raw: JSON.stringify(b).replace(/\}$/, ',}') }) },
		{ title: 'trailing data after the object', body: (b) => ({ raw: `${JSON.stringify(b)} {}` }) },
		{ title: 'an empty body', body: () => ({ raw: '' }) },
		{ title: 'JSON null', body: () => json(null) },
		{ title: 'a JSON array of the object', body: (b) => json([b]) },
		{ title: 'a JSON string', body: () => json('hello') },
		{ title: 'invalid UTF-8 in the name', body: (b) => withBytes(b, 'name', [0x49, 0xff, 0xfe, 0x49]) },
		{ title: 'a NUL character in the name', body: (b) => json({ ...b, name: 'Itest\u0000nul' }) },
	];

	for (const c of cases) {
		it(`${c.title} -> 400${c.field ? ` naming ${[c.field].flat().join('|')}` : ''}`, async () => {
			const base = valid();
			const body = c.body(base);
			const res = await sendBody(gw, 'POST', '/api/auth/register', body);
			assertProblem(res, 400, { field: c.field, what: `register with ${c.title}` });
			await assertNoAccount(body?.raw === undefined && typeof body?.email === 'string' ? body.email : base.email, `register with ${c.title}`);
		});
	}

	for (const [label, contentType] of [['no Content-Type', null], ['text/plain', 'text/plain'], ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'], ['application/jsonx', 'application/jsonx']]) {
		it(`a JSON body sent with ${label} -> 415`, async () => {
			const base = valid();
			const res = await gw.send('POST', '/api/auth/register', { body: JSON.stringify(base), contentType });
			assertProblem(res, 415, { what: `register with ${label}` });
			await assertNoAccount(base.email, `register with ${label}`);
		});
	}

	it('no body at all (and no Content-Type) -> 415', async () => {
		assertProblem(await gw.send('POST', '/api/auth/register', {}), 415);
		assertProblem(await direct.send('POST', '/api/auth/register', {}), 415, { what: 'on the daemon directly' });
	});

	it('the daemon itself validates too (malformed JSON, unknown field, short password)', async () => {
		const base = valid();
		assertProblem(await sendBody(direct, 'POST', '/api/auth/register', { raw: '{"email":' }), 400);
		assertProblem(await direct.post('/api/auth/register', { ...base, role: 'admin' }), 400, { field: 'role' });
		assertProblem(await direct.post('/api/auth/register', { ...base, password: 'short' }), 400, { field: 'password' });
		await assertNoAccount(base.email, 'register on the daemon with bad input');
	});
});

// ---------------------------------------------------------------- login

describe('POST /api/auth/login', () => {
	it('200 with the same shape as register: the same user, a new token (new jti)', async () => {
		const a = await registerUser(gw);
		const { user, token } = await loginOk(gw, a.email, a.password);
		assert.deepEqual(user, a.user, 'login must answer the registered user');
		assert.notEqual(tokenClaims(token).jti, tokenClaims(a.token).jti, 'every token gets its own jti');
		assert.deepEqual(await me(gw, token), a.user);
		const again = await loginOk(direct, a.email, a.password);
		assert.deepEqual(again.user, a.user, 'the daemon directly must answer the same');
	});

	it('the email is case-insensitive', async () => {
		const a = await registerUser(gw);
		for (const variant of [a.email.toUpperCase(), a.email.replace(/^i/, 'I').replace('example', 'EXAMPLE')]) {
			const { user } = await loginOk(gw, variant, a.password);
			assert.equal(user.id, a.user.id, `login as ${variant} must find ${a.email}`);
			assert.equal(user.email, a.email, 'the answer carries the stored address');
		}
	});

	it('a wrong password, an unknown email and another user\'s password are all 401 with the identical problem', async () => {
		const a = await registerUser(gw);
		const b = await registerUser(gw);
		const wrong = assertProblem(await login(gw, a.email, newPassword()), 401, { what: 'wrong password' });
		const unknown = assertProblem(await login(gw, newEmail('nobody'), newPassword()), 401, { what: 'unknown email' });
		const others = assertProblem(await login(gw, a.email, b.password), 401, { what: 'another user\'s password' });
		assert.deepEqual(comparable(unknown), comparable(wrong), 'an unknown email must be answered exactly like a wrong password (no account enumeration)');
		assert.deepEqual(comparable(others), comparable(wrong));
		const unknownDirect = assertProblem(await login(direct, newEmail('nobody'), newPassword()), 401, { what: 'unknown email, daemon directly' });
		assert.deepEqual(comparable(unknownDirect), comparable(wrong));
	});

	it(`after ${loginMaxFailures} failed logins for one email: 429 with Retry-After, even with the right password; other accounts are not affected`, async () => {
		const a = await registerUser(gw);
		const b = await registerUser(gw);
		for (let i = 1; i <= loginMaxFailures; i++) {
			const variant = i % 2 ? a.email : a.email.toUpperCase(); // one counter per address, whatever its case
			assertProblem(await login(gw, variant, newPassword()), 401, { what: `failed login ${i} of ${loginMaxFailures}` });
		}
		for (const [label, http, email] of [['gateway', gw, a.email], ['daemon directly', direct, a.email.toUpperCase()]]) {
			const res = await login(http, email, a.password);
			assertProblem(res, 429, { what: `the right password after ${loginMaxFailures} failures (${label})` });
			const retryAfter = res.headers.get('retry-after');
			assert.match(retryAfter ?? '', /^\d+$/, `429 must carry Retry-After in whole seconds, has '${retryAfter}'\n${show(res)}`);
			assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 900, `Retry-After must be within the 900 s window, is ${retryAfter}`);
		}
		await loginOk(gw, b.email, b.password); // throttled per email, not per client address
		assertJson(await gw.get('/api/users/me', { token: a.token }), 200, 'tokens issued before the throttle still work');
	});

	it('the seed accounts log in: paintest@example.com (customer) and admin@example.com (admin)', async () => {
		for (const s of [SEED.customer, SEED.admin]) {
			const { user, token } = await loginOk(gw, s.email, s.password, { role: s.role });
			assert.equal(tokenClaims(token).role, s.role, `${s.email}: the token's role claim`);
			assert.deepEqual(await me(gw, token), user);
		}
	});
});

describe('POST /api/auth/login: bad input is a 4xx problem', () => {
	const email = () => newEmail('loginbad');
	const cases = [
		{ title: 'no email', body: () => ({ password: newPassword() }), field: 'email' },
		{ title: 'no password', body: () => ({ email: email() }), field: 'password' },
		{ title: 'an empty object {}', body: () => ({}), field: ['email', 'password'] },
		{ title: 'email 5', body: () => ({ email: 5, password: newPassword() }), field: 'email' },
		{ title: 'email null', body: () => ({ email: null, password: newPassword() }), field: 'email' },
		{ title: 'password 12345678 (a number)', body: () => ({ email: email(), password: 12345678 }), field: 'password' },
		{ title: 'password ["x"]', body: () => ({ email: email(), password: ['itest-password'] }), field: 'password' },
		{ title: 'an unknown field (name)', body: () => ({ email: email(), password: newPassword(), name: 'x' }), field: 'name' },
		{ title: 'malformed JSON', body: () => ({ raw: `{"email":"${email()}","password":` }) },
		{ title: 'trailing data after the object', body: () => ({ raw: `${JSON.stringify({ email: email(), password: newPassword() })}x` }) },
		{ title: 'an empty body', body: () => ({ raw: '' }) },
		{ title: 'a JSON array', body: () => ({ raw: '[]' }) },
	];
	for (const c of cases) {
		it(`${c.title} -> 400${c.field ? ` naming ${[c.field].flat().join('|')}` : ''}`, async () => {
			assertProblem(await sendBody(gw, 'POST', '/api/auth/login', c.body(), { retry429: false }), 400, { field: c.field, what: `login with ${c.title}` });
		});
	}
	for (const [label, contentType] of [['no Content-Type', null], ['text/plain', 'text/plain']]) {
		it(`a JSON body sent with ${label} -> 415`, async () => {
			const res = await gw.send('POST', '/api/auth/login', { body: JSON.stringify({ email: email(), password: newPassword() }), contentType, retry429: false });
			assertProblem(res, 415);
		});
	}
	it('no body at all -> 415', async () => {
		assertProblem(await gw.send('POST', '/api/auth/login', { retry429: false }), 415);
	});
});

// ---------------------------------------------------------------- logout

describe('POST /api/auth/logout', () => {
	it('204 with no body; that token is 401 from then on (gateway and daemon) while the user\'s other tokens still work', async () => {
		const a = await registerUser(gw);
		const t1 = (await loginOk(gw, a.email, a.password)).token;
		const t2 = (await loginOk(gw, a.email, a.password)).token;

		const res = await gw.post('/api/auth/logout', undefined, { token: t1 });
		assertStatus(res, 204, 'logout');
		assert.equal(res.text, '', '204 has no body');
		for (const { label, http } of targets) {
			assertProblem(await http.get('/api/users/me', { token: t1 }), 401, { what: `${label}: GET /api/users/me with a logged-out token` });
			assert.deepEqual(await me(http, t2, `${label}: a second login's token after the first logged out`), a.user);
			assert.deepEqual(await me(http, a.token, `${label}: the register token after another logged out`), a.user);
		}
		assertProblem(await gw.patch('/api/users/me', { name: newName('Revoked') }, { token: t1 }), 401, { what: 'PATCH with a logged-out token' });
		assertProblem(await gw.post('/api/auth/logout', undefined, { token: t1 }), 401, { what: 'logging out a logged-out token' });

		// The register token, logged out on the daemon directly: refused by the gateway too.
		assertStatus(await direct.post('/api/auth/logout', undefined, { token: a.token }), 204, 'logout on the daemon directly');
		for (const { label, http } of targets) {
			assertProblem(await http.get('/api/users/me', { token: a.token }), 401, { what: `${label}: the register token after its logout` });
		}
		assert.deepEqual(await me(gw, t2), a.user, 'the last token is still good');
		assert.equal((await me(gw, t2)).name, a.name, 'a refused PATCH changes nothing');
	});

	it('without a token: 401 (gateway with WWW-Authenticate: Bearer, and the daemon)', async () => {
		const res = await gw.post('/api/auth/logout', undefined, {});
		assertProblem(res, 401, { what: 'gateway' });
		assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/i, `the gateway's 401 must carry WWW-Authenticate: Bearer\n${show(res)}`);
		assertProblem(await direct.post('/api/auth/logout', undefined, {}), 401, { what: 'daemon directly' });
	});
});

// ---------------------------------------------------------------- me

describe('GET /api/users/me', () => {
	it('200 the token\'s user, the same through the gateway and on the daemon', async () => {
		const a = await registerUser(gw);
		const viaGw = await me(gw, a.token);
		assert.deepEqual(viaGw, a.user);
		assert.deepEqual(await me(direct, a.token), viaGw);
	});

	it('a token only ever shows its own user; there is no route to another user by id', async () => {
		const a = await registerUser(gw);
		const b = await registerUser(gw);
		assert.deepEqual(await me(gw, a.token), a.user);
		assert.deepEqual(await me(gw, b.token), b.user);
		const renamed = assertJson(await gw.patch('/api/users/me', { name: newName('OnlyA') }, { token: a.token }), 200, 'PATCH by A');
		assert.equal(renamed.id, a.user.id, 'PATCH /api/users/me changes the token\'s user');
		assert.deepEqual(await me(gw, b.token), b.user, 'B must not change when A patches');
		const probes = [
			['GET', `/api/users/${a.user.id}`], ['PATCH', `/api/users/${a.user.id}`], ['DELETE', `/api/users/${a.user.id}`],
			['GET', '/api/users'], ['GET', `/api/users/me/${a.user.id}`], ['GET', `/api/users/me?id=${a.user.id}`], ['GET', `/api/users/me?user_id=${a.user.id}`],
		];
		for (const [method, path] of probes) {
			for (const { label, http } of targets) {
				const opts = { token: b.token };
				if (method === 'PATCH') opts.json = { name: 'Itest hijacked' };
				const res = await http.send(method, path, opts);
				if (res.status === 200 && path.startsWith('/api/users/me?')) {
					assert.equal(res.body?.id, b.user.id, `${label} ${method} ${path} with B's token must show B, not A\n${show(res)}`);
					continue;
				}
				assert.ok(res.status >= 400 && res.status < 500, `${label} ${method} ${path} with B's token: expected a 4xx (no route to another user)\n${show(res)}`);
				assert.ok(!res.text.includes(a.user.email), `${label} ${method} ${path} with B's token must not reveal A\n${show(res)}`);
			}
		}
		const now = await me(gw, a.token);
		assert.equal(now.name, renamed.name, 'A must be as A left it');
	});

	it('without a token: 401 (gateway with WWW-Authenticate: Bearer, and the daemon)', async () => {
		const res = await gw.get('/api/users/me');
		assertProblem(res, 401, { what: 'gateway' });
		assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/i, `the gateway's 401 must carry WWW-Authenticate: Bearer\n${show(res)}`);
		assertProblem(await direct.get('/api/users/me'), 401, { what: 'daemon directly' });
	});
});

// ---------------------------------------------------------------- PATCH me

describe('PATCH /api/users/me', () => {
	it('{"name"} -> 200 with the new name, nothing else changed; GET shows it (gateway and daemon)', async () => {
		const a = await registerUser(gw);
		const name = `Itest Renamed Zoë ${crypto.randomBytes(3).toString('hex')}`;
		const got = assertUser(assertJson(await gw.patch('/api/users/me', { name }, { token: a.token }), 200, 'PATCH name'), { name });
		assert.deepEqual(got, { ...a.user, name }, 'only the name may change');
		assert.deepEqual(await me(gw, a.token), got);
		assert.deepEqual(await me(direct, a.token), got);
		const again = assertJson(await direct.patch('/api/users/me', { name: `${name} 2` }, { token: a.token }), 200, 'PATCH on the daemon');
		assert.equal(again.name, `${name} 2`);
		await loginOk(gw, a.email, a.password); // the password is untouched
	});

	it('{"password"} without current_password -> 400 naming current_password; the old password still logs in', async () => {
		const a = await registerUser(gw);
		const fresh = newPassword();
		assertProblem(await gw.patch('/api/users/me', { password: fresh }, { token: a.token }), 400, { field: 'current_password' });
		assertProblem(await gw.patch('/api/users/me', { password: fresh, name: newName('Both') }, { token: a.token }), 400, { field: 'current_password', what: 'with a name too' });
		assert.deepEqual(await me(gw, a.token), a.user, 'a refused PATCH changes nothing (not even the name sent with it)');
		await loginOk(gw, a.email, a.password);
		assertProblem(await login(gw, a.email, fresh), 401);
	});

	it('a wrong current_password -> 400 naming current_password (not 401); nothing changes and the token still works', async () => {
		const a = await registerUser(gw);
		const fresh = newPassword();
		const res = await gw.patch('/api/users/me', { password: fresh, current_password: newPassword() }, { token: a.token });
		assertProblem(res, 400, { field: 'current_password', what: 'a wrong current_password (a 401 would tell the client its token is bad)' });
		assert.deepEqual(await me(gw, a.token), a.user, 'the token must still work');
		await loginOk(gw, a.email, a.password);
		assertProblem(await login(gw, a.email, fresh), 401);
	});

	it('the right current_password -> 200; login then works with the new password only', async () => {
		const a = await registerUser(gw);
		const fresh = newPassword();
		const got = assertJson(await gw.patch('/api/users/me', { password: fresh, current_password: a.password }, { token: a.token }), 200, 'PATCH password');
		assertUser(got, { id: a.user.id, email: a.email, name: a.name, role: 'customer' });
		const { user } = await loginOk(gw, a.email, fresh);
		assert.equal(user.id, a.user.id);
		assertProblem(await login(gw, a.email, a.password), 401, { what: 'the old password after the change' });
		// A new name and a new password at once, on the daemon directly.
		const newer = newPassword();
		const name = newName('Both');
		const both = assertJson(await direct.patch('/api/users/me', { name, password: newer, current_password: fresh }, { token: (await loginOk(gw, a.email, fresh)).token }), 200, 'PATCH name + password');
		assert.equal(both.name, name);
		await loginOk(gw, a.email, newer);
		assertProblem(await login(gw, a.email, fresh), 401, { what: 'the previous password' });
	});

	it('without a token: 401, and nothing changes', async () => {
		const res = await gw.patch('/api/users/me', { name: 'Itest hijacked' });
		assertProblem(res, 401);
		assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/i, `the gateway's 401 must carry WWW-Authenticate: Bearer\n${show(res)}`);
		assertProblem(await direct.patch('/api/users/me', { name: 'Itest hijacked' }), 401, { what: 'daemon directly' });
	});
});

describe('PATCH /api/users/me: bad input is a 4xx problem and changes nothing', () => {
	// { title, body: (account) => object | {raw}, field?, status? (400), password? (touches the password) }
	const cases = [
		{ title: 'an empty object {}', body: () => ({}) },
		{ title: 'an unknown field (email)', body: () => ({ email: newEmail('steal') }), field: 'email' },
		{ title: 'an unknown field (role: admin)', body: () => ({ role: 'admin' }), field: 'role' },
		{ title: 'an unknown field (id)', body: () => ({ id: crypto.randomUUID() }), field: 'id' },
		{ title: 'a name and an unknown field', body: () => ({ name: newName('X'), colour: 'red' }), field: 'colour' },
		{ title: 'name ""', body: () => ({ name: '' }), field: 'name' },
		{ title: 'name of spaces', body: () => ({ name: '   ' }), field: 'name' },
		{ title: 'name 5', body: () => ({ name: 5 }), field: 'name' },
		{ title: 'name null', body: () => ({ name: null }), field: 'name' },
		{ title: 'a new password of 7 characters', body: (a) => ({ password: 'abcdefg', current_password: a.password }), field: 'password', password: true },
		{ title: 'a new password of 7 × "é"', body: (a) => ({ password: 'é'.repeat(7), current_password: a.password }), field: 'password', password: true },
		{ title: 'a new password of 129 characters', body: (a) => ({ password: 'q'.repeat(129), current_password: a.password }), field: 'password', password: true },
		{ title: 'password 12345678 (a number)', body: (a) => ({ password: 12345678, current_password: a.password }), field: 'password', password: true },
		{ title: 'current_password 5', body: () => ({ password: newPassword(), current_password: 5 }), field: 'current_password', password: true },
		{ title: 'malformed JSON', body: () => ({ raw: '{"name":' }) },
		{ title: 'trailing data after the object', body: () => ({ raw: `${JSON.stringify({ name: 'Itest Trailing' })} x` }) },
		{ title: 'a JSON array', body: () => ({ raw: '[{"name":"Itest Array"}]' }) },
		{ title: 'JSON null', body: () => ({ raw: 'null' }) },
	];
	const pool = [];
	/** An account of this describe (one per 6 cases: fewer registrations). */
	async function account(i) {
		const k = Math.floor(i / 6);
		pool[k] ??= registerUser(gw);
		return pool[k];
	}

	cases.forEach((c, i) => {
		it(`${c.title} -> 400${c.field ? ` naming ${c.field}` : ''}`, async () => {
			const a = await account(i);
			const before = await me(gw, a.token);
			const res = await sendBody(gw, 'PATCH', '/api/users/me', c.body(a), { token: a.token });
			assertProblem(res, c.status ?? 400, { field: c.field, what: `PATCH with ${c.title}` });
			assert.deepEqual(await me(gw, a.token), before, `PATCH with ${c.title} was refused, yet the user changed`);
			if (c.password) await loginOk(gw, a.email, a.password);
		});
	});

	for (const [label, contentType] of [['no Content-Type', null], ['text/plain', 'text/plain']]) {
		it(`a JSON body sent with ${label} -> 415`, async () => {
			const a = await account(0);
			const before = await me(gw, a.token);
			assertProblem(await gw.send('PATCH', '/api/users/me', { token: a.token, body: JSON.stringify({ name: 'Itest 415' }), contentType }), 415);
			assert.deepEqual(await me(gw, a.token), before);
		});
	}
});

// ---------------------------------------------------------------- JWKS

describe('GET /.well-known/jwks.json', () => {
	it('public, no token: a JWK Set of EC P-256 ES256 signing keys with a kid each, and no private part', async () => {
		const keys = await fetchJwks(gw);
		for (const k of keys) {
			const j = JSON.stringify(k);
			assert.equal(k.kty, 'EC', `kty: ${j}`);
			assert.equal(k.crv, 'P-256', `crv: ${j}`);
			assert.equal(k.alg, 'ES256', `alg: ${j}`);
			assert.equal(k.use, 'sig', `use: ${j}`);
			assert.ok(typeof k.kid === 'string' && k.kid.length > 0, `kid: ${j}`);
			for (const c of ['x', 'y']) {
				assert.match(String(k[c]), /^[A-Za-z0-9_-]{43}$/, `${c} must be the 32-byte coordinate in base64url without padding: ${j}`);
			}
			assert.equal(k.d, undefined, `the private part (d) must never be published: ${j}`);
			crypto.createPublicKey({ key: k, format: 'jwk' }); // must import
		}
		assert.equal(new Set(keys.map((k) => k.kid)).size, keys.length, 'kids must be unique');
		assert.deepEqual(await fetchJwks(direct), keys, 'the daemon directly must publish the same set');
	});

	it('a token from login verifies with the key its kid names (node:crypto), which is the fleet\'s signing key', async () => {
		const a = await registerUser(gw);
		const { token } = await loginOk(gw, a.email, a.password);
		const keys = await fetchJwks(gw);
		const { header, payload } = decodeJwt(token);
		const jwk = keys.find((k) => k.kid === header.kid);
		assert.ok(jwk, `the token's kid '${header.kid}' is not in the JWK Set (${keys.map((k) => k.kid).join(', ')})`);
		const publicKey = crypto.createPublicKey({ key: jwk, format: 'jwk' });
		const verified = verifyES256(token, { publicKey });
		assert.deepEqual(verified, payload);
		assert.equal(verified.sub, a.user.id);
		// The daemons verify with JWT_PUBLIC_KEY_FILE: the published key must be that key.
		const fleet = signingKeys().publicKey.export({ format: 'jwk' });
		assert.deepEqual({ x: jwk.x, y: jwk.y }, { x: fleet.x, y: fleet.y }, 'the key that signs tokens must be the fleet\'s key pair (the one every daemon verifies with)');
		// And the register token too.
		verifyES256(a.token, { publicKey });
	});
});

// ---------------------------------------------------------------- the daemon

describe('the user daemon as an operator sees it', () => {
	it('/health: 200 {status "ok", service "user", version}', async () => {
		const body = assertJson(await direct.get('/health'), 200, 'user /health');
		assert.equal(body.status, 'ok');
		assert.equal(body.service, 'user');
		assert.ok(typeof body.version === 'string' && body.version.length > 0);
	});

	it('/ready: 200 with its database, Redis and the broker, all up', async () => {
		const release = await acquireBrokerLock('shared'); // not while broker-outage.test.mjs has the broker down
		try {
			const res = await direct.get('/ready');
			const body = assertJson(res, 200, 'user /ready');
			const entries = readyEntries(body);
			for (const [re, what] of [[/postgres|database|\bdb\b|_db|pg/i, 'its database'], [/redis|cache/i, 'Redis'], [BROKER_RE, 'the broker (RabbitMQ)']]) {
				assert.ok(entries.some((e) => re.test(e.name)), `/ready must have an entry for ${what}; entries: ${JSON.stringify(entries)}\n${show(res)}`);
			}
			for (const e of entries) assert.ok(isUp(e.status), `/ready answered 200 but '${e.name}' is '${e.status}'\n${show(res)}`);
		} finally {
			release();
		}
	});

	it('the gateway\'s /ready lists the user upstream, up', async () => {
		const res = await gw.get('/ready');
		const entries = readyEntries(assertJson(res, 200, 'gateway /ready'));
		const user = entries.filter((e) => /user/i.test(e.name));
		assert.ok(user.length > 0, `the gateway's /ready must list a user upstream; entries: ${JSON.stringify(entries)}`);
		for (const e of user) assert.ok(isUp(e.status), `user upstream '${e.name}' is '${e.status}'`);
	});

	it('X-Request-ID comes back exactly as sent, through the gateway and directly, on 200, 401 and 400', async () => {
		const a = await registerUser(gw);
		for (const { label, http } of targets) {
			for (const [what, send] of [
				['GET me 200', (h) => http.get('/api/users/me', { token: a.token, headers: h })],
				['GET me 401', (h) => http.get('/api/users/me', { headers: h })],
				['login 400', (h) => http.send('POST', '/api/auth/login', { body: '{', contentType: 'application/json', headers: h, retry429: false })],
			]) {
				const id = `itest-${crypto.randomUUID()}`;
				const res = await send({ 'x-request-id': id });
				assert.equal(res.headers.get('x-request-id'), id, `${label} ${what}: X-Request-ID must come back once, as sent\n${show(res)}`);
			}
		}
	});

	it('ids are UUIDs and created_at is stable across reads', async () => {
		const a = await registerUser(gw);
		assert.match(a.user.id, UUID_RE);
		const first = await me(gw, a.token);
		const second = await me(direct, a.token);
		assert.equal(second.created_at, first.created_at);
	});
});

describe('logs', () => {
	it('no log line of the user service or the gateway holds a password or a hash', async (t) => {
		const files = [...logFilesOf('user'), ...logFilesOf('gateway')];
		if (files.length === 0) {
			t.skip(`no user or gateway log under ${env.stateDir}`);
			return;
		}
		// Make sure this process has sent some passwords first.
		const a = await registerUser(gw);
		await loginOk(gw, a.email, a.password);
		await login(gw, a.email, `${a.password}-wrong`);
		const secrets = secretsSent();
		for (const f of files) {
			const text = fs.readFileSync(f, 'utf8');
			for (const s of secrets) assert.ok(!text.includes(s), `${f} contains a password that was sent ('${s.slice(0, 10)}...')`);
			assert.doesNotMatch(text, /\$argon2(id|i|d)\$/, `${f} contains an Argon2 hash`);
		}
	});
});
