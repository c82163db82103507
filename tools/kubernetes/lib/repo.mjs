// What the repository says about the daemons, for the rules: their names
// and ports, the variables their .env.example files name, and the broker
// topology of infrastructure/rabbitmq/definitions.json.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// KEY=value lines of an .env.example (comments and blank lines skipped).
export function readEnvExample(file) {
	const vars = new Map();
	for (const line of readFileSync(file, 'utf8').split('\n')) {
		const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
		if (m) vars.set(m[1], m[2]);
	}
	return vars;
}

// A default that only works on the developer's machine: a loopback address
// or a file under the native fleet's state folder. In a pod such a variable
// must be set, whatever the daemon would fall back to.
export function machineBound(value) {
	return /(^|[/@:,=\s])(127\.0\.0\.1|localhost|\[::1\])([:/,]|$)/.test(value) || /(^|\/)\.state\//.test(value);
}

// The daemons: services/<name>/ and gateway/, each with its .env.example.
// required: the variables the manifests must set (see machineBound; and, for
// the gateway, every <SVC>_UPSTREAMS: empty means that service's routes
// answer 503).
export function daemons(root) {
	const out = [];
	const add = (name, dir) => {
		const file = path.join(dir, '.env.example');
		if (!existsSync(file)) return;
		const vars = readEnvExample(file);
		const required = [...vars].filter(([k, v]) => machineBound(v) || (name === 'gateway' && /_UPSTREAMS$/.test(k))).map(([k]) => k);
		out.push({ name, envFile: path.relative(root, file), vars, required, port: Number(vars.get('HTTP_PORT')) });
	};
	const services = path.join(root, 'services');
	for (const e of readdirSync(services, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
		if (e.isDirectory()) add(e.name, path.join(services, e.name));
	}
	add('gateway', path.join(root, 'gateway'));
	return out;
}

export function definitions(root) {
	const file = path.join(root, 'infrastructure/rabbitmq/definitions.json');
	return JSON.parse(readFileSync(file, 'utf8'));
}
