// Where the fleet under test lives, from the environment that
// scripts/test-all.sh sets. Every value has a default that matches a dev
// fleet started by scripts/dev-up.sh, so `node --test tests/integration/`
// also works by hand against a running dev fleet.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function baseUrl(name, fallback) {
	const raw = (process.env[name] ?? '').trim() || fallback;
	let url;
	try {
		url = new URL(raw);
	} catch {
		throw new Error(`${name}='${raw}' is not a URL (expected e.g. http://127.0.0.1:9000)`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new Error(`${name}='${raw}' must be an http:// or https:// URL`);
	}
	return raw.replace(/\/+$/, '');
}

const stateDir = (process.env.SHOP_STATE_DIR ?? '').trim() || path.join(repoRoot, '.state', 'dev');

function firstExisting(candidates) {
	return candidates.find((p) => p && fs.existsSync(p));
}

const jwtPrivateKeyPath =
	(process.env.SHOP_JWT_PRIVATE_KEY ?? '').trim() ||
	firstExisting([
		path.join(stateDir, 'secrets', 'jwt_private.pem'),
		path.join(stateDir, 'jwt_private.pem'),
	]) ||
	path.join(stateDir, 'secrets', 'jwt_private.pem');

// Optional: the exact public key file the daemons read (JWT_PUBLIC_KEY_FILE).
// Used only to forge the "HS256 MAC'd with the public key" attack token with
// the very bytes a confused verifier would use as the HMAC secret. When
// absent, the PEM is derived from the private key (same bytes as
// `openssl ec -pubout` writes).
const jwtPublicKeyPath =
	(process.env.SHOP_JWT_PUBLIC_KEY ?? '').trim() ||
	firstExisting([
		path.join(path.dirname(jwtPrivateKeyPath), 'jwt_public.pem'),
		path.join(path.dirname(jwtPrivateKeyPath), 'public.pem'),
	]) ||
	'';

export const env = Object.freeze({
	gatewayUrl: baseUrl('SHOP_GATEWAY_URL', 'http://127.0.0.1:9000'),
	productUrl: baseUrl('SHOP_PRODUCT_URL', 'http://127.0.0.1:8004'),
	// The user daemon, directly (dev 8005, test fleet 28005).
	userUrl: baseUrl('SHOP_USER_URL', 'http://127.0.0.1:8005'),
	// RabbitMQ's management HTTP API (guest/guest unless the URL carries
	// user:password@), used to watch what the daemons publish.
	rabbitMgmtUrl: baseUrl('SHOP_RABBITMQ_MGMT_URL', 'http://127.0.0.1:15672'),
	// The cart daemon, directly (dev 8006, test fleet 28006).
	cartUrl: baseUrl('SHOP_CART_URL', 'http://127.0.0.1:8006'),
	// The order, payment and email daemons, directly (dev 8001-8003, test
	// fleet 28001-28003).
	orderUrl: baseUrl('SHOP_ORDER_URL', 'http://127.0.0.1:8001'),
	paymentUrl: baseUrl('SHOP_PAYMENT_URL', 'http://127.0.0.1:8002'),
	emailUrl: baseUrl('SHOP_EMAIL_URL', 'http://127.0.0.1:8003'),
	// The SMTP sink's Maildir (new/ holds one file per message received).
	mailDir: (process.env.SHOP_MAIL_DIR ?? '').trim() || path.join(stateDir, 'mail'),
	jwtPrivateKeyPath,
	jwtPublicKeyPath,
	// The fleet's internal service token (X-Internal-Token on /internal/).
	internalTokenPath: (process.env.SHOP_INTERNAL_TOKEN_FILE ?? '').trim() || path.join(stateDir, 'secrets', 'internal_token'),
	jwtIssuer: (process.env.SHOP_JWT_ISSUER ?? '').trim() || 'shop-user',
	jwtAudience: (process.env.SHOP_JWT_AUDIENCE ?? '').trim() || 'shop',
	stateDir,
	// Per-request timeout. A healthy fleet answers in milliseconds; a hang is
	// a bug ("failure of a dependency becomes a 503, fast, never a hang").
	requestTimeoutMs: Number(process.env.SHOP_TEST_TIMEOUT_MS) || 15000,
});

export function describeEnv() {
	return [
		`SHOP_GATEWAY_URL=${env.gatewayUrl}`,
		`SHOP_PRODUCT_URL=${env.productUrl}`,
		`SHOP_USER_URL=${env.userUrl}`,
		`SHOP_CART_URL=${env.cartUrl}`,
		`SHOP_ORDER_URL=${env.orderUrl}`,
		`SHOP_PAYMENT_URL=${env.paymentUrl}`,
		`SHOP_EMAIL_URL=${env.emailUrl}`,
		`SHOP_MAIL_DIR=${env.mailDir}`,
		`SHOP_RABBITMQ_MGMT_URL=${env.rabbitMgmtUrl.replace(/\/\/[^@/]*@/, '//***@')}`,
		`SHOP_JWT_PRIVATE_KEY=${env.jwtPrivateKeyPath}`,
		`SHOP_JWT_ISSUER=${env.jwtIssuer}`,
		`SHOP_JWT_AUDIENCE=${env.jwtAudience}`,
		`SHOP_STATE_DIR=${env.stateDir}`,
	].join(' ');
}
