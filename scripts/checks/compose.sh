#!/usr/bin/env bash
# Checks the docker compose packaging without a Docker engine (none runs on
# the development machines or CI): what can be told from the files alone.
#
# 1. Debian's docker-compose (1.29) validates docker-compose.yml alone, with
#    the monitoring profile, and with docker-compose.dev.yml (with and
#    without the profile), with .env.example as the env file, in an empty
#    environment (so the caller's shell cannot mask a problem). The same
#    files with an empty env file must not warn "variable is not set": a
#    fresh clone needs no .env.
# 2. The resolved configurations: every service has a healthcheck, except
#    the one-shot jobs (label shop.oneshot=true, restart "no"); every
#    depends_on has a condition, service_healthy on a service and
#    service_completed_successfully on a one-shot job; pulled images carry
#    a tag that is not latest; built images are shop/<service> from
#    infrastructure/docker/Dockerfile with a target that exists there; the
#    JWT private key's volume is mounted into keygen and the user service
#    only, and every secrets volume read-only except in keygen; the
#    gateway, RabbitMQ UI and Mailpit UI are published; the dev overrides
#    build Debug, log at debug and publish each database on its own port.
# 3. The Dockerfile, by hadolint's rules done by hand: FROM pinned by a tag
#    (never latest) or a stage; no ADD; apt-get install with -y and
#    --no-install-recommends and the lists removed in the same RUN, no
#    apt-get update alone; CMD/ENTRYPOINT in exec form; every target that
#    compose builds runs as a user other than root (following FROM
#    <stage>), and every daemon target has a HEALTHCHECK; every file it
#    copies from the context exists and .dockerignore does not exclude it.
# 4. .env.example lists exactly the variables the compose files read, with
#    the same defaults.
# 5. Monitoring: Prometheus scrapes every daemon of docker-compose.yml on
#    its service name and HTTP_PORT; the Grafana dashboard is valid JSON,
#    uses the provisioned data source, and every metric it queries (but
#    RabbitMQ's and `up`) is named in the C sources; the provisioned paths
#    are the mounted ones.
# 6. shellcheck on the scripts the images run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

for tool in docker-compose python3 shellcheck; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "compose: $tool is not installed (scripts/dev-up.sh installs the project's packages)"
		exit 1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.env"
fail=0
problem() {
	printf 'compose: %s\n' "$*"
	fail=1
}

# docker-compose in an empty environment, from the repository root.
dc() {
	env -i PATH="$PATH" HOME="${HOME:-/root}" docker-compose --project-directory "$root" "$@"
}

combos=(
	"base:-f docker-compose.yml"
	"monitoring:-f docker-compose.yml --profile monitoring"
	"dev:-f docker-compose.yml -f docker-compose.dev.yml"
	"dev-monitoring:-f docker-compose.yml -f docker-compose.dev.yml --profile monitoring"
)
for combo in "${combos[@]}"; do
	name=${combo%%:*}
	read -ra args <<<"${combo#*:}"
	if ! out=$(dc --env-file .env.example "${args[@]}" config -q 2>&1); then
		problem "docker-compose ${args[*]} config -q (env file .env.example) fails:"
		printf '%s\n' "$out" | sed 's/^/    /'
		continue
	fi
	if ! dc --env-file .env.example "${args[@]}" config >"$tmp/$name.yml" 2>"$tmp/$name.err"; then
		problem "docker-compose ${args[*]} config fails:"
		sed 's/^/    /' "$tmp/$name.err"
		continue
	fi
done
# Interpolation covers every service whatever the profile: one run with both
# files and no env file at all.
if ! dc --env-file "$tmp/empty.env" -f docker-compose.yml -f docker-compose.dev.yml \
	--profile monitoring config >/dev/null 2>"$tmp/noenv.err"; then
	problem "docker-compose config fails without an env file:"
	sed 's/^/    /' "$tmp/noenv.err"
elif grep -q 'variable is not set' "$tmp/noenv.err"; then
	problem "the compose files read variables that have no default (a fresh clone has no .env):"
	grep 'variable is not set' "$tmp/noenv.err" | sed 's/^/    /'
