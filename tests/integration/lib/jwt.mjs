// ES256 JWTs minted with node:crypto, as the user service would issue them,
// plus the forged and broken tokens every verifier must refuse.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { env } from './env.mjs';

export const b64url = (data) => Buffer.from(data).toString('base64url');
const b64json = (obj) => b64url(JSON.stringify(obj));

let keys; // loaded once per process

/**
 * The signing key pair: { privateKey, publicKey (KeyObjects), publicPem
 * (string: the exact bytes of the daemons' public key file when found) }.
 * Throws with a helpful message when the key cannot be used.
 */
export function signingKeys() {
	if (keys) return keys;
	let pem;
	try {
		pem = fs.readFileSync(env.jwtPrivateKeyPath, 'utf8');
	} catch (err) {
		throw new Error(
			`cannot read the JWT private key '${env.jwtPrivateKeyPath}' (${err.code ?? err.message}); ` +
				'set SHOP_JWT_PRIVATE_KEY to the ES256 PKCS#8 PEM the fleet was started with',
		);
	}
	const privateKey = crypto.createPrivateKey(pem);
	const details = privateKey.asymmetricKeyDetails ?? {};
	if (privateKey.asymmetricKeyType !== 'ec' || details.namedCurve !== 'prime256v1') {
		throw new Error(
			`'${env.jwtPrivateKeyPath}' is a ${privateKey.asymmetricKeyType} key ` +
				`(${details.namedCurve ?? 'no curve'}), expected an EC P-256 key for ES256`,
		);
	}
	const publicKey = crypto.createPublicKey(privateKey);
	let publicPem = publicKey.export({ type: 'spki', format: 'pem' });
	if (env.jwtPublicKeyPath) {
		try {
			publicPem = fs.readFileSync(env.jwtPublicKeyPath, 'utf8');
		} catch {
			/* keep the derived PEM */
		}
	}
	keys = { privateKey, publicKey, publicPem };
	return keys;
}

/** Seconds since the epoch. */
export const now = () => Math.floor(Date.now() / 1000);

/**
 * Claims of a valid token. Overrides replace claims; an override whose value
 * is `undefined` removes that claim.
 */
export function claims(overrides = {}) {
	const t = now();
	const sub = overrides.sub ?? crypto.randomUUID();
	const out = {
		sub,
		email: `itest-${sub.slice(0, 8)}@example.com`,
		role: 'customer',
		iat: t,
		exp: t + 15 * 60,
		iss: env.jwtIssuer,
		aud: env.jwtAudience,
		jti: crypto.randomUUID(),
	};
	for (const [k, v] of Object.entries(overrides)) {
		if (v === undefined) delete out[k];
		else out[k] = v;
	}
	return out;
}

/** Signs `payload` with ES256 (raw R||S signature, as JWS requires). */
export function signES256(payload, { key = signingKeys().privateKey, header = { alg: 'ES256', typ: 'JWT' } } = {}) {
	const input = `${b64json(header)}.${b64json(payload)}`;
	const sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
	return `${input}.${b64url(sig)}`;
}

/** A valid token with the given claim overrides (role defaults to customer). */
export function mintToken(overrides = {}, opts = {}) {
	return signES256(claims(overrides), opts);
}

export const adminToken = (overrides = {}) => mintToken({ role: 'admin', ...overrides });
export const customerToken = (overrides = {}) => mintToken({ role: 'customer', ...overrides });

/** Splits a JWT into its decoded header and payload and its raw signature. */
export function decodeJwt(token) {
	const [h, p, s] = token.split('.');
	return {
		header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
		payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
		signature: Buffer.from(s ?? '', 'base64url'),
	};
}

/**
 * Verifies a token the way the daemons must: alg pinned to ES256, signature,
 * exp, iss and aud. Returns the payload or throws. Used to check the
 * helpers themselves.
 */
