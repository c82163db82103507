#!/usr/bin/env bash
# Checks OPERATIONS.md "Configuration": every daemon's .env.example
# (services/<svc>/.env.example, gateway/.env.example) lists every variable
# the daemon reads, with the default its code gives it, and nothing else.
#
# What a daemon reads is found in its C sources (services/<svc>/src/**.c,
# gateway/src/*.c) and in the shared library (shared/src/*.c): every call
# of a config.h getter (config_string, config_required_string, config_long,
# config_port, config_bool, config_readable_file, config_secret_file,
# config_directory), followed through the functions that wrap them
# (http_env_read() in shared/, read_upstream() in the order service,
# gw_config_load() in the gateway ...), with the wrappers' parameters
# substituted from their call sites. Names and defaults are evaluated
# statically: string literals, integer arithmetic on literals and #defines
# (of the file, or of a header of the daemon or of shared/include),
# true/false, the order service's VAR("...") snprintf macro and the
# gateway's service_env(s) / service_default_upstreams(s) table
# (gateway/src/router.c). Anything else cannot be evaluated statically and
# fails the check, naming the file, the line and the expression: make it a
# literal, or teach this script the new form. getenv() anywhere but
# shared/src/config.c fails the check too (the getters are the only way
# in).
#
# .env.example lines are comments (#), blank, or NAME=value with the value
# taken literally to the end of the line (no quotes). Integers compare as
# numbers, booleans by meaning (true/1/yes/on), strings exactly.
# ENV_EXAMPLES_VERBOSE=1 prints every variable found, its default and where
# it is read.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v node >/dev/null 2>&1; then
	echo "env-examples: node is not installed (scripts/dev-up.sh installs it)"
	exit 1
fi
exec node - "$root" <<'JS'
'use strict';
const fs = require('fs');
const path = require('path');

const root = process.argv[2];
const problems = [];
const rel = (f) => path.relative(root, f);

// The getters of shared/include/shop/config.h: argument 0 is the variable,
// argument 1 its default.
const GETTERS = {
	config_string: 'str',
	config_required_string: 'str',
	config_readable_file: 'str',
	config_directory: 'str',
	config_secret_file: 'str',
	config_long: 'int',
	config_port: 'int',
	config_bool: 'bool',
};

// ---------------------------------------------------------------- C text

// Comments and preprocessor lines blanked (same offsets), and a mask in
// which string and character literals are blanked too, so that braces,
// parentheses and commas are only counted in code.
function prepare(file) {
	const src = fs.readFileSync(file, 'utf8');
	const code = src.split('');
	const mask = src.split('');
	let i = 0;
	let lineStart = true;
	while (i < src.length) {
		const c = src[i];
		if (c === '\n') {
			lineStart = true;
			i++;
			continue;
		}
		if (lineStart && /[ \t]/.test(c)) {
			i++;
			continue;
		}
		if (lineStart && c === '#') {
			// a preprocessor line, with its continuations
			while (i < src.length && src[i] !== '\n') {
				if (src[i] === '\\' && src[i + 1] === '\n') {
					code[i] = mask[i] = ' ';
					i += 2;
					continue;
				}
				code[i] = mask[i] = ' ';
				i++;
			}
			continue;
		}
		lineStart = false;
		if (c === '/' && src[i + 1] === '*') {
			const end = src.indexOf('*/', i + 2);
			const stop = end < 0 ? src.length : end + 2;
			for (; i < stop; i++) if (src[i] !== '\n') code[i] = mask[i] = ' ';
			continue;
		}
		if (c === '/' && src[i + 1] === '/') {
			for (; i < src.length && src[i] !== '\n'; i++) code[i] = mask[i] = ' ';
			continue;
		}
		if (c === '"' || c === "'") {
			i++;
			while (i < src.length && src[i] !== c && src[i] !== '\n') {
				if (src[i] === '\\') {
					mask[i] = ' ';
					i++;
				}
				mask[i] = ' ';
				i++;
			}
			i++;
			continue;
		}
		i++;
	}
	const lines = [0];
	for (let k = 0; k < src.length; k++) if (src[k] === '\n') lines.push(k + 1);
	const lineOf = (off) => {
		let lo = 0, hi = lines.length - 1;
		while (lo < hi) {
			const mid = (lo + hi + 1) >> 1;
			if (lines[mid] <= off) lo = mid; else hi = mid - 1;
		}
		return lo + 1;
	};
	return { file, src, code: code.join(''), mask: mask.join(''), lineOf };
}