fi

if ! python3 - "$root" "$tmp" <<'PY'; then
import fnmatch
import glob
import json
import os
import re
import shlex
import sys

import yaml

root, tmp = sys.argv[1], sys.argv[2]
os.chdir(root)
problems = {}  # message -> the configurations it holds in (first seen first)
def problem(msg, scope=None):
    problems.setdefault(msg, [])
    if scope and scope not in problems[msg]:
        problems[msg].append(scope)

DOCKERFILE = 'infrastructure/docker/Dockerfile'
ONESHOT_LABEL = 'shop.oneshot'

# ------------------------------------------------------------------ Dockerfile

def dockerfile_instructions(path):
    """(line number, INSTRUCTION, arguments) with continuations joined and
    comments dropped."""
    out, buf, start = [], '', 0
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip('\n')
            if not buf and (not line.strip() or line.lstrip().startswith('#')):
                continue
            if buf and line.lstrip().startswith('#'):
                continue  # a comment inside a continued instruction
            if not buf:
                start = n
            if line.rstrip().endswith('\\'):
                buf += line.rstrip()[:-1] + ' '
                continue
            buf += line
            word, _, rest = buf.strip().partition(' ')
            out.append((start, word.upper(), rest.strip()))
            buf = ''
    return out

stages = {}   # name -> {'from', 'user', 'healthcheck', 'cmd', 'line'}
order = []
current = None
copies = []   # (line, [sources]) from the build context
for n, ins, args in dockerfile_instructions(DOCKERFILE):
    where = f'{DOCKERFILE}:{n}'
    if ':latest' in args or re.search(r'\bFROM\s+\S+:latest\b', ins + ' ' + args):
        problem(f'{where}: ":latest": pin a version')
    if ins == 'FROM':
        words = [w for w in args.split() if not w.startswith('--')]
        image = words[0]
        name = words[2] if len(words) >= 3 and words[1].upper() == 'AS' else None
        if image not in stages:
            base = image.split('@')[0]
            if ':' not in base.rsplit('/', 1)[-1]:
                problem(f'{where}: FROM {image}: no tag (pin the base image by a tag)')
            elif base.rsplit(':', 1)[1] == 'latest':
                problem(f'{where}: FROM {image}: latest is no pin')
        current = {'from': image, 'user': None, 'healthcheck': None, 'cmd': None, 'line': n}
        if name:
            stages[name] = current
            order.append(name)
        continue
    if current is None:
        if ins != 'ARG':
            problem(f'{where}: {ins} before the first FROM')
        continue
    if ins == 'ADD':
        problem(f'{where}: ADD: use COPY (hadolint DL3020)')
    elif ins == 'USER':
        current['user'] = args
    elif ins == 'HEALTHCHECK':
        current['healthcheck'] = args
    elif ins in ('CMD', 'ENTRYPOINT'):
        if ins == 'CMD':
            current['cmd'] = args
        try:
            ok = isinstance(json.loads(args), list)
        except ValueError:
            ok = False
        if not ok:
            problem(f'{where}: {ins} {args}: use the exec form, a JSON array (hadolint DL3025)')
    elif ins == 'RUN':
        if 'apt-get install' in args:
            if '--no-install-recommends' not in args:
                problem(f'{where}: apt-get install without --no-install-recommends (hadolint DL3015)')
            if not re.search(r'apt-get install\s+(-\S+\s+)*-y\b|apt-get install\s+.*\s-y\b', args):
                problem(f'{where}: apt-get install without -y (hadolint DL3014)')
            if 'rm -rf /var/lib/apt/lists/*' not in args:
                problem(f'{where}: apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN (hadolint DL3009)')
        if 'apt-get update' in args and 'apt-get install' not in args:
            problem(f'{where}: apt-get update alone: update and install in one RUN')
        if re.search(r'\bapt\s+install\b', args):
            problem(f'{where}: apt install: use apt-get (hadolint DL3027)')
    elif ins == 'COPY':
        words = shlex.split(args)
        flags = [w for w in words if w.startswith('--')]
        paths = [w for w in words if not w.startswith('--')]
        src_from = [f.split('=', 1)[1] for f in flags if f.startswith('--from=')]
        if src_from:
            if src_from[0] not in stages:
                problem(f'{where}: COPY --from={src_from[0]}: no such stage above')
        else:
            copies.append((n, paths[:-1]))

