// Helpers for the user service tests (users.test.mjs, auth.test.mjs,
// events.test.mjs, broker-outage.test.mjs): unique accounts per run,
// register / login, the User and auth-answer shapes, the claims of the
// tokens the user service issues, its JWK Set, a client that checks every
// answer for leaked passwords and 5xx, and forged tokens aimed at one real
// user (so a 401 can only come from the forgery, never from an unknown sub).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { env } from './env.mjs';
import { client, show, assertJson } from './http.mjs';
import { b64url, claims, decodeJwt, now, signES256, signingKeys } from './jwt.mjs';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// RFC 3339 UTC, optionally with a fraction of a second.
export const RFC3339_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;
export const USER_KEYS = ['id', 'email', 'name', 'role', 'created_at'];
export const AUTH_KEYS = ['user', 'access_token', 'token_type', 'expires_in'];
/** Access tokens live 15 minutes (exp = iat + 900, expires_in 900). */
export const TOKEN_TTL_S = 900;
/** Failed logins for one email before 429 (the test fleet's LOGIN_MAX_FAILURES). */
export const loginMaxFailures = Number(process.env.SHOP_LOGIN_MAX_FAILURES) || 5;

/** The seed accounts of every fleet (API.md). Never fail a login on them: that would throttle them. */
export const SEED = Object.freeze({
	customer: Object.freeze({ email: 'paintest@example.com', password: 'password123', role: 'customer' }),
	admin: Object.freeze({ email: 'admin@example.com', password: 'admin12345', role: 'admin' }),
});

export const runId = crypto.randomBytes(4).toString('hex');
let seq = 0;
/** An address unique to this run: itest-<run>-<tag>-<n>@example.com. */
export const newEmail = (tag = 'u') => `itest-${runId}-${tag}-${++seq}@example.com`;
/** A random password, remembered as a secret no answer may contain. */
export const newPassword = () => rememberSecret(`itest-pw-${crypto.randomBytes(9).toString('base64url')}`);
/** A display name unique to this run. */
export const newName = (tag = 'User') => `Itest ${tag} ${runId}-${++seq}`;

// ---------------------------------------------------------------- "never" checks

const secrets = new Set();
/** Remembers a password (8+ characters): from now on no answer may contain it. */
export function rememberSecret(s) {
	if (typeof s === 'string' && s.length >= 8) secrets.add(s);
	return s;
}
for (const s of Object.values(SEED)) rememberSecret(s.password);
/** Every password this process sent so far (a copy). */
export const secretsSent = () => [...secrets];

/** Paths of every object key that looks like a password ("password", "password_hash", ...). */
export function passwordKeys(value, at = '$') {
	const out = [];
	if (Array.isArray(value)) {
		value.forEach((v, i) => out.push(...passwordKeys(v, `${at}[${i}]`)));
	} else if (value !== null && typeof value === 'object') {
		for (const [k, v] of Object.entries(value)) {
			if (/pass(word|wd)|hash/i.test(k)) out.push(`${at}.${k}`);
			out.push(...passwordKeys(v, `${at}.${k}`));
		}
	}
	return out;
}

/**
 * What no answer of the user service may ever be: a 5xx (bad input is a
 * 4xx), a body with a password-like key, a body that echoes a password this
 * process sent, or one that shows a password hash.
 */
export function assertNeverLeaks(res) {
	assert.ok(res.status < 500, `a 5xx is never the answer to a client's request (bad input is a 4xx)\n${show(res)}`);
	if (res.body !== undefined) {
		const keys = passwordKeys(res.body);
		assert.deepEqual(keys, [], `no answer may carry a password or its hash; found ${keys.join(', ')}\n${show(res)}`);
	}
	for (const s of secrets) {
		assert.ok(!res.text.includes(s), `the answer echoes a password that was sent ('${s.slice(0, 12)}...')\n${show(res)}`);
	}
	assert.doesNotMatch(res.text, /\$argon2(id|i|d)\$|\$2[aby]\$\d\d\$|\$scrypt\$|\$pbkdf2/i, `the answer shows a password hash\n${show(res)}`);
}

