// The project's rules for the rendered manifests: what a JSON Schema cannot
// say. Each rule adds a line to ctx.problems; an overlay passes with none.

import { isDeepStrictEqual } from 'node:util';

import { machineBound } from './repo.mjs';

// ------------------------------------------------------------ what the operators make

// CloudNativePG: Services <cluster>-rw/-ro/-r and the Secret <cluster>-app
// (docs/src/applications.md), pods labelled cnpg.io/cluster=<cluster>.
export const CNPG_APP_SECRET_KEYS = ['username', 'password', 'host', 'port', 'dbname', 'uri', 'jdbc-uri', 'pgpass', 'fqdn-uri', 'fqdn-jdbc-uri'];
// RabbitMQ Cluster Operator: Service <cluster> (amqp 5672, management 15672,
// prometheus 15692) and <cluster>-nodes, pods labelled
// app.kubernetes.io/name=<cluster>.
const RABBIT_PORTS = [5672, 15672, 15692];

const SCHEME_PORTS = { http: 80, https: 443, redis: 6379, rediss: 6379, amqp: 5672, amqps: 5671, smtp: 25, smtps: 465, postgresql: 5432, postgres: 5432 };

// The daemons' readiness path: /ready (OPERATIONS.md), except where noted.
const READINESS_PATH = {
	// The gateway's /ready is 503 while any one upstream service has no
	// address up; as the readiness of every gateway replica that would take
	// the whole shop out of the Ingress for one service's outage
	// (base/gateway/deployment.yaml says the same).
	gateway: '/health',
};

// ------------------------------------------------------------ helpers

const id = (d) => `${d.kind}/${d.metadata?.name}`;

export function parseQuantity(q) {
	if (typeof q === 'number') return q;
	const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(q));
	if (!m) return NaN;
	const mult = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 }[m[2]];
	return mult === undefined ? NaN : Number(m[1]) * mult;
}