def effective(stage, key):
    seen = set()
    while stage in stages and stage not in seen:
        seen.add(stage)
        v = stages[stage][key]
        if v is not None:
            return v
        stage = stages[stage]['from']
    return None

# .dockerignore: the last matching pattern wins; `!` re-includes.
ignore = []
if os.path.exists('.dockerignore'):
    for line in open('.dockerignore'):
        line = line.strip()
        if line and not line.startswith('#'):
            ignore.append(line)
def ignored(path):
    path = os.path.normpath(path)
    parts = path.split(os.sep)
    result = False
    for pat in ignore:
        neg = pat.startswith('!')
        p = os.path.normpath(pat[1:] if neg else pat)
        hit = False
        for i in range(1, len(parts) + 1):
            prefix = os.sep.join(parts[:i])
            if p.startswith('**/'):
                tail = p[3:]
                if any(fnmatch.fnmatchcase(os.sep.join(parts[j:i]), tail) for j in range(i)):
                    hit = True
            elif fnmatch.fnmatchcase(prefix, p):
                hit = True
        if hit:
            result = not neg
    return result

for n, srcs in copies:
    for s in srcs:
        matches = glob.glob(s.rstrip('/')) if any(c in s for c in '*?[') else [s.rstrip('/')]
        if not matches or not all(os.path.exists(m) for m in matches):
            problem(f'{DOCKERFILE}:{n}: COPY {s}: not in the repository')
            continue
        for m in matches:
            if ignored(m):
                problem(f'{DOCKERFILE}:{n}: COPY {s}: excluded from the build context by .dockerignore')

# ------------------------------------------------------------------ compose

def load(name):
    p = os.path.join(tmp, name + '.yml')
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return yaml.safe_load(f)

def mounts(svc):
    """(source, target, read_only) of a service's volumes, either syntax."""
    out = []
    for v in svc.get('volumes') or []:
        if isinstance(v, dict):
            out.append((v.get('source'), v.get('target'), bool(v.get('read_only'))))
        else:
            bits = v.split(':')
            src, tgt = bits[0], bits[1] if len(bits) > 1 else bits[0]
            mode = bits[2] if len(bits) > 2 else 'rw'
            out.append((src, tgt, 'ro' in mode.split(',')))
    return out

def oneshot(svc):
    labels = svc.get('labels') or {}
    if isinstance(labels, list):
        labels = dict(l.split('=', 1) for l in labels)
    return str(labels.get(ONESHOT_LABEL, '')).lower() == 'true'

SECRET_VOLUMES = {'jwt-public', 'jwt-private', 'internal-token'}
configs = {k: load(k) for k in ('base', 'monitoring', 'dev', 'dev-monitoring')}