// Function definitions (name, parameter names, body range) and, inside
// each, every call with its arguments as text.
function parseFunctions(t) {
	const fns = [];
	let depth = 0, segStart = 0;
	for (let i = 0; i < t.mask.length; i++) {
		const c = t.mask[i];
		if (c === '{') {
			if (depth === 0) {
				const head = t.code.slice(segStart, i);
				const m = /([A-Za-z_]\w*)\s*\(([^()]*)\)\s*$/.exec(head);
				if (m && !/^(if|for|while|switch|return|sizeof)$/.test(m[1])) {
					const params = m[2].split(',').map((p) => {
						const id = /([A-Za-z_]\w*)\s*(\[[^\]]*\])*\s*$/.exec(p.trim());
						return id ? id[1] : '';
					}).filter((p) => p && p !== 'void');
					fns.push({ name: m[1], params, start: i, end: -1, file: t.file, t });
				}
			}
			depth++;
		} else if (c === '}') {
			depth--;
			if (depth === 0) {
				const f = fns[fns.length - 1];
				if (f && f.end < 0) f.end = i;
				segStart = i + 1;
			}
		} else if (c === ';' && depth === 0) {
			segStart = i + 1;
		}
	}
	for (const f of fns) {
		f.calls = [];
		const re = /\b([A-Za-z_]\w*)\s*\(/g;
		re.lastIndex = f.start;
		let m;
		while ((m = re.exec(t.mask)) && m.index < f.end) {
			const open = m.index + m[0].length - 1;
			const args = splitArgs(t, open);
			if (!args) continue;
			f.calls.push({ callee: m[1], args: args.list, line: t.lineOf(m.index), file: t.file, fn: f });
		}
	}
	return fns;
}

// The arguments of the call whose '(' is at open, as trimmed code text.
function splitArgs(t, open) {
	const list = [];
	let depth = 0, from = open + 1;
	for (let i = open; i < t.mask.length; i++) {
		const c = t.mask[i];
		if (c === '(' || c === '[' || c === '{') depth++;
		else if (c === ')' || c === ']' || c === '}') {
			depth--;
			if (depth === 0) {
				const last = t.code.slice(from, i).trim();
				if (last || list.length) list.push(last);
				return { list, end: i };
			}
		} else if (c === ',' && depth === 1) {
			list.push(t.code.slice(from, i).trim());
			from = i + 1;
		}
	}
	return null;
}

// "a" "b" -> ab (C escapes); null when text is not only string literals.
function stringLiteral(text) {
	const re = /\s*"((?:[^"\\\n]|\\.)*)"\s*/gy;
	let out = '', m, pos = 0;
	while ((m = re.exec(text))) {
		out += m[1].replace(/\\(x[0-9a-fA-F]+|[0-7]{1,3}|.)/g, (_, e) => {
			const simple = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v', '?': '?' };
			if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
			if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
			return simple[e] ?? e;
		});
		pos = re.lastIndex;
	}
	return pos > 0 && pos === text.length ? out : null;
}

// #define NAME value (object-like), and function-like macros, per file.
function defines(t) {
	const obj = {}, fn = {};
	const text = t.src.replace(/\\\n/g, ' ');
	for (const m of text.matchAll(/^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(\(([^)]*)\))?[ \t]*(.*)$/gm)) {
		const body = m[4].replace(/\/\*.*?\*\//g, '').replace(/\/\/.*$/, '').trim();
		if (m[2]) fn[m[1]] = { params: m[3].split(',').map((s) => s.trim()), body };
		else obj[m[1]] = body;
	}
	return { obj, fn };
}

// ---------------------------------------------------------------- values