/** client(baseUrl) whose every answer goes through assertNeverLeaks. */
export function guardedClient(baseUrl) {
	const inner = client(baseUrl);
	const send = async (method, path, opts) => {
		const res = await inner.send(method, path, opts);
		assertNeverLeaks(res);
		return res;
	};
	return {
		baseUrl,
		send,
		get: (path, opts) => send('GET', path, opts),
		delete: (path, opts) => send('DELETE', path, opts),
		post: (path, json, opts = {}) => send('POST', path, { ...opts, json }),
		patch: (path, json, opts = {}) => send('PATCH', path, { ...opts, json }),
		put: (path, json, opts = {}) => send('PUT', path, { ...opts, json }),
		raw: async (method, rawPath, opts) => {
			const res = await inner.raw(method, rawPath, opts);
			assertNeverLeaks(res);
			return res;
		},
	};
}

// ---------------------------------------------------------------- shapes

/** Asserts `u` is exactly a User of API.md; `expect` pins some values. Returns u. */
export function assertUser(u, expect = {}, where = 'user') {
	const j = JSON.stringify(u);
	assert.ok(u && typeof u === 'object' && !Array.isArray(u), `${where} must be an object: ${j}`);
	assert.deepEqual(Object.keys(u).sort(), [...USER_KEYS].sort(), `${where} must have exactly the fields ${USER_KEYS.join(', ')}: ${j}`);
	assert.match(String(u.id), UUID_RE, `${where}.id must be a UUID: ${j}`);
	assert.ok(typeof u.email === 'string' && u.email === u.email.toLowerCase() && u.email.includes('@'), `${where}.email must be a lower-case address: ${j}`);
	assert.ok(typeof u.name === 'string' && u.name.trim().length > 0, `${where}.name must be a non-blank string: ${j}`);
	assert.ok(u.role === 'customer' || u.role === 'admin', `${where}.role must be "customer" or "admin": ${j}`);
	assert.ok(typeof u.created_at === 'string' && RFC3339_UTC.test(u.created_at) && !Number.isNaN(Date.parse(u.created_at)),
		`${where}.created_at must be an RFC 3339 UTC time (e.g. 2026-11-21T10:02:03Z): ${j}`);
	for (const [k, v] of Object.entries(expect)) {
		assert.equal(u[k], v, `${where}.${k} must be ${JSON.stringify(v)}: ${j}`);
	}
	return u;
}

/** The claims of a JWT (no verification). */
export const tokenClaims = (token) => decodeJwt(token).payload;

/**
 * Asserts a token issued by the user service for `user`: ES256 with a kid
 * (one of `kids` when given); claims sub, email, role, iat, exp = iat + 900,
 * iss, aud, jti.
 */
export function assertTokenFor(token, user, { kids } = {}) {
	assert.ok(typeof token === 'string' && token.split('.').length === 3, `access_token must be a JWS compact token: ${token}`);
	const { header, payload } = decodeJwt(token);
	const j = JSON.stringify({ header, payload });
	assert.equal(header.alg, 'ES256', `the token's header must say alg ES256: ${j}`);
	assert.ok(typeof header.kid === 'string' && header.kid.length > 0, `the token's header must carry a kid: ${j}`);
	if (kids) assert.ok(kids.includes(header.kid), `the token's kid '${header.kid}' must be a key of /.well-known/jwks.json (${kids.join(', ')})`);
	assert.equal(payload.sub, user.id, `claim sub must be the user's id: ${j}`);
	assert.equal(payload.email, user.email, `claim email must be the user's email: ${j}`);
	assert.equal(payload.role, user.role, `claim role must be the user's role: ${j}`);
	assert.ok(Number.isInteger(payload.iat) && Math.abs(payload.iat - now()) < 300, `claim iat must be now, in seconds since the epoch: ${j}`);
	assert.equal(payload.exp, payload.iat + TOKEN_TTL_S, `claim exp must be iat + ${TOKEN_TTL_S}: ${j}`);
	assert.equal(payload.iss, env.jwtIssuer, `claim iss must be '${env.jwtIssuer}': ${j}`);
	const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
	assert.ok(aud.includes(env.jwtAudience), `claim aud must be '${env.jwtAudience}': ${j}`);
	assert.ok(typeof payload.jti === 'string' && payload.jti.length > 0, `claim jti must be a non-empty string: ${j}`);
	return { header, payload };
}

