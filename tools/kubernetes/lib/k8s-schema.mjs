// JSON Schemas for the Kubernetes API, generated from the TypeScript
// declarations of the npm package kubernetes-types (which are generated from
// the Kubernetes OpenAPI document, one .d.ts per API group and version).
//
// Every interface becomes a strict JSON Schema: its members are the only
// properties allowed (additionalProperties: false, like kubeconform -strict),
// the members without `?` are required, `Array<T>` is an array, an index
// signature is a map. Quantity becomes the Kubernetes quantity (a string of
// the quantity grammar, or a number), Time and MicroTime strings, an empty
// interface (RawExtension, FieldsV1...) any object. What TypeScript cannot
// say is lost: integers are plain numbers, and formats and enums are not
// checked.
//
// Definitions are named "<group>.<version>.<Type>" (core.v1.PodSpec,
// meta.v1.ObjectMeta, api.resource.Quantity) in one schema document whose
// $id is "k8s"; "<name>@partial" is the same type with nothing required, at
// every depth (the embedded pod templates of the RabbitmqCluster CRD are
// declared that way).

import { readFileSync } from 'node:fs';
import path from 'node:path';

// The Kubernetes quantity grammar (apimachinery's resource.Quantity), as the
// CRDs' openAPIV3Schema spell it.
const QUANTITY_PATTERN =
	'^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

const SPECIAL = {
	'api.resource.Quantity': {
		anyOf: [{ type: 'string', pattern: QUANTITY_PATTERN }, { type: 'number' }],
	},
	'meta.v1.Time': { type: 'string' },
	'meta.v1.MicroTime': { type: 'string' },
};

// ------------------------------------------------------------ the lexer

function tokenize(src, file) {
	// Comments first: the declarations carry one /** ... */ per member.
	const text = src.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
	const tokens = [];
	const re = /\s+|([A-Za-z_$][A-Za-z0-9_$]*)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([{}[\]<>:;|?,()=.])/gy;
	let m;
	while (re.lastIndex < text.length) {
		const at = re.lastIndex;
		m = re.exec(text);
		if (!m || m.index !== at) {
			throw new Error(`${file}: cannot read the declarations at "${text.slice(at, at + 40)}"`);
		}
		if (m[1]) tokens.push({ t: 'id', v: m[1] });
		else if (m[2]) tokens.push({ t: 'str', v: m[2].slice(1, -1) });
		else if (m[3]) tokens.push({ t: 'p', v: m[3] });
	}
	return tokens;
}

// ------------------------------------------------------------ the parser

class Parser {
	constructor(tokens, file) {
		this.k = tokens;
		this.i = 0;
		this.file = file;
	}
	peek(o = 0) {
		return this.k[this.i + o];
	}
	is(v, o = 0) {
		const t = this.peek(o);
		return t !== undefined && t.v === v && (t.t === 'p' || t.t === 'id');
	}
	take(v) {
		const t = this.k[this.i];
		if (!t || (v !== undefined && t.v !== v)) {
			const got = t ? `"${t.v}"` : 'the end';
			throw new Error(`${this.file}: expected ${v === undefined ? 'a token' : `"${v}"`}, got ${got}`);
		}
		this.i++;
		return t;
	}
	ident() {
		const t = this.take();
		if (t.t !== 'id') throw new Error(`${this.file}: expected a name, got "${t.v}"`);
		return t.v;
	}

	module() {
		const imports = {};
		const decls = {};
		while (this.i < this.k.length) {
			if (this.is('import')) {
				this.take('import');
				this.take('{');
				const names = [];
				while (!this.is('}')) {
					names.push(this.ident());
					if (this.is(',')) this.take(',');
				}
				this.take('}');
				this.take('from');
				const from = this.take().v;
				if (this.is(';')) this.take(';');
				for (const n of names) imports[n] = from;
			} else if (this.is('export')) {
				this.take('export');
				if (this.is('interface')) {
					this.take('interface');
					const name = this.ident();
					decls[name] = this.objectType();
				} else if (this.is('type')) {
					this.take('type');
					const name = this.ident();
					this.take('=');
					decls[name] = this.type();
					if (this.is(';')) this.take(';');
				} else {
					throw new Error(`${this.file}: unexpected "export ${this.peek().v}"`);
				}
			} else {
				throw new Error(`${this.file}: unexpected "${this.peek().v}"`);
			}
		}
		return { imports, decls };
	}

	// { member; member; [name: string]: T; }
	objectType() {
		this.take('{');
		const members = [];
		let index = null;
		while (!this.is('}')) {
			if (this.is('[')) {
				this.take('[');
				this.ident();
				this.take(':');
				this.take('string');
				this.take(']');
				this.take(':');
				index = this.type();
			} else {
				let readonly = false;
				if (this.is('readonly') && !this.is(':', 1) && !this.is('?', 1)) {
					this.take('readonly');
					readonly = true;
				}
				const nameTok = this.take();
				const name = nameTok.v;
				let optional = false;
				if (this.is('?')) {
					this.take('?');
					optional = true;
				}
				this.take(':');
				members.push({ name, optional, readonly, type: this.type() });
			}
			if (this.is(';') || this.is(',')) this.take();
		}
		this.take('}');
		return { kind: 'object', members, index };
	}

	type() {
		const alts = [this.primary()];
		while (this.is('|')) {
			this.take('|');
			alts.push(this.primary());
		}
		return alts.length === 1 ? alts[0] : { kind: 'union', alts };
	}