// A value is {v} (a string, a number or a boolean; v null for NULL) or
// {err: 'why'}.
function evalValue(kind, text, env, ctx, depth = 0) {
	text = text.trim();
	if (depth > 8) return { err: `cannot evaluate '${text}' (macros nest too deep)` };
	if (Object.prototype.hasOwnProperty.call(env, text)) {
		const v = env[text];
		if (v.err) return v;
		return v;
	}
	if (text === 'NULL') return { v: null };
	if (kind === 'str') {
		const s = stringLiteral(text);
		if (s !== null) return { v: s };
		const mac = /^([A-Za-z_]\w*)\s*\(([\s\S]*)\)$/.exec(text);
		if (mac && ctx.defs.fn[mac[1]]) return expandSnprintfMacro(mac[1], mac[2], env, ctx, depth);
		if (ctx.defs.obj[text] !== undefined) return evalValue(kind, ctx.defs.obj[text], env, ctx, depth + 1);
		return { err: `cannot evaluate '${text}' as a string` };
	}
	if (kind === 'bool') {
		if (text === 'true') return { v: true };
		if (text === 'false') return { v: false };
		if (ctx.defs.obj[text] !== undefined) return evalValue(kind, ctx.defs.obj[text], env, ctx, depth + 1);
		return { err: `cannot evaluate '${text}' as a boolean` };
	}
	// int: arithmetic on integer literals, #defines and parameters
	let bad = null;
	const expr = text.replace(/\b([A-Za-z_]\w*)\b/g, (id) => {
		if (Object.prototype.hasOwnProperty.call(env, id) && typeof env[id].v === 'number') return `(${env[id].v})`;
		if (ctx.defs.obj[id] !== undefined) {
			const r = evalValue('int', ctx.defs.obj[id], env, ctx, depth + 1);
			if (typeof r.v === 'number') return `(${r.v})`;
		}
		bad = bad || id;
		return id;
	}).replace(/\b(\d+)[uUlL]+\b/g, '$1');
	if (bad === null && /^[\d\s()+\-*/%]+$/.test(expr) && /\d/.test(expr)) {
		const n = Function(`"use strict"; return (${expr});`)();
		if (Number.isInteger(n)) return { v: n };
	}
	return { err: `cannot evaluate '${text}' as an integer` };
}

// NAME(arg) for a macro shaped (snprintf(buf, sizeof(buf), FORMAT, ARGS...), buf)
// as the order service's VAR(): FORMAT made of string literals and the
// macro's parameter, ARGS string values in scope; only %s conversions.
function expandSnprintfMacro(name, argText, env, ctx, depth) {
	const mac = ctx.defs.fn[name];
	const m = /^\(\s*snprintf\s*\(\s*(\w+)\s*,\s*sizeof\s*\(\s*\1\s*\)\s*,\s*(.*)\)\s*,\s*\1\s*\)$/.exec(mac.body);
	if (!m || mac.params.length !== 1) return { err: `cannot evaluate the macro ${name}(): its shape is unknown to this check` };
	const arg = evalValue('str', argText, env, ctx, depth + 1);
	if (arg.err) return arg;
	// split FORMAT, ARGS at top-level commas (no nesting expected)
	const parts = m[2].split(',').map((s) => s.trim());
	let fmt = '';
	for (const piece of parts[0].match(/"(?:[^"\\]|\\.)*"|[A-Za-z_]\w*/g) || []) {
		if (piece === mac.params[0]) fmt += arg.v;
		else if (piece.startsWith('"')) fmt += stringLiteral(piece);
		else return { err: `cannot evaluate the macro ${name}(): '${piece}' in its format` };
	}
	const vals = [];
	for (const a of parts.slice(1)) {
		const v = evalValue('str', a, env, ctx, depth + 1);
		if (v.err) return v;
		vals.push(v.v);
	}
	let k = 0, bad = false;
	const out = fmt.replace(/%(.)/g, (_, c) => {
		if (c === '%') return '%';
		if (c !== 's' || k >= vals.length) bad = true;
		return String(vals[k++]);
	});
	if (bad || k !== vals.length) return { err: `cannot evaluate the macro ${name}(): only %s conversions are understood` };
	return { v: out };
}