for cname, cfg in configs.items():
    if cfg is None:
        continue  # its docker-compose run failed: reported above
    services = cfg.get('services') or {}
    for name, svc in services.items():
        where = f'service {name}'
        one = oneshot(svc)
        hc = svc.get('healthcheck')
        if one:
            if str(svc.get('restart', 'no')) not in ('no', 'on-failure'):
                problem(f'{where}: a one-shot job must not restart (restart: "no")', cname)
        elif not hc or hc.get('disable') or (hc.get('test') or ['NONE'])[0] == 'NONE':
            problem(f'{where}: no healthcheck (only one-shot jobs, label {ONESHOT_LABEL}=true, may go without)', cname)
        deps = svc.get('depends_on') or {}
        if isinstance(deps, list):
            deps = {d: {} for d in deps}
        for dep, how in deps.items():
            cond = (how or {}).get('condition')
            if dep not in services:
                problem(f'{where}: depends_on {dep}: no such service', cname)
                continue
            want = 'service_completed_successfully' if oneshot(services[dep]) else 'service_healthy'
            if cond != want:
                problem(f'{where}: depends_on {dep} with condition {cond or "(none)"}: use {want}', cname)
        image = svc.get('image')
        build = svc.get('build')
        if build:
            target = build.get('target') if isinstance(build, dict) else None
            if not isinstance(build, dict) or build.get('dockerfile') != DOCKERFILE:
                problem(f'{where}: build from {DOCKERFILE}', cname)
            if not target or target not in stages:
                problem(f'{where}: build target {target!r} is not a stage of {DOCKERFILE}', cname)
            elif target != name:
                problem(f'{where}: build target {target} differs from the service name', cname)
            if not image or not re.fullmatch(rf'shop/{re.escape(name)}(:[\w.-]+)?', image):
                problem(f'{where}: image {image!r}: name the built image shop/{name}', cname)
            if target in stages:
                user = effective(target, 'user')
                if not user or user.split(':')[0] in ('root', '0'):
                    problem(f'{DOCKERFILE}: target {target} runs as root (USER {user or "unset"})')
                if not one:
                    h = effective(target, 'healthcheck')
                    if not h or h.strip().upper().startswith('NONE'):
                        problem(f'{DOCKERFILE}: target {target} has no HEALTHCHECK')
                if not effective(target, 'cmd'):
                    problem(f'{DOCKERFILE}: target {target} has no CMD')
        elif not image:
            problem(f'{where}: neither image nor build', cname)
        else:
            base = image.split('@')[0]
            tag = base.rsplit(':', 1)[1] if ':' in base.rsplit('/', 1)[-1] else None
            if not tag or tag == 'latest':
                problem(f'{where}: image {image}: pin a tag other than latest', cname)
        for src, tgt, ro in mounts(svc):
            if src in SECRET_VOLUMES and name != 'keygen' and not ro:
                problem(f'{where}: secrets volume {src} mounted read-write (only keygen writes)', cname)
            if src == 'jwt-private' and name not in ('keygen', 'user'):
                problem(f'{where}: mounts the JWT private key volume (keygen and user only)', cname)
    published = {name: [str(p) for p in (svc.get('ports') or [])] for name, svc in services.items()}
    for name, port in (('gateway', 9000), ('rabbitmq', 15672), ('mailpit', 8025)):
        if not any(re.search(rf':{port}(/tcp)?$', p) for p in published.get(name, [])):
            problem(f'service {name}: container port {port} is not published', cname)
    if 'monitoring' in cname:
        for name in ('prometheus', 'grafana'):
            if 'monitoring' not in (services.get(name, {}).get('profiles') or []):
                problem(f'service {name} missing or not in the monitoring profile', cname)
    if cname.startswith('dev'):
        hostports = {}
        for name, svc in services.items():
            if name.startswith('postgres-'):
                ps = [p for p in published.get(name, []) if re.search(r':5432(/tcp)?$', p)]
                if not ps:
                    problem(f'service {name}: its port 5432 is not published', cname)
                for p in ps:
                    hp = p.rsplit(':', 2)[-2]
                    if hp in hostports:
                        problem(f'{name} and {hostports[hp]} both publish host port {hp}', cname)
                    hostports[hp] = name
            if svc.get('build') and not oneshot(svc):
                args = (svc['build'].get('args') or {})
                if args.get('CMAKE_BUILD_TYPE') != 'Debug':
                    problem(f'service {name}: not built with CMAKE_BUILD_TYPE=Debug', cname)
                if (svc.get('environment') or {}).get('LOG_LEVEL') != 'debug':
                    problem(f'service {name}: LOG_LEVEL is not debug', cname)
    if not any(n == 'user' for n, s in services.items()
               if any(m[0] == 'jwt-private' for m in mounts(s))):
        problem('the user service does not mount the jwt-private volume', cname)

# ------------------------------------------------------------------ .env.example