function selects(selector, labels) {
	if (!selector || Object.keys(selector).length === 0) return false;
	return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function decodeSecret(s) {
	const out = {};
	for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
	for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = String(v);
	return out;
}

function preStopSeconds(c) {
	const h = c.lifecycle?.preStop;
	if (!h) return null;
	if (h.sleep && Number.isInteger(h.sleep.seconds)) return h.sleep.seconds;
	const cmd = h.exec?.command;
	if (Array.isArray(cmd)) {
		const m = /^\s*(?:\/bin\/)?sleep\s+(\d+)\s*$/.exec(cmd.slice(-1)[0] ?? '');
		if (cmd.length === 2 && /(^|\/)sleep$/.test(cmd[0]) && /^\d+$/.test(cmd[1])) return Number(cmd[1]);
		if (m) return Number(m[1]);
	}
	return null;
}

// ------------------------------------------------------------ the index

class Index {
	constructor(docs) {
		this.docs = docs;
		this.by = new Map();
		for (const d of docs) {
			const k = `${d.kind}/${d.metadata?.name}`;
			this.by.set(k, d);
		}
	}
	get(kind, name) {
		return this.by.get(`${kind}/${name}`);
	}
	all(kind) {
		return this.docs.filter((d) => d.kind === kind);
	}
	// Services: rendered ones and those the operators make for rendered CRs.
	services() {
		const s = new Map();
		for (const d of this.all('Service')) s.set(d.metadata.name, (d.spec?.ports ?? []).map((p) => p.port));
		for (const r of this.all('RabbitmqCluster')) {
			s.set(r.metadata.name, RABBIT_PORTS);
			s.set(`${r.metadata.name}-nodes`, RABBIT_PORTS);
		}
		for (const c of this.all('Cluster')) for (const t of ['rw', 'ro', 'r']) s.set(`${c.metadata.name}-${t}`, [5432]);
		return s;
	}
	// Secrets the operators write for rendered CRs: name -> known keys.
	operatorSecrets() {
		const s = new Map();
		for (const c of this.all('Cluster')) {
			if (!c.spec?.bootstrap?.initdb?.secret) s.set(`${c.metadata.name}-app`, CNPG_APP_SECRET_KEYS);
		}
		return s;
	}
	// Pod label sets of the operators' workloads (for PodDisruptionBudgets).
	operatorPods() {
		const p = [];
		for (const r of this.all('RabbitmqCluster')) p.push({ 'app.kubernetes.io/name': r.metadata.name, 'app.kubernetes.io/component': 'rabbitmq' });
		for (const c of this.all('Cluster')) p.push({ 'cnpg.io/cluster': c.metadata.name });
		return p;
	}
}

// ------------------------------------------------------------ the rules

export function checkOverlay({ overlay, docs, expect, daemons, definitions }) {
	const problems = [];
	const bad = (what, msg) => problems.push(`${what}: ${msg}`);
	const ix = new Index(docs);
	const services = ix.services();
	const opSecrets = ix.operatorSecrets();
	const referencedSecrets = new Map(); // name -> [who]
	const refSecret = (name, who) => {
		if (!referencedSecrets.has(name)) referencedSecrets.set(name, []);
		referencedSecrets.get(name).push(who);
	};

	// --- every object: a name, the overlay's namespace, no duplicates
	const seen = new Set();
	const namespaces = ix.all('Namespace');
	if (namespaces.length !== 1) bad('overlay', `renders ${namespaces.length} Namespace objects (expected exactly one)`);
	const ns = namespaces[0]?.metadata?.name;
	for (const d of docs) {
		if (!d.metadata?.name) bad(id(d), 'has no metadata.name');
		const key = `${d.apiVersion} ${id(d)}`;
		if (seen.has(key)) bad(id(d), 'is rendered twice');
		seen.add(key);
		if (d.kind !== 'Namespace' && d.metadata?.namespace !== ns) {
			bad(id(d), `is in namespace ${d.metadata?.namespace ?? '(none)'}, not the overlay's ${ns}`);
		}
		if (d.metadata?.labels?.['app.kubernetes.io/part-of'] !== 'shop') bad(id(d), 'lacks the label app.kubernetes.io/part-of: shop');
	}

	// --- every Deployment: probes, resources, preStop, non-root, references
	for (const dep of ix.all('Deployment')) {
		const w = id(dep);
		const pod = dep.spec?.template?.spec ?? {};
		const podLabels = dep.spec?.template?.metadata?.labels ?? {};
		if (!selects(dep.spec?.selector?.matchLabels, podLabels)) bad(w, 'spec.selector does not match its own pod labels');
		if (pod.automountServiceAccountToken !== false) bad(w, 'mounts a service account token (automountServiceAccountToken must be false)');
		if (pod.enableServiceLinks !== false) bad(w, 'gets docker-link variables (enableServiceLinks must be false)');
		const psc = pod.securityContext ?? {};
		const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
		for (const v of pod.volumes ?? []) {
			if (v.secret) refSecret(v.secret.secretName, `${w} volume ${v.name}`);
			if (v.configMap && !v.configMap.optional && !ix.get('ConfigMap', v.configMap.name)) {
				bad(w, `volume ${v.name} names ConfigMap ${v.configMap.name}, which is not rendered`);
			}
		}
		for (const c of pod.containers ?? []) {
			const cw = `${w} container ${c.name}`;
			const ports = c.ports ?? [];
			const portOk = (p) => ports.some((x) => x.name === p || x.containerPort === p);
			for (const kind of ['livenessProbe', 'readinessProbe']) {
				const p = c[kind];
				if (!p) {
					bad(cw, `has no ${kind}`);
					continue;
				}
				const port = p.httpGet?.port ?? p.tcpSocket?.port ?? p.grpc?.port;
				if (port !== undefined && !portOk(port)) bad(cw, `${kind} probes port ${port}, which the container does not declare`);
			}
			const r = c.resources ?? {};
			for (const [k, v] of [
				['requests.cpu', r.requests?.cpu],
				['requests.memory', r.requests?.memory],
				['limits.memory', r.limits?.memory],
			]) {
				if (v === undefined) bad(cw, `has no resources.${k}`);
			}
			for (const res of ['cpu', 'memory']) {
				const rq = r.requests?.[res];
				const lm = r.limits?.[res];
				if (rq !== undefined && lm !== undefined && parseQuantity(rq) > parseQuantity(lm)) {
					bad(cw, `requests more ${res} (${rq}) than its limit (${lm})`);
				}
			}
			const pause = preStopSeconds(c);
			if (pause === null) bad(cw, 'has no preStop pause (lifecycle.preStop: exec sleep N, or sleep.seconds)');
			else if (pause < 1) bad(cw, 'pauses less than a second in preStop');
			const grace = pod.terminationGracePeriodSeconds ?? 30;
			if (pause !== null && grace < pause + 1) bad(w, `terminationGracePeriodSeconds ${grace} leaves no time after the preStop pause of ${pause} s`);
			const csc = c.securityContext ?? {};
			if ((csc.runAsNonRoot ?? psc.runAsNonRoot) !== true) bad(cw, 'may run as root (runAsNonRoot is not true)');
			const uid = csc.runAsUser ?? psc.runAsUser;
			if (uid === undefined || uid === 0) bad(cw, 'has no non-zero runAsUser (an image whose USER is a name would fail runAsNonRoot)');
			if (csc.allowPrivilegeEscalation !== false) bad(cw, 'allows privilege escalation');
			if (csc.readOnlyRootFilesystem !== true) bad(cw, 'has a writable root file system');
			if (!(csc.capabilities?.drop ?? []).includes('ALL')) bad(cw, 'does not drop ALL capabilities');
			if ((csc.seccompProfile ?? psc.seccompProfile)?.type !== 'RuntimeDefault') bad(cw, 'has no RuntimeDefault seccomp profile');
			if (csc.privileged) bad(cw, 'is privileged');
			const image = String(c.image ?? '');
			const tag = /:([^/:@]+)$/.exec(image)?.[1];
			if (!tag && !image.includes('@sha256:')) bad(cw, `image ${image} has no tag`);
			else if (tag === 'latest') bad(cw, `image ${image} is :latest`);
			for (const m of c.volumeMounts ?? []) {
				if (!volumes.has(m.name)) bad(cw, `mounts volume ${m.name}, which the pod does not have`);
			}
			for (const e of c.envFrom ?? []) {
				if (e.configMapRef && !e.configMapRef.optional && !ix.get('ConfigMap', e.configMapRef.name)) {
					bad(cw, `envFrom names ConfigMap ${e.configMapRef.name}, which is not rendered`);
				}
				if (e.secretRef) refSecret(e.secretRef.name, cw);
			}
			for (const e of c.env ?? []) {
				const cm = e.valueFrom?.configMapKeyRef;
				if (cm && !cm.optional) {
					const m = ix.get('ConfigMap', cm.name);
					if (!m) bad(cw, `env ${e.name} names ConfigMap ${cm.name}, which is not rendered`);
					else if (!(cm.key in (m.data ?? {}))) bad(cw, `env ${e.name}: ConfigMap ${cm.name} has no key ${cm.key}`);
				}
				const sk = e.valueFrom?.secretKeyRef;
				if (sk) {
					refSecret(sk.name, `${cw} env ${e.name}`);
					const s = ix.get('Secret', sk.name);
					if (s && !(sk.key in decodeSecret(s))) bad(cw, `env ${e.name}: Secret ${sk.name} has no key ${sk.key}`);
					const keys = opSecrets.get(sk.name);
					if (keys && !keys.includes(sk.key)) bad(cw, `env ${e.name}: the operator's Secret ${sk.name} has no key ${sk.key}`);
				}
			}
		}
	}

	// --- the shop's daemons
	const hpas = ix.all('HorizontalPodAutoscaler');
	const pdbs = ix.all('PodDisruptionBudget');
	for (const dm of daemons) {
		const dep = ix.get('Deployment', dm.name);
		const w = `Deployment/${dm.name}`;
		if (!dep) {
			bad(w, `is missing: ${dm.envFile} makes ${dm.name} a daemon of the shop`);
			continue;
		}
		const pod = dep.spec.template.spec;
		const podLabels = dep.spec.template.metadata?.labels ?? {};
		const c = (pod.containers ?? []).find((x) => x.name === dm.name);
		if (!c) {
			bad(w, `has no container named ${dm.name}`);
			continue;
		}
		const cw = `${w} container ${dm.name}`;
		if (!String(c.image).startsWith(`shop/${dm.name}:`)) bad(cw, `runs ${c.image}, not shop/${dm.name}:<tag>`);
		if (c.livenessProbe && c.livenessProbe.httpGet?.path !== '/health') bad(cw, 'livenessProbe is not GET /health');
		const readyPath = READINESS_PATH[dm.name] ?? '/ready';
		if (c.readinessProbe && c.readinessProbe.httpGet?.path !== readyPath) bad(cw, `readinessProbe is not GET ${readyPath}`);
		if (!c.startupProbe) bad(cw, 'has no startupProbe (the daemon applies its migrations before it answers)');
		const grace = pod.terminationGracePeriodSeconds ?? 30;
		const pause = preStopSeconds(c) ?? 0;
		// OPERATIONS.md: a daemon exits within 10 s of SIGTERM.
		if (grace < pause + 10) bad(w, `terminationGracePeriodSeconds ${grace} < preStop ${pause} s + the daemons' 10 s drain`);
		if (dep.spec.replicas !== undefined && hpas.some((h) => h.spec?.scaleTargetRef?.name === dm.name)) {
			bad(w, 'sets spec.replicas although an HPA owns the count (every apply would reset it)');
		}
		if (!hpas.some((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === dm.name)) {
			bad(w, 'has no HorizontalPodAutoscaler');
		}
		if (!pdbs.some((p) => selects(p.spec?.selector?.matchLabels, podLabels))) bad(w, 'has no PodDisruptionBudget');

		// The environment the container gets.
		const env = new Map(); // name -> {value} | {secret: {name, key}} | {other: true}
		for (const e of c.envFrom ?? []) {
			const m = e.configMapRef && ix.get('ConfigMap', e.configMapRef.name);
			if (m) for (const [k, v] of Object.entries(m.data ?? {})) env.set((e.prefix ?? '') + k, { value: String(v), from: `ConfigMap ${m.metadata.name}` });
			const s = e.secretRef && ix.get('Secret', e.secretRef.name);
			if (s) for (const [k, v] of Object.entries(decodeSecret(s))) env.set((e.prefix ?? '') + k, { value: v, from: `Secret ${s.metadata.name}` });
		}
		for (const e of c.env ?? []) {
			if (e.value !== undefined) env.set(e.name, { value: String(e.value), from: 'env' });
			else if (e.valueFrom?.secretKeyRef) {
				const sk = e.valueFrom.secretKeyRef;
				const s = ix.get('Secret', sk.name);
				const v = s ? decodeSecret(s)[sk.key] : undefined;
				env.set(e.name, { secret: sk, value: v, from: `Secret ${sk.name}` });
			} else if (e.valueFrom?.configMapKeyRef) {
				const cm = e.valueFrom.configMapKeyRef;
				env.set(e.name, { value: ix.get('ConfigMap', cm.name)?.data?.[cm.key], from: `ConfigMap ${cm.name}` });
			} else env.set(e.name, { other: true, from: 'env' });
		}
		for (const v of dm.required) {
			const got = env.get(v);
			if (!got) bad(cw, `does not set ${v} (its default in ${dm.envFile}, ${JSON.stringify(dm.vars.get(v))}, cannot work in a pod)`);
			else if (got.value !== undefined && got.value.trim() === '') bad(cw, `sets ${v} empty`);
		}
		for (const [k, v] of env) {
			if (!dm.vars.has(k) && !['HTTP_ADDRESS', 'HTTP_PORT', 'LOG_LEVEL'].includes(k)) {
				bad(cw, `sets ${k}, which ${dm.envFile} does not name (a typo, or an undocumented variable)`);
			}
			if (v.value !== undefined && machineBound(v.value)) bad(cw, `${k}=${v.value} points at the developer's machine`);
		}
		const httpPort = Number(env.get('HTTP_PORT')?.value ?? dm.port);
		if (httpPort !== dm.port) bad(cw, `HTTP_PORT ${httpPort} is not the daemon's port ${dm.port} (ARCHITECTURE.md)`);
		if (!(c.ports ?? []).some((p) => p.name === 'http' && p.containerPort === httpPort)) bad(cw, `declares no port "http" = ${httpPort}`);

		// Files: under a mount, and in the mounted Secret's items.
		for (const [k, v] of env) {
			if (!/_FILE$/.test(k) || v.value === undefined) continue;
			const file = v.value;
			const mounts = (c.volumeMounts ?? []).filter((m) => file === m.mountPath || file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
			mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
			const m = mounts[0];
			if (!m) {
				bad(cw, `${k}=${file} is not under any volume mount`);
				continue;
			}
			const vol = (pod.volumes ?? []).find((x) => x.name === m.name);
			const src = vol?.secret ?? vol?.configMap;
			const rest = file.slice(m.mountPath.replace(/\/$/, '').length + 1);
			if (src && !m.subPath) {
				if (src.items) {
					if (!src.items.some((i) => i.path === rest)) bad(cw, `${k}=${file}: volume ${m.name} has no item with path ${rest}`);
				} else if (vol.secret) {
					const s = ix.get('Secret', vol.secret.secretName);
					if (s && !(rest in decodeSecret(s))) bad(cw, `${k}=${file}: Secret ${vol.secret.secretName} has no key ${rest}`);
				}
			}
		}

		// Addresses: in-cluster hosts must be Services (and ports of them).
		for (const [k, v] of env) {
			if (v.value === undefined || !/(_URL|_UPSTREAMS)$/.test(k)) continue;
			const targets = [];
			if (/_UPSTREAMS$/.test(k)) {
				for (const hp of v.value.split(',').map((x) => x.trim()).filter(Boolean)) {
					const m = /^(.*):(\d+)$/.exec(hp);
					if (!m) bad(cw, `${k}: "${hp}" is not host:port`);
					else targets.push({ host: m[1], port: Number(m[2]) });
				}
			} else {
				let u;
				try {
					u = new URL(v.value);
				} catch {
					bad(cw, `${k} (${v.from}) is not a URL`);
					continue;
				}
				const scheme = u.protocol.replace(/:$/, '');
				targets.push({ host: u.hostname, port: u.port ? Number(u.port) : SCHEME_PORTS[scheme] });
			}
			for (const t of targets) {
				const labels = t.host.split('.');
				const inCluster = labels.length === 1 || (ns && labels[1] === ns && (labels.length === 2 || labels[2] === 'svc'));
				if (!inCluster) continue; // an outside host (a mail relay, say)
				const ports = services.get(labels[0]);
				if (!ports) bad(cw, `${k} (${v.from}) points at ${t.host}, which is no Service of the overlay`);
				else if (t.port && !ports.includes(t.port)) bad(cw, `${k} (${v.from}) points at ${t.host}:${t.port}; Service ${labels[0]} has ports ${ports.join(', ')}`);
			}
		}

		// The database: the app Secret of this daemon's CloudNativePG Cluster.
		if (dm.vars.has('DATABASE_URL')) {
			const db = env.get('DATABASE_URL');
			const cluster = ix.get('Cluster', `${dm.name}-db`);
			if (!db?.secret || db.secret.name !== `${dm.name}-db-app` || !['uri', 'fqdn-uri'].includes(db.secret.key)) {
				bad(cw, `DATABASE_URL must come from the Secret ${dm.name}-db-app, key uri (written by CloudNativePG)`);
			}
			if (!cluster) bad(cw, `has no CloudNativePG Cluster ${dm.name}-db`);
			else {
				const init = cluster.spec?.bootstrap?.initdb ?? {};
				if (init.database !== `${dm.name}_db`) bad(`Cluster/${dm.name}-db`, `bootstraps database ${init.database}, not ${dm.name}_db`);
				if (init.owner !== dm.name) bad(`Cluster/${dm.name}-db`, `bootstraps owner ${init.owner}, not ${dm.name}`);
			}
		}
	}

	// --- Services select pods, and target their ports
	const deployments = ix.all('Deployment');
	for (const s of ix.all('Service')) {
		const sel = s.spec?.selector;
		const matched = deployments.filter((d) => selects(sel, d.spec?.template?.metadata?.labels));
		if (matched.length === 0) {
			bad(id(s), `selector ${JSON.stringify(sel ?? {})} matches no Deployment's pods`);
			continue;
		}
		for (const p of s.spec.ports ?? []) {
			const tp = p.targetPort ?? p.port;
			for (const d of matched) {
				const ok = (d.spec.template.spec.containers ?? []).some((c) => (c.ports ?? []).some((x) => x.name === tp || x.containerPort === tp));
				if (!ok) bad(id(s), `port ${p.name ?? p.port} targets ${tp}, which ${id(d)} does not declare`);
			}
		}
	}

	// --- HPAs and PDBs point at something
	for (const h of hpas) {
		const t = h.spec?.scaleTargetRef ?? {};
		if (t.kind !== 'Deployment' || !ix.get('Deployment', t.name)) bad(id(h), `scales ${t.kind}/${t.name}, which is not rendered`);
		if ((h.spec?.minReplicas ?? 1) > h.spec?.maxReplicas) bad(id(h), `minReplicas ${h.spec.minReplicas} > maxReplicas ${h.spec.maxReplicas}`);
		if (!(h.spec?.metrics ?? []).length) bad(id(h), 'has no metrics');
	}
	const opPods = ix.operatorPods();
	for (const p of pdbs) {
		const sel = p.spec?.selector?.matchLabels;
		const ok = deployments.some((d) => selects(sel, d.spec?.template?.metadata?.labels)) || opPods.some((l) => selects(sel, l));
		if (!ok) bad(id(p), `selector ${JSON.stringify(sel ?? {})} matches no pods of the overlay`);
	}

	// --- the Ingress: to rendered Services, on their ports
	for (const ing of ix.all('Ingress')) {
		for (const rule of ing.spec?.rules ?? []) {
			for (const p of rule.http?.paths ?? []) {
				const b = p.backend?.service;
				const svc = b && ix.get('Service', b.name);
				if (!svc) {
					bad(id(ing), `routes ${p.path} to Service ${b?.name}, which is not rendered`);
					continue;
				}
				const ok = (svc.spec.ports ?? []).some((x) => (b.port?.name && x.name === b.port.name) || (b.port?.number && x.port === b.port.number));
				if (!ok) bad(id(ing), `routes ${p.path} to ${b.name} port ${b.port?.name ?? b.port?.number}, which the Service does not have`);
			}
		}
		for (const t of ing.spec?.tls ?? []) if (t.secretName) refSecret(t.secretName, `${id(ing)} tls`);
	}

	// --- RabbitMQ: the topology of definitions.json, imported at boot
	checkRabbit({ ix, bad, definitions, refSecret, expect });

	// --- Secrets: rendered, written by an operator, or expected out of band
	const rendered = new Set(ix.all('Secret').map((s) => s.metadata.name));
	const external = [...referencedSecrets.keys()].filter((n) => !rendered.has(n) && !opSecrets.has(n)).sort();
	const expected = [...(expect.externalSecrets ?? [])].sort();
	for (const n of external) if (!expected.includes(n)) bad(`Secret/${n}`, `is referenced (${referencedSecrets.get(n)[0]}) but neither rendered nor expected out of band`);
	for (const n of expected) if (!external.includes(n)) bad(`Secret/${n}`, 'is listed as created out of band, but nothing references it or the overlay renders it');
	if (expect.noRenderedSecrets && rendered.size > 0) bad('overlay', `renders Secrets (${[...rendered].join(', ')}): ${overlay} names them only`);

	// --- what the overlay is for
	expectations({ ix, bad, expect });

	return problems;
}

// JSON with the keys of every object sorted, at every depth.
function canonical(x) {
	if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
	if (x && typeof x === 'object') {
		return `{${Object.keys(x)
			.sort()
			.map((k) => `${JSON.stringify(k)}:${canonical(x[k])}`)
			.join(',')}}`;
	}
	return JSON.stringify(x);
}

// Order-insensitive equality of two lists of definitions.
function sameSet(a = [], b = []) {
	return isDeepStrictEqual(a.map(canonical).sort(), b.map(canonical).sort());
}

function checkRabbit({ ix, bad, definitions, refSecret, expect }) {
	const clusters = ix.all('RabbitmqCluster');
	if (clusters.length !== 1) {
		bad('overlay', `renders ${clusters.length} RabbitmqCluster objects (expected one)`);
		return;
	}
	const r = clusters[0];
	const w = id(r);
	const conf = r.spec?.rabbitmq?.additionalConfig ?? '';
	const dir = /^\s*load_definitions\s*=\s*(\S+)\s*$/m.exec(conf)?.[1];
	if (!dir) {
		bad(w, 'does not load the definitions at boot (additionalConfig: load_definitions = <folder>)');
		return;
	}
	const pod = r.spec?.override?.statefulSet?.spec?.template?.spec ?? {};
	const mounts = (pod.containers ?? []).find((c) => c.name === 'rabbitmq')?.volumeMounts ?? [];
	const vols = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
	for (const v of pod.volumes ?? []) if (v.secret) refSecret(v.secret.secretName, `${w} volume ${v.name}`);
	const adminSecret = r.spec?.secretBackend?.externalSecret?.name;
	if (adminSecret) refSecret(adminSecret, `${w} secretBackend.externalSecret`);
	else bad(w, 'has no secretBackend.externalSecret: with load_definitions RabbitMQ creates no default user, so the operator must be given one of the imported users');
	const files = mounts.filter((m) => m.mountPath.startsWith(`${dir.replace(/\/$/, '')}/`)).sort((a, b) => a.mountPath.localeCompare(b.mountPath));
	let topology = null;
	let usersFrom = null;
	for (const m of files) {
		const v = vols.get(m.name);
		if (!v) {
			bad(w, `mounts ${m.name}, which the override has no volume for`);
			continue;
		}
		if (v.configMap) {
			const cm = ix.get('ConfigMap', v.configMap.name);
			const key = m.subPath ?? '';
			if (!cm || !(key in (cm.data ?? {}))) bad(w, `${m.mountPath}: ConfigMap ${v.configMap.name} key ${key} is not rendered`);
			else topology = { file: m.mountPath, json: JSON.parse(cm.data[key]), cm: v.configMap.name };
		} else if (v.secret) {
			usersFrom = { file: m.mountPath, secret: v.secret.secretName, key: v.secret.items?.find((i) => i.path === m.subPath)?.key ?? m.subPath };
		}
	}
	if (!topology) {
		bad(w, `imports no topology ConfigMap from ${dir}`);
		return;
	}
	if (!usersFrom) bad(w, `imports no users Secret from ${dir}`);
	else if (usersFrom.file.localeCompare(topology.file) > 0) bad(w, `imports ${topology.file} before the users (${usersFrom.file}); its permissions need them`);
	if (usersFrom && adminSecret && usersFrom.secret !== adminSecret) bad(w, `imports users from ${usersFrom.secret} but tells the operator ${adminSecret}`);

	const t = topology.json;
	const cmw = `ConfigMap/${topology.cm}`;
	if (t.users) bad(cmw, 'holds users (passwords belong in the Secret)');
	for (const part of ['vhosts', 'exchanges', 'queues', 'bindings', 'policies', 'parameters']) {
		if (!sameSet(t[part], definitions[part])) bad(cmw, `${part} differ from infrastructure/rabbitmq/definitions.json (regenerate topology.json from it)`);
	}
	for (const q of t.queues ?? []) {
		if (q.arguments?.['x-queue-type'] !== 'quorum') bad(cmw, `queue ${q.name} is not a quorum queue`);
	}
	const perms = new Map((t.permissions ?? []).map((p) => [p.user, p]));
	const names = [...(t.exchanges ?? []), ...(t.queues ?? [])].map((x) => x.name);
	for (const user of expect.rabbitUsers ?? []) {
		const p = perms.get(user);
		if (!p) {
			bad(cmw, `gives user ${user} no permissions`);
			continue;
		}
		for (const kind of ['configure', 'write', 'read']) {
			const re = new RegExp(p[kind]);
			for (const n of names) if (!re.test(n)) bad(cmw, `user ${user} may not ${kind} ${n} (${p[kind]})`);
		}
	}

	// Rendered Secrets (dev): the users, the operator's user and the
	// daemons' URL must agree.
	const admin = adminSecret && ix.get('Secret', adminSecret);
	const amqp = ix.get('Secret', 'shop-amqp');
	if (admin && usersFrom) {
		const a = decodeSecret(admin);
		let users = [];
		try {
			users = JSON.parse(a[usersFrom.key] ?? '').users ?? [];
		} catch {
			bad(`Secret/${adminSecret}`, `key ${usersFrom.key} is not JSON`);
		}
		const byName = new Map(users.map((u) => [u.name, u]));
		const op = byName.get(a.username);
		if (!op) bad(`Secret/${adminSecret}`, `imports no user ${a.username} (the operator's default user)`);
		else {
			if (op.password !== a.password) bad(`Secret/${adminSecret}`, 'password differs from the imported user\'s');
			if (!(op.tags ?? []).includes('administrator')) bad(`Secret/${adminSecret}`, `${a.username} is no administrator`);
		}
		const dflt = /default_user\s*=\s*(\S+)[\s\S]*default_pass\s*=\s*(\S+)/.exec(a['default_user.conf'] ?? '');
		if (!dflt || dflt[1] !== a.username || dflt[2] !== a.password) bad(`Secret/${adminSecret}`, 'default_user.conf differs from username/password');
		for (const u of users) if (!perms.has(u.name)) bad(cmw, `gives imported user ${u.name} no permissions`);
		if (amqp) {
			try {
				const u = new URL(decodeSecret(amqp).url);
				const user = decodeURIComponent(u.username);
				const imported = byName.get(user);
				if (!imported) bad('Secret/shop-amqp', `url names user ${user}, who is not imported`);
				else if (imported.password !== decodeURIComponent(u.password)) bad('Secret/shop-amqp', `url's password is not ${user}'s`);
				if (user === a.username) bad('Secret/shop-amqp', 'the daemons connect as the administrator');
				if (u.hostname !== r.metadata.name && !u.hostname.startsWith(`${r.metadata.name}.`)) bad('Secret/shop-amqp', `url points at ${u.hostname}, not ${r.metadata.name}`);
			} catch (e) {
				bad('Secret/shop-amqp', `url is not a URL (${e.message})`);
			}
		}
	}
}

function expectations({ ix, bad, expect }) {
	for (const h of ix.all('HorizontalPodAutoscaler')) {
		const min = h.spec?.minReplicas ?? 1;
		const max = h.spec?.maxReplicas;
		if (expect.maxReplicas !== undefined && max > expect.maxReplicas) bad(id(h), `maxReplicas ${max} > ${expect.maxReplicas} in this overlay`);
		if (expect.minReplicas !== undefined && min < expect.minReplicas) bad(id(h), `minReplicas ${min} < ${expect.minReplicas} in this overlay`);
		if (expect.scales && !(max > min)) bad(id(h), `cannot scale (${min}..${max})`);
	}
	for (const r of ix.all('RabbitmqCluster')) {
		if (expect.rabbitReplicas !== undefined && r.spec?.replicas !== expect.rabbitReplicas) bad(id(r), `has ${r.spec?.replicas} nodes, not ${expect.rabbitReplicas}`);
	}
	const clusters = ix.all('Cluster');
	for (const c of clusters) {
		if (expect.pgInstances !== undefined && c.spec?.instances !== expect.pgInstances) bad(id(c), `has ${c.spec?.instances} instances, not ${expect.pgInstances}`);
	}
	for (const name of expect.deployments ?? []) if (!ix.get('Deployment', name)) bad(`Deployment/${name}`, 'is expected in this overlay');
	if (expect.ingressTLS) {
		for (const ing of ix.all('Ingress')) {
			if (!(ing.spec?.tls ?? []).length) bad(id(ing), 'has no tls');
			if ((ing.spec?.rules ?? []).some((r) => !r.host)) bad(id(ing), 'has a rule without host');
		}
	}
}