// ---------------------------------------------------------------- the gateway's table

// gateway/src/router.c: services[SVC_COUNT] = { [SVC_X] = {"name", "ENV", "default"}, ... }
function gatewayServiceTable() {
	const file = path.join(root, 'gateway/src/router.c');
	const src = fs.readFileSync(file, 'utf8');
	const rows = [...src.matchAll(/\[SVC_[A-Z_]+\]\s*=\s*\{\s*("(?:[^"\\]|\\.)*")\s*,\s*("(?:[^"\\]|\\.)*")\s*,\s*("(?:[^"\\]|\\.)*")\s*\}/g)]
		.map((m) => ({ env: stringLiteral(m[2]), def: stringLiteral(m[3]) }));
	if (rows.length === 0) problems.push(`${rel(file)}: the services table (name, variable, default) was not found: update scripts/checks/env-examples.sh`);
	return rows;
}

// ---------------------------------------------------------------- reads

// Object-like #defines of every header under dirs: a default may be a
// macro of a header the file includes. A name defined twice with two
// values is left out (ambiguous), so that it fails to evaluate.
function headerDefines(dirs) {
	const seen = new Map();
	for (const dir of dirs)
		for (const h of cFiles(dir, '.h')) {
			const { obj } = defines(prepare(h));
			for (const [k, v] of Object.entries(obj)) {
				if (!seen.has(k)) seen.set(k, v);
				else if (seen.get(k) !== v) seen.set(k, undefined);
			}
		}
	const out = {};
	for (const [k, v] of seen) if (v !== undefined) out[k] = v;
	return out;
}

function collect(files, headers) {
	const fns = [];
	for (const f of files) {
		const t = prepare(f);
		const defs = defines(t);
		defs.obj = { ...headers, ...defs.obj };
		for (const fn of parseFunctions(t)) {
			fn.defs = defs;
			fns.push(fn);
		}
	}
	return fns;
}

// Whether fn reads configuration, directly or through a callee.
function makeReader(byName) {
	const memo = new Map();
	const reads = (fn, stack = new Set()) => {
		if (memo.has(fn)) return memo.get(fn);
		if (stack.has(fn)) return false;
		stack.add(fn);
		let r = false;
		for (const c of fn.calls) {
			if (GETTERS[c.callee]) r = true;
			else {
				const g = resolve(byName, c.callee, fn.file);
				if (g && g !== fn && reads(g, stack)) r = true;
			}
		}
		stack.delete(fn);
		memo.set(fn, r);
		return r;
	};
	return reads;
}

// A function by name: the one in the same file first (static functions).
function resolve(byName, name, file) {
	const list = byName.get(name);
	if (!list) return null;
	return list.find((f) => f.file === file) || list[0];
}

// The variables fn reads under env (its parameters' values), appended to out.
function walk(fn, env, byName, readsConfig, out, where, depth = 0) {
	if (depth > 10) {
		problems.push(`${where}: configuration read through more than 10 nested calls`);
		return;
	}
	for (const c of fn.calls) {
		const loc = `${rel(c.file)}:${c.line}`;
		const ctx = { defs: fn.defs };
		if (GETTERS[c.callee]) {
			const kind = GETTERS[c.callee];
			const svcEnv = /^service_env\s*\(\s*(\w+)\s*\)$/.exec(c.args[0] || '');
			if (svcEnv) {
				// the gateway's loop over its routing table
				if (!new RegExp(`^service_default_upstreams\\s*\\(\\s*${svcEnv[1]}\\s*\\)$`).test(c.args[1] || '')) {
					problems.push(`${loc}: ${c.callee}(${c.args[0]}, ${c.args[1]}): cannot evaluate the default statically (expected service_default_upstreams(${svcEnv[1]}))`);
					continue;
				}
				for (const row of gatewayServiceTable())
					out.push({ name: row.env, kind, def: { v: row.def }, loc: `${loc} (gateway/src/router.c services[])` });
				continue;
			}
			const name = evalValue('str', c.args[0] || '', env, ctx);
			if (name.err || typeof name.v !== 'string') {
				problems.push(`${loc}: ${c.callee}(${c.args[0]}, ...): cannot tell the variable's name statically (${name.err || 'not a string'}): make it a literal or teach scripts/checks/env-examples.sh`);
				continue;
			}
			const def = evalValue(kind, c.args[1] || '', env, ctx);
			out.push({ name: name.v, kind, def, loc, expr: c.args[1] });
			continue;
		}
		const g = resolve(byName, c.callee, fn.file);
		if (!g || g === fn || !readsConfig(g)) continue;
		const sub = {};
		g.params.forEach((p, k) => {
			const a = c.args[k];
			if (a === undefined) return;
			// a parameter's value: whatever the argument evaluates to
			const s = evalValue('str', a, env, ctx);
			if (!s.err) sub[p] = s;
			else {
				const n = evalValue('int', a, env, ctx);
				if (!n.err) sub[p] = n;
				else {
					const b = evalValue('bool', a, env, ctx);
					sub[p] = b.err ? { err: `cannot evaluate '${a}' (argument ${k + 1} of ${g.name}() at ${loc})` } : b;
				}
			}
		});
		walk(g, sub, byName, readsConfig, out, loc, depth + 1);
	}
}

function cFiles(dir, ext = '.c') {
	const out = [];
	if (!fs.existsSync(dir)) return out;
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) out.push(...cFiles(p, ext));
		else if (e.name.endsWith(ext)) out.push(p);
	}
	return out.sort();
}