/**
 * Asserts a register (201) or login (200) answer: exactly {user,
 * access_token, token_type "Bearer", expires_in 900}, the user's shape
 * (and `expect` values), the token's claims. Returns { user, token }.
 */
export function assertAuthAnswer(res, status, expect = {}, { kids, what = '' } = {}) {
	const body = assertJson(res, status, what);
	assert.deepEqual(Object.keys(body ?? {}).sort(), [...AUTH_KEYS].sort(), `${what}: the answer must be exactly {${AUTH_KEYS.join(', ')}}\n${show(res)}`);
	assert.equal(body.token_type, 'Bearer', `${what}: token_type must be "Bearer"\n${show(res)}`);
	assert.equal(body.expires_in, TOKEN_TTL_S, `${what}: expires_in must be ${TOKEN_TTL_S}\n${show(res)}`);
	const user = assertUser(body.user, expect, `${what} user`);
	assertTokenFor(body.access_token, user, { kids });
	return { user, token: body.access_token };
}

// ---------------------------------------------------------------- actions

/**
 * Registers a new account (fresh email, password and name unless given);
 * asserts 201 and the answer. Returns { user, token, email, password, name }.
 */
export async function registerUser(http, over = {}, opts = {}) {
	const email = over.email ?? newEmail(over.tag);
	const password = rememberSecret(over.password ?? newPassword());
	const name = over.name ?? newName();
	const res = await http.post('/api/auth/register', { email, password, name }, opts);
	const { user, token } = assertAuthAnswer(res, 201, { email: email.toLowerCase(), name, role: 'customer' }, { what: 'POST /api/auth/register' });
	return { user, token, email: user.email, password, name, res };
}

/** POST /api/auth/login (never retried on 429: throttling is under test). */
export function login(http, email, password, opts = {}) {
	return http.post('/api/auth/login', { email, password }, { retry429: false, ...opts });
}

/** Logs in and asserts 200; returns { user, token }. */
export async function loginOk(http, email, password, expect = {}) {
	return assertAuthAnswer(await login(http, email, password), 200, { email: email.toLowerCase(), ...expect }, { what: `POST /api/auth/login ${email}` });
}

/** GET /api/users/me with a token; asserts 200 and the shape; returns the user. */
export async function me(http, token, what = 'GET /api/users/me') {
	return assertUser(assertJson(await http.get('/api/users/me', { token }), 200, what), {}, what);
}

/** GET /.well-known/jwks.json, shape-checked; returns the keys. */
export async function fetchJwks(http) {
	const res = await http.get('/.well-known/jwks.json');
	assert.equal(res.status, 200, `GET /.well-known/jwks.json must answer 200\n${show(res)}`);
	assert.ok(['application/json', 'application/jwk-set+json'].includes(res.contentType),
		`the JWK Set must be application/json (or application/jwk-set+json)\n${show(res)}`);
	assert.equal(res.jsonError, undefined, `the JWK Set is not valid JSON\n${show(res)}`);
	const keys = res.body?.keys;
	assert.ok(Array.isArray(keys) && keys.length > 0, `the JWK Set must be {"keys": [...]} with at least one key\n${show(res)}`);
	return keys;
}

// ---------------------------------------------------------------- forged tokens

let foreignKey;
function foreignPrivateKey() {
	foreignKey ??= crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
	return foreignKey;
}
const b64json = (obj) => b64url(JSON.stringify(obj));
function hs256(header, payload, secret) {
	const input = `${b64json(header)}.${b64json(payload)}`;
	return `${input}.${b64url(crypto.createHmac('sha256', secret).update(input).digest())}`;
}

