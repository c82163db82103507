#!/usr/bin/env node
// Renders the Kubernetes overlays of infrastructure/kubernetes with
// `kubectl kustomize` and validates what comes out, offline:
//
//   1. every object against a JSON Schema: the Kubernetes API ones generated
//      from the npm package kubernetes-types (lib/k8s-schema.mjs), the
//      RabbitmqCluster and CloudNativePG Cluster ones in schemas/; strict
//      (an unknown field is an error), and an object of a kind without a
//      schema is an error too;
//   2. the project's rules (lib/rules.mjs): probes, resources, preStop and
//      non-root on every Deployment, an HPA and a PDB for every daemon,
//      Service selectors and ports, every variable a daemon's .env.example
//      cannot default in a pod, the databases and Secrets, the RabbitMQ
//      topology against infrastructure/rabbitmq/definitions.json, and what
//      each overlay promises (OVERLAYS below).
//
//   node tools/kubernetes/validate.mjs [--root DIR] [--kubectl PATH] [overlay...]
//
// Prints one line per overlay, and each problem; exits 1 on any problem.
// scripts/checks/kubernetes.sh runs it (one test of scripts/test-all.sh).

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';

import { KubernetesSchemas } from './lib/k8s-schema.mjs';
import { kubectlVersion, renderOverlays } from './lib/render.mjs';
import { daemons as repoDaemons, definitions as repoDefinitions } from './lib/repo.mjs';
import { checkOverlay } from './lib/rules.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// What each overlay is for (the issue "Kubernetes manifests for scale"), and
// the Secrets it expects to be created out of band (docs/guides/kubernetes.md
// lists the same, with the commands). A new overlay needs an entry here.
const RABBIT_USERS = ['shop-admin', 'shop'];
const OVERLAYS = {
	dev: {
		maxReplicas: 1,
		rabbitReplicas: 1,
		pgInstances: 1,
		deployments: ['mailpit', 'redis'],
		externalSecrets: ['shop-jwt'],
		rabbitUsers: RABBIT_USERS,
	},
	prod: {
		minReplicas: 2,
		scales: true,
		rabbitReplicas: 3,
		pgInstances: 3,
		ingressTLS: true,
		noRenderedSecrets: true,
		deployments: ['redis'],
		externalSecrets: ['shop-amqp', 'shop-internal-token', 'shop-jwt', 'shop-rabbitmq-admin', 'shop-smtp', 'shop-tls'],
		rabbitUsers: RABBIT_USERS,
	},
};

function parseArgs(argv) {
	const a = { root: path.resolve(here, '../..'), kubectl: process.env.KUBECTL || 'kubectl', overlays: [] };
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--root') a.root = path.resolve(argv[++i]);
		else if (argv[i] === '--kubectl') a.kubectl = argv[++i];
		else if (argv[i].startsWith('-')) throw new Error(`unknown option ${argv[i]}`);
		else a.overlays.push(argv[i]);
	}
	return a;
}

// The CRD schemas of schemas/, by "apiVersion kind".
function crdSchemas() {
	const dir = path.join(here, 'schemas');
	const out = new Map();
	for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
		const s = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
		out.set(`${s.properties.apiVersion.const} ${s.properties.kind.const}`, s);
	}
	return out;
}

// Every "k8s#/definitions/<name>" a schema refers to.
function k8sRefs(node, acc = new Set()) {
	if (Array.isArray(node)) node.forEach((n) => k8sRefs(n, acc));
	else if (node && typeof node === 'object') {
		for (const [k, v] of Object.entries(node)) {
			if (k === '$ref' && typeof v === 'string' && v.startsWith('k8s#/definitions/')) acc.add(v.slice('k8s#/definitions/'.length));
			else k8sRefs(v, acc);
		}
	}
	return acc;
}