// ---------------------------------------------------------------- .env.example

function readExample(file) {
	const vars = new Map();
	if (!fs.existsSync(file)) {
		problems.push(`${rel(file)}: missing (every daemon documents its variables there)`);
		return null;
	}
	fs.readFileSync(file, 'utf8').split('\n').forEach((line, k) => {
		if (/^\s*(#.*)?$/.test(line)) return;
		const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
		if (!m) {
			problems.push(`${rel(file)}:${k + 1}: not a NAME=value line: ${line}`);
			return;
		}
		if (vars.has(m[1])) problems.push(`${rel(file)}:${k + 1}: ${m[1]} is listed twice (also line ${vars.get(m[1]).line})`);
		else vars.set(m[1], { value: m[2], line: k + 1 });
	});
	return vars;
}

const YES = ['1', 'true', 'yes', 'on'], NO = ['0', 'false', 'no', 'off'];

function show(kind, v) {
	if (v === null) return '(none: NULL)';
	if (kind === 'str') return JSON.stringify(v);
	return String(v);
}

// Returns why value (the example's text) is not the default, or null.
function differs(kind, value, def) {
	if (kind === 'bool') {
		const b = YES.includes(value.toLowerCase()) ? true : NO.includes(value.toLowerCase()) ? false : null;
		if (b === null) return `is not a boolean (true/false/1/0/yes/no/on/off)`;
		return b === def ? null : `says ${value} but the default is ${def}`;
	}
	if (kind === 'int') {
		if (!/^-?\d+$/.test(value)) return `is not an integer`;
		return BigInt(value) === BigInt(def) ? null : `says ${value} but the default is ${def}`;
	}
	const d = def === null ? '' : def;
	return value === d ? null : `says ${JSON.stringify(value)} but the default is ${show('str', def)}`;
}

// ---------------------------------------------------------------- main

// getenv() only in the getters.
for (const f of [...cFiles(path.join(root, 'shared/src')), ...cFiles(path.join(root, 'gateway/src')), ...cFiles(path.join(root, 'services'))]) {
	if (f.includes(`${path.sep}tests${path.sep}`)) continue;
	if (rel(f) === path.join('shared', 'src', 'config.c')) continue;
	const t = prepare(f);
	for (const m of t.mask.matchAll(/\b(secure_getenv|getenv)\s*\(/g))
		problems.push(`${rel(f)}:${t.lineOf(m.index)}: ${m[1]}() reads the environment behind config.h's back: use a config_* getter so that the daemon's .env.example (and this check) see it`);
}

const shared = cFiles(path.join(root, 'shared/src')).filter((f) => !f.endsWith(`${path.sep}config.c`));
const daemons = [];
for (const d of fs.readdirSync(path.join(root, 'services')).sort()) {
	const dir = path.join(root, 'services', d);
	if (fs.existsSync(path.join(dir, 'src', 'main.c'))) daemons.push({ name: d, dir, src: path.join(dir, 'src') });
}
daemons.push({ name: 'gateway', dir: path.join(root, 'gateway'), src: path.join(root, 'gateway/src') });
const sharedInclude = path.join(root, 'shared/include');

let total = 0;
for (const d of daemons) {
	const own = collect(cFiles(d.src), headerDefines([d.src, sharedInclude]));
	const all = [...own, ...collect(shared, headerDefines([path.join(root, 'shared/src'), sharedInclude]))];
	const byName = new Map();
	for (const f of all) {
		if (!byName.has(f.name)) byName.set(f.name, []);
		byName.get(f.name).push(f);
	}
	const readsConfig = makeReader(byName);
	// The entry points: functions of the daemon that read configuration
	// and that no other function of the daemon calls (main).
	const called = new Set();
	for (const f of own) for (const c of f.calls) {
		const g = resolve(byName, c.callee, f.file);
		if (g && g !== f) called.add(g);
	}
	const roots = own.filter((f) => readsConfig(f) && !called.has(f));
	const reads = [];
	for (const r of roots) {
		if (r.params.length && r.name !== 'main') {
			problems.push(`${rel(r.file)}: ${r.name}() reads configuration but nothing in ${d.name} calls it, so its parameters cannot be known`);
			continue;
		}
		walk(r, {}, byName, readsConfig, reads, rel(r.file));
	}
	if (reads.length === 0) {
		problems.push(`${d.name}: no configuration read found in ${rel(d.dir)}/src: the check cannot follow this daemon`);
		continue;
	}
	// one entry per variable; the same variable read twice must agree
	const vars = new Map();
	for (const r of reads) {
		const prev = vars.get(r.name);
		if (!prev) vars.set(r.name, r);
		else if (!r.def.err && !prev.def.err && (prev.kind !== r.kind || prev.def.v !== r.def.v))
			problems.push(`${d.name}: ${r.name} is read twice with different defaults: ${show(prev.kind, prev.def.v)} (${prev.loc}) and ${show(r.kind, r.def.v)} (${r.loc})`);
	}
	total += vars.size;
	if (process.env.ENV_EXAMPLES_VERBOSE === '1')
		for (const [name, r] of vars)
			console.log(`${d.name}\t${name}=${r.def.err ? '?' : r.def.v === null ? '' : String(r.def.v)}\t${r.kind}\t${r.loc}`);
	const exFile = path.join(d.dir, '.env.example');
	const ex = readExample(exFile);
	if (!ex) continue;
	const exRel = rel(exFile);
	for (const [name, r] of vars) {
		const e = ex.get(name);
		if (!e) {
			problems.push(`${exRel}: ${name} is missing (read at ${r.loc}, default ${r.def.err ? `unknown: ${r.def.err}` : show(r.kind, r.def.v)})`);
			continue;
		}
		if (r.def.err) {
			problems.push(`${exRel}:${e.line}: ${name}: the default at ${r.loc} cannot be checked: ${r.def.err}; make it a literal or teach scripts/checks/env-examples.sh`);
			continue;
		}
		const why = differs(r.kind, e.value, r.def.v);
		if (why) problems.push(`${exRel}:${e.line}: ${name} ${why} (${r.loc})`);
	}
	for (const [name, e] of ex)
		if (!vars.has(name)) problems.push(`${exRel}:${e.line}: ${name} is listed but ${d.name} does not read it`);
}

if (problems.length) {
	console.log('env-examples: .env.example files and the code disagree:');
	for (const p of problems) console.log(`  ${p}`);
	process.exit(1);
}
console.log(`env-examples ok (${daemons.length} daemons, ${total} variables)`);
JS