ref = re.compile(r'(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}')
used = {}
for f in ('docker-compose.yml', 'docker-compose.dev.yml'):
    text = open(f).read()
    for m in ref.finditer(text):
        var, op, default = m.group(1), m.group(2), m.group(3)
        if op not in (':-', '-'):
            problem(f'{f}: ${{{var}}} has no default (a fresh clone has no .env)')
            continue
        if var in used and used[var][0] != default:
            problem(f'{f}: {var} has the default {default!r} here and {used[var][0]!r} in {used[var][1]}')
        used.setdefault(var, (default, f))
example = {}
for n, line in enumerate(open('.env.example'), 1):
    line = line.rstrip('\n')
    if not line.strip() or line.lstrip().startswith('#'):
        continue
    m = re.fullmatch(r'([A-Za-z_][A-Za-z0-9_]*)=(.*)', line)
    if not m:
        problem(f'.env.example:{n}: not NAME=value')
        continue
    if m.group(1) in example:
        problem(f'.env.example:{n}: {m.group(1)} twice')
    example[m.group(1)] = m.group(2)
for var, (default, f) in sorted(used.items()):
    if var not in example:
        problem(f'.env.example: {var} (read by {f}) is missing')
    elif example[var] != default:
        problem(f'.env.example: {var}={example[var]}, but {f} defaults it to {default!r}')
for var in sorted(set(example) - set(used)):
    problem(f'.env.example: {var} is read by no compose file')

# ------------------------------------------------------------------ monitoring

base = configs.get('monitoring') or configs.get('base') or {}
services = base.get('services') or {}
prom = yaml.safe_load(open('infrastructure/monitoring/prometheus/prometheus.yml'))
targets = set()
for job in prom.get('scrape_configs') or []:
    for sc in job.get('static_configs') or []:
        for t in sc.get('targets') or []:
            targets.add((job.get('metrics_path', '/metrics'), t))
for name, svc in services.items():
    if svc.get('build') and not oneshot(svc):
        port = str((svc.get('environment') or {}).get('HTTP_PORT', ''))
        if ('/metrics', f'{name}:{port}') not in targets:
            problem(f'prometheus.yml: no /metrics target {name}:{port} for the daemon {name}')
if not any(t.startswith('rabbitmq:15692') for _, t in targets):
    problem('prometheus.yml: RabbitMQ (rabbitmq:15692, rabbitmq_prometheus) is not scraped')

ds = yaml.safe_load(open('infrastructure/monitoring/grafana/provisioning/datasources/prometheus.yml'))
ds_uids = {d.get('uid') for d in ds.get('datasources') or []}
prov = yaml.safe_load(open('infrastructure/monitoring/grafana/provisioning/dashboards/shop.yml'))
graf = services.get('grafana') or {}
graf_mounts = {t: os.path.relpath(s, root) if s and s.startswith('/') else s for s, t, _ in mounts(graf)}
for p in prov.get('providers') or []:
    path = (p.get('options') or {}).get('path')
    if path not in graf_mounts:
        problem(f'grafana dashboards provider path {path} is not a mount of the grafana service')
home = (graf.get('environment') or {}).get('GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH')
if home:
    d, fn = os.path.split(home)
    if d not in graf_mounts or not os.path.exists(os.path.join(graf_mounts[d], fn)):
        problem(f'grafana: home dashboard {home} is not a mounted file')

def mounted_file(svc_name, target, repo_path, why):
    svc = services.get(svc_name) or {}
    srcs = {t: (os.path.relpath(s_, root) if s_ and s_.startswith('/') else s_) for s_, t, _ in mounts(svc)}
    if os.path.normpath(srcs.get(target) or '') != os.path.normpath(repo_path):
        problem(f'service {svc_name}: {repo_path} is not mounted at {target} ({why})')
mounted_file('grafana', '/etc/grafana/provisioning/datasources',
             'infrastructure/monitoring/grafana/provisioning/datasources', 'the data source')
mounted_file('grafana', '/etc/grafana/provisioning/dashboards',
             'infrastructure/monitoring/grafana/provisioning/dashboards', 'the dashboards provider')
mounted_file('prometheus', '/etc/prometheus/prometheus.yml',
             'infrastructure/monitoring/prometheus/prometheus.yml', 'its scrape configuration')