function schemaValidator(docsByOverlay) {
	const k8s = KubernetesSchemas.fromPackage(path.join(here, 'node_modules'));
	const crds = crdSchemas();
	for (const s of crds.values()) {
		for (const name of k8sRefs(s)) {
			const [plain, variant] = name.split('@');
			const parts = plain.split('.');
			k8s.ref(parts.slice(0, -1).join('/'), parts.at(-1), variant === 'partial');
		}
	}
	const roots = new Map();
	for (const { docs } of Object.values(docsByOverlay)) {
		for (const d of docs) {
			const key = `${d.apiVersion} ${d.kind}`;
			if (!roots.has(key) && !crds.has(key)) roots.set(key, k8s.kind(d.apiVersion, d.kind));
		}
	}
	const ajv = new Ajv({ allErrors: true, strict: false });
	ajv.addSchema(k8s.document());
	const compiled = new Map();
	for (const [key, s] of crds) compiled.set(key, ajv.compile(s));
	for (const [key, ref] of roots) if (ref) compiled.set(key, ajv.compile(ref));
	return {
		k8sVersion: k8s.version(),
		crdKinds: [...crds.keys()],
		validate(d) {
			const v = compiled.get(`${d.apiVersion} ${d.kind}`);
			if (!v) return [`no schema for apiVersion ${d.apiVersion} kind ${d.kind} (add one to tools/kubernetes/schemas/)`];
			if (v(d)) return [];
			return formatErrors(v.errors);
		},
	};
}

// ajv's errors, readably: anyOf alternatives are noise once one branch
// explains the failure, so the deepest errors come first and repeats go.
function formatErrors(errors) {
	const out = [];
	for (const e of errors) {
		if (e.keyword === 'anyOf' || e.keyword === 'if') continue;
		let msg;
		const where = e.instancePath || '/';
		if (e.keyword === 'additionalProperties') msg = `${where}: unknown field "${e.params.additionalProperty}"`;
		else if (e.keyword === 'required') msg = `${where}: missing required field "${e.params.missingProperty}"`;
		else if (e.keyword === 'const') msg = `${where}: must be ${JSON.stringify(e.params.allowedValue)}`;
		else if (e.keyword === 'enum') msg = `${where}: must be one of ${e.params.allowedValues.join(', ')}`;
		else msg = `${where}: ${e.message}`;
		if (!out.includes(msg)) out.push(msg);
	}
	return out.slice(0, 8);
}

function main() {
	const args = parseArgs(process.argv.slice(2));
	const kdir = path.join(args.root, 'infrastructure/kubernetes');
	const overlays = args.overlays.length
		? args.overlays
		: readdirSync(path.join(kdir, 'overlays'), { withFileTypes: true })
				.filter((e) => e.isDirectory())
				.map((e) => e.name)
				.sort();
	const version = kubectlVersion(args.kubectl);
	const rendered = renderOverlays(args.kubectl, kdir, overlays, version);
	const schemas = schemaValidator(rendered);
	const daemons = repoDaemons(args.root);
	const definitions = repoDefinitions(args.root);
	console.log(
		`kubectl ${version.client}, kustomize ${version.kustomize ?? 'v2/v4 (legacy spelling)'}; ` +
			`schemas: Kubernetes ${schemas.k8sVersion} (kubernetes-types), ${schemas.crdKinds.map((k) => k.split(' ')[1]).join(', ')}`,
	);
	let failed = 0;
	for (const name of overlays) {
		const { docs, warnings } = rendered[name];
		const problems = [];
		if (version.modern) for (const w of warnings) problems.push(`kustomize: ${w.trim()}`);
		for (const d of docs) for (const p of schemas.validate(d)) problems.push(`${d.kind}/${d.metadata?.name} (schema): ${p}`);
		const expect = OVERLAYS[name];
		if (!expect) problems.push(`overlay: "${name}" has no entry in OVERLAYS of tools/kubernetes/validate.mjs (say what it promises)`);
		problems.push(...checkOverlay({ overlay: name, docs, expect: expect ?? {}, daemons, definitions }));
		const kinds = new Map();
		for (const d of docs) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
		const summary = [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
		if (problems.length === 0) {
			console.log(`overlays/${name}: ok (${docs.length} objects: ${summary})`);
		} else {
			failed++;
			console.log(`overlays/${name}: ${problems.length} problem${problems.length === 1 ? '' : 's'} (${docs.length} objects)`);
			for (const p of problems) console.log(`  ${p}`);
		}
	}
	return failed === 0 ? 0 : 1;
}

try {
	process.exitCode = main();
} catch (e) {
	console.log(`kubernetes manifests: ${e.message}`);
	process.exitCode = 1;
}
