// Rendering the overlays with `kubectl kustomize`, offline.
//
// The kustomizations are written for kustomize v5 (kubectl 1.27 and later:
// `resources` naming folders, `patches`). kubectl 1.20 (Debian 12's
// kubernetes-client) embeds kustomize v2.0.3, which knows neither; and
// kustomize v5 warns about the older spellings (`bases`,
// `patchesStrategicMerge`). So with a kustomize older than v5 the tree is
// copied to a temporary folder and each kustomization.yaml rewritten in the
// old spelling (folders in `resources` to `bases`, `patches: [{path}]` to
// `patchesStrategicMerge`), which renders the same objects; anything else
// that old kustomize lacks is refused with a message rather than rendered
// differently.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

function run(cmd, args) {
	const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
	if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
	return r;
}

// {kustomize: "v5.5.0" | null, client: "v1.32.4", modern: bool}
export function kubectlVersion(kubectl) {
	const r = run(kubectl, ['version', '--client', '-o', 'json']);
	if (r.status !== 0) throw new Error(`${kubectl} version --client failed: ${r.stderr.trim()}`);
	const v = JSON.parse(r.stdout);
	const client = v.clientVersion?.gitVersion ?? 'unknown';
	const kustomize = v.kustomizeVersion ?? null; // printed from kubectl 1.24 on
	const major = kustomize ? Number(/^v?(\d+)/.exec(kustomize)?.[1] ?? 0) : 0;
	return { client, kustomize, modern: major >= 5 };
}

function kustomizationFiles(dir) {
	const out = [];
	for (const e of readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) out.push(...kustomizationFiles(p));
		else if (e.name === 'kustomization.yaml') out.push(p);
	}
	return out;
}

// Rewrite one kustomization.yaml (in the temporary copy) for kustomize < v5.
function legacyKustomization(file, treeRoot) {
	const k = YAML.parse(readFileSync(file, 'utf8'));
	const dir = path.dirname(file);
	const rel = path.join('infrastructure/kubernetes', path.relative(treeRoot, file));
	for (const unsupported of ['labels', 'components', 'replacements', 'replicas', 'openapi', 'helmCharts']) {
		if (k[unsupported] !== undefined) {
			throw new Error(`${rel}: "${unsupported}" cannot be rendered by kustomize < v5 (this check's legacy mode); use kubectl >= 1.27`);
		}
	}
	if (k.resources) {
		const files = [];
		const bases = [];
		for (const r of k.resources) {
			(statSync(path.join(dir, r)).isDirectory() ? bases : files).push(r);
		}
		delete k.resources;
		if (files.length) k.resources = files;
		if (bases.length) k.bases = bases;
	}
	if (k.patches) {
		k.patchesStrategicMerge = k.patches.map((p) => {
			if (typeof p !== 'object' || !p.path || Object.keys(p).length !== 1) {
				throw new Error(`${rel}: only patches of the form {path: file} can be rendered by kustomize < v5 (this check's legacy mode)`);
			}
			return p.path;
		});
		delete k.patches;
	}
	for (const g of [...(k.configMapGenerator ?? []), ...(k.secretGenerator ?? [])]) {
		if (g.options) {
			throw new Error(`${rel}: per-generator "options" cannot be rendered by kustomize < v5; use generatorOptions`);
		}
		if (g.envs) {
			throw new Error(`${rel}: generator "envs" cannot be rendered by kustomize < v5`);
		}
	}
	writeFileSync(file, YAML.stringify(k));
}

// Render each overlay; returns {name: {docs, warnings}}; throws on failure.
export function renderOverlays(kubectl, kubernetesDir, overlays, version) {
	let tree = kubernetesDir;
	let tmp = null;
	if (!version.modern) {
		tmp = mkdtempSync(path.join(os.tmpdir(), 'shop-k8s-'));
		tree = path.join(tmp, 'kubernetes');
		cpSync(kubernetesDir, tree, { recursive: true });
		for (const f of kustomizationFiles(tree)) legacyKustomization(f, tree);
	}
	try {
		const out = {};
		for (const name of overlays) {
			const dir = path.join(tree, 'overlays', name);
			const r = run(kubectl, ['kustomize', dir]);
			if (r.status !== 0) {
				throw new Error(`kubectl kustomize overlays/${name} failed:\n${r.stderr.trim()}`);
			}
			const warnings = (r.stderr + r.stdout)
				.split('\n')
				.filter((l) => /warning/i.test(l) && /^(#\s*)?warning/i.test(l.trim()));
			const parsed = YAML.parseAllDocuments(r.stdout);
			const docs = [];
			for (const d of parsed) {
				if (d.errors.length) throw new Error(`overlays/${name}: the rendered YAML does not parse: ${d.errors[0].message}`);
				const js = d.toJS();
				if (js !== null && js !== undefined) docs.push(js);
			}
			out[name] = { docs, warnings };
		}
		return out;
	} finally {
		if (tmp) rmSync(tmp, { recursive: true, force: true });
	}
}