if '--config.file=/etc/prometheus/prometheus.yml' not in ((services.get('prometheus') or {}).get('command') or []):
    problem('service prometheus: not started with --config.file=/etc/prometheus/prometheus.yml')
conf = open('infrastructure/rabbitmq/rabbitmq.compose.conf').read()
m = re.search(r'^\s*(?:management\.)?load_definitions\s*=\s*(\S+)', conf, re.M)
if not m:
    problem('infrastructure/rabbitmq/rabbitmq.compose.conf loads no definitions')
else:
    mounted_file('rabbitmq', m.group(1), 'infrastructure/rabbitmq/definitions.json',
                 'rabbitmq.compose.conf loads it from there')
mounted_file('rabbitmq', '/etc/rabbitmq/conf.d/20-shop.conf',
             'infrastructure/rabbitmq/rabbitmq.compose.conf', 'the broker settings')
for name in services:
    if name.startswith('postgres-'):
        mounted_file(name, '/docker-entrypoint-initdb.d/10-shop.sh',
                     'infrastructure/docker/postgres/init-service-db.sh', 'its role and database')

c_strings = set()
for pat in ('shared/src/**/*.c', 'services/*/src/**/*.c', 'gateway/src/**/*.c'):
    for f in glob.glob(pat, recursive=True):
        c_strings.update(re.findall(r'"([a-z][a-z0-9_]*)"', open(f, errors='replace').read()))
promql_words = {'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset'}
for f in sorted(glob.glob('infrastructure/monitoring/grafana/dashboards/*.json')):
    try:
        dash = json.load(open(f))
    except ValueError as e:
        problem(f'{f}: not JSON: {e}')
        continue
    ids = set()
    for panel in dash.get('panels') or []:
        pid = panel.get('id')
        if pid in ids:
            problem(f'{f}: panel id {pid} twice')
        ids.add(pid)
        g = panel.get('gridPos') or {}
        if g.get('x', 0) + g.get('w', 0) > 24:
            problem(f'{f}: panel {panel.get("title")!r} is wider than the grid')
        if panel.get('type') == 'row':
            continue
        if (panel.get('datasource') or {}).get('uid') not in ds_uids:
            problem(f'{f}: panel {panel.get("title")!r} uses a data source that is not provisioned')
        for t in panel.get('targets') or []:
            expr = t.get('expr', '')
            where = f'{f}: panel {panel.get("title")!r}'
            if (t.get('datasource') or {}).get('uid') not in ds_uids:
                problem(f'{where}: query data source is not provisioned')
            stack = []
            for ch in re.sub(r'"(\\.|[^"\\])*"', '""', expr):
                if ch in '({[':
                    stack.append(ch)
                elif ch in ')}]':
                    if not stack or '({['[')}]'.index(ch)] != stack.pop():
                        stack.append('!')
                        break
            if stack or expr.count('"') % 2:
                problem(f'{where}: unbalanced brackets or quotes in {expr}')
            for name in re.findall(r'([a-z_][a-z0-9_]*)\s*[{\[]', re.sub(r'"(\\.|[^"\\])*"', '""', expr)):
                if name in promql_words or name == 'up' or name.startswith('rabbitmq_'):
                    continue
                metric = re.sub(r'_(bucket|sum|count)$', '', name)
                if metric not in c_strings and name not in c_strings:
                    problem(f'{where}: metric {name} is named nowhere in the C sources')

for msg, scopes in problems.items():
    print('compose: ' + (f'[{", ".join(scopes)}] ' if scopes else '') + msg)
sys.exit(1 if problems else 0)
PY
	fail=1
fi

# ------------------------------------------------------------------ 6. scripts run in the images
if ! out=$(shellcheck -s sh infrastructure/docker/*.sh infrastructure/docker/postgres/*.sh 2>&1); then
	problem "shellcheck finds problems in the images' scripts:"
	printf '%s\n' "$out" | sed 's/^/    /'
fi

if ((fail == 0)); then
	echo "compose ok (docker-compose config: ${#combos[@]} combinations; Dockerfile, .env.example, monitoring)"
fi
exit "$fail"