export function verifyES256(token, { publicKey = signingKeys().publicKey } = {}) {
	const parts = token.split('.');
	if (parts.length !== 3) throw new Error('not a JWS compact serialization');
	const { header, payload, signature } = decodeJwt(token);
	if (header.alg !== 'ES256') throw new Error(`alg ${header.alg} is not ES256`);
	const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
	if (!ok) throw new Error('bad signature');
	if (typeof payload.exp !== 'number' || payload.exp <= now()) throw new Error('expired');
	if (payload.iss !== env.jwtIssuer) throw new Error('wrong iss');
	const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
	if (!aud.includes(env.jwtAudience)) throw new Error('wrong aud');
	return payload;
}

function hs256(payload, secret, header = { alg: 'HS256', typ: 'JWT' }) {
	const input = `${b64json(header)}.${b64json(payload)}`;
	return `${input}.${b64url(crypto.createHmac('sha256', secret).update(input).digest())}`;
}

let foreignKey;
function foreignPrivateKey() {
	foreignKey ??= crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
	return foreignKey;
}

/** An expired admin token (exp an hour ago). */
export const expiredToken = (o = {}) => mintToken({ role: 'admin', iat: now() - 7200, exp: now() - 3600, ...o });
/** A validly signed admin token from another issuer. */
export const wrongIssuerToken = (o = {}) => mintToken({ role: 'admin', iss: 'someone-else', ...o });
/** A validly signed admin token for another audience. */
export const wrongAudienceToken = (o = {}) => mintToken({ role: 'admin', aud: 'not-shop', ...o });
/** An unsigned admin token (`alg: none`, empty signature). */
export const algNoneToken = (o = {}, alg = 'none') =>
	`${b64json({ alg, typ: 'JWT' })}.${b64json(claims({ role: 'admin', ...o }))}.`;
/** An admin token MAC'd with HS256 using the public key PEM as the secret. */
export const hs256PublicKeyToken = (o = {}, pem = signingKeys().publicPem) => hs256(claims({ role: 'admin', ...o }), pem);
/** An admin token signed by a key the fleet never saw. */
export const foreignKeyToken = (o = {}) => mintToken({ role: 'admin', ...o }, { key: foreignPrivateKey() });
/** A customer token whose payload was edited to say admin, signature kept. */
export function tamperedToken(o = {}) {
	const token = customerToken(o);
	const [h, , s] = token.split('.');
	const { payload } = decodeJwt(token);
	return `${h}.${b64json({ ...payload, role: 'admin' })}.${s}`;
}

/**
 * Every token an admin route must answer with 401, as [{ name, make }]:
 * `make()` mints the token when called (so a slow run never sends a token
 * that expired while it waited). All of them claim role admin, so a verifier
 * that accepted one would let the request through (2xx) rather than 403.
 */
export function badTokenMakers() {
	return [
		{ name: 'expired', make: () => expiredToken() },
		{ name: 'wrong iss', make: () => wrongIssuerToken() },
		{ name: 'wrong aud', make: () => wrongAudienceToken() },
		{ name: 'alg none', make: () => algNoneToken() },
		{ name: 'alg None', make: () => algNoneToken({}, 'None') },
		{ name: 'HS256 MAC\'d with the public key PEM', make: () => hs256PublicKeyToken({}, signingKeys().publicPem) },
		{ name: 'HS256 MAC\'d with the public key PEM minus its final newline', make: () => hs256PublicKeyToken({}, signingKeys().publicPem.trimEnd()) },
		{ name: 'signed by a foreign key', make: () => foreignKeyToken() },
		{ name: 'payload tampered (customer -> admin)', make: () => tamperedToken() },
		{ name: 'no exp claim', make: () => mintToken({ role: 'admin', exp: undefined }) },
		{ name: 'garbage', make: () => 'not.a.jwt' },
	];
}

/** badTokenMakers() minted now, as [{ name, token }]. */
export const badTokens = () => badTokenMakers().map(({ name, make }) => ({ name, token: make() }));