	primary() {
		let t;
		const tok = this.peek();
		if (!tok) throw new Error(`${this.file}: a type is missing at the end`);
		if (tok.t === 'str') {
			this.take();
			t = { kind: 'literal', value: tok.v };
		} else if (this.is('{')) {
			t = this.objectType();
		} else if (this.is('(')) {
			this.take('(');
			t = this.type();
			this.take(')');
		} else {
			const name = this.ident();
			if (name === 'Array') {
				this.take('<');
				const item = this.type();
				this.take('>');
				t = { kind: 'array', item };
			} else if (['string', 'number', 'boolean', 'any', 'unknown', 'null', 'object'].includes(name)) {
				t = { kind: 'prim', name };
			} else {
				t = { kind: 'ref', name };
			}
		}
		while (this.is('[') && this.is(']', 1)) {
			this.take('[');
			this.take(']');
			t = { kind: 'array', item: t };
		}
		return t;
	}
}

// ------------------------------------------------------------ the generator

export class KubernetesSchemas {
	// root: the folder of the kubernetes-types package.
	constructor(root) {
		this.root = root;
		this.modules = new Map(); // "core/v1" -> {imports, decls}
		this.definitions = {};
		this.pending = [];
	}

	static fromPackage(nodeModules) {
		return new KubernetesSchemas(path.join(nodeModules, 'kubernetes-types'));
	}

	version() {
		return JSON.parse(readFileSync(path.join(this.root, 'package.json'), 'utf8')).version;
	}

	module(mod) {
		if (!this.modules.has(mod)) {
			const file = path.join(this.root, `${mod}.d.ts`);
			const src = readFileSync(file, 'utf8');
			this.modules.set(mod, new Parser(tokenize(src, file), file).module());
		}
		return this.modules.get(mod);
	}

	// The definition name of NAME as seen from module MOD.
	resolve(mod, name) {
		const m = this.module(mod);
		if (m.decls[name]) return { mod, name };
		const from = m.imports[name];
		if (!from) throw new Error(`kubernetes-types ${mod}: unknown type ${name}`);
		const target = path.posix.normalize(path.posix.join(path.posix.dirname(mod), from));
		return this.resolve(target, name);
	}

	static defName(mod, name, partial) {
		return `${mod.replaceAll('/', '.')}.${name}${partial ? '@partial' : ''}`;
	}

	// Make sure the definition exists (and those it refers to), return its $ref.
	ref(mod, name, partial = false) {
		const r = this.resolve(mod, name);
		const key = KubernetesSchemas.defName(r.mod, r.name, partial);
		if (!(key in this.definitions)) {
			this.definitions[key] = null; // reserved: recursion stops here
			const plain = KubernetesSchemas.defName(r.mod, r.name, false);
			this.definitions[key] = SPECIAL[plain] ?? this.schema(r.mod, this.module(r.mod).decls[r.name], partial);
		}
		return { $ref: `k8s#/definitions/${key}` };
	}

	schema(mod, t, partial) {
		switch (t.kind) {
			case 'prim':
				if (t.name === 'any' || t.name === 'unknown') return {};
				if (t.name === 'object') return { type: 'object' };
				return { type: t.name };
			case 'literal':
				return { type: 'string', const: t.value };
			case 'array':
				return { type: 'array', items: this.schema(mod, t.item, partial) };
			case 'ref':
				return this.ref(mod, t.name, partial);
			case 'union': {
				const prims = t.alts.filter((a) => a.kind === 'prim').map((a) => a.name);
				// IntOrString is declared `number | string`.
				if (t.alts.length === 2 && prims.includes('number') && prims.includes('string')) {
					return { anyOf: [{ type: 'integer' }, { type: 'string' }] };
				}
				return { anyOf: t.alts.map((a) => this.schema(mod, a, partial)) };
			}
			case 'object': {
				if (t.members.length === 0 && !t.index) return { type: 'object' };
				const s = { type: 'object' };
				if (t.members.length > 0) {
					s.properties = {};
					for (const m of t.members) s.properties[m.name] = this.schema(mod, m.type, partial);
					const req = t.members.filter((m) => !m.optional).map((m) => m.name);
					if (req.length > 0 && !partial) s.required = req;
				}
				s.additionalProperties = t.index ? this.schema(mod, t.index, partial) : false;
				return s;
			}
			default:
				throw new Error(`kubernetes-types ${mod}: cannot convert a ${t.kind}`);
		}
	}

	// The module that declares apiVersion (e.g. "apps/v1" -> apps/v1, "v1" ->
	// core/v1, "networking.k8s.io/v1" -> networking/v1).
	static moduleOf(apiVersion) {
		const parts = apiVersion.split('/');
		if (parts.length === 1) return `core/${parts[0]}`;
		const group = parts[0].replace(/\.k8s\.io$/, '').replace(/\.authorization$/, '');
		return `${group}/${parts[1]}`;
	}

	// The $ref of the top-level object of that apiVersion and kind, or null
	// when kubernetes-types does not declare it.
	kind(apiVersion, kind) {
		const mod = KubernetesSchemas.moduleOf(apiVersion);
		let m;
		try {
			m = this.module(mod);
		} catch {
			return null;
		}
		const d = m.decls[kind];
		if (!d || d.kind !== 'object') return null;
		const av = d.members.find((x) => x.name === 'apiVersion');
		const k = d.members.find((x) => x.name === 'kind');
		if (!av || av.type.kind !== 'literal' || av.type.value !== apiVersion) return null;
		if (!k || k.type.kind !== 'literal' || k.type.value !== kind) return null;
		return this.ref(mod, kind);
	}

	// The schema document to give ajv.addSchema (after every kind() and
	// ref() call that the validation needs).
	document() {
		return { $id: 'k8s', definitions: this.definitions };
	}
}