/**
 * A valid token for `user` minted with the fleet's key (the user service's
 * own signing key), with `kid` in its header: the control for the forgeries.
 */
export function mintedFor(user, { kid, ...over } = {}) {
	const header = kid ? { alg: 'ES256', typ: 'JWT', kid } : { alg: 'ES256', typ: 'JWT' };
	return signES256(claims({ sub: user.id, email: user.email, role: user.role, ...over }), { header });
}

/**
 * Tokens that claim to be `user` (its sub, email and role; the fleet's kid)
 * and must all be refused with 401, as [{ name, make }]. `other` (another
 * real user) adds a token whose sub was edited to that user's id.
 */
export function forgeriesFor(user, { kid, other } = {}) {
	const hdr = (alg) => (kid ? { alg, typ: 'JWT', kid } : { alg, typ: 'JWT' });
	const base = (over = {}) => claims({ sub: user.id, email: user.email, role: user.role, ...over });
	const es = (over = {}, key) => signES256(base(over), { header: hdr('ES256'), ...(key ? { key } : {}) });
	const unsigned = (alg) => `${b64json(hdr(alg))}.${b64json(base())}.`;
	const edited = (change) => {
		const [h, , s] = es().split('.');
		return `${h}.${b64json({ ...base(), ...change })}.${s}`;
	};
	const list = [
		{ name: 'expired an hour ago', make: () => es({ iat: now() - 7200, exp: now() - 3600 }) },
		{ name: 'wrong iss', make: () => es({ iss: 'someone-else' }) },
		{ name: 'wrong aud', make: () => es({ aud: 'not-shop' }) },
		{ name: 'no exp claim', make: () => es({ exp: undefined }) },
		{ name: 'exp as a string', make: () => es({ exp: String(now() + 3600) }) },
		{ name: 'alg none', make: () => unsigned('none') },
		{ name: 'alg None', make: () => unsigned('None') },
		{ name: 'alg NONE', make: () => unsigned('NONE') },
		{ name: 'HS256 MAC\'d with the public key PEM', make: () => hs256(hdr('HS256'), base(), signingKeys().publicPem) },
		{ name: 'HS256 MAC\'d with the public key PEM minus its final newline', make: () => hs256(hdr('HS256'), base(), signingKeys().publicPem.trimEnd()) },
		{ name: 'header says ES384 over an ES256 signature', make: () => {
			const [, p, s] = es().split('.');
			return `${b64json(hdr('ES384'))}.${p}.${s}`;
		} },
		{ name: 'signed by a foreign key (with the fleet\'s kid)', make: () => es({}, foreignPrivateKey()) },
		{ name: 'payload tampered (role admin)', make: () => edited({ role: user.role === 'admin' ? 'customer' : 'admin' }) },
		{ name: 'payload tampered (exp pushed a day on)', make: () => edited({ exp: now() + 86400 }) },
		{ name: 'signature removed', make: () => `${es().split('.').slice(0, 2).join('.')}.` },
		{ name: 'signature of another token', make: () => {
			const [h, p] = es().split('.');
			const [, , s] = es({ jti: crypto.randomUUID() }).split('.');
			return `${h}.${p}.${s}`;
		} },
		{ name: 'two segments only', make: () => es().split('.').slice(0, 2).join('.') },
		{ name: 'garbage', make: () => 'not.a.jwt' },
	];
	if (other) {
		list.push({ name: 'payload tampered (sub of another user)', make: () => edited({ sub: other.id, email: other.email }) });
	}
	return list;
}

/** Authorization headers that carry no usable bearer token: [{ name, headers }]. */
export function nonBearerAuths(email = 'nobody@example.com', password = 'nobody-password') {
	return [
		{ name: 'no Authorization header', headers: {} },
		{ name: 'Authorization: Basic', headers: { authorization: `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}` } },
		{ name: 'Authorization: Bearer with no token', headers: { authorization: 'Bearer' } },
		{ name: 'Authorization: Bearer and spaces', headers: { authorization: 'Bearer    ' } },
	];
}
