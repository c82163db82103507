#!/usr/bin/env bash
# Renders every overlay of infrastructure/kubernetes/ with `kubectl kustomize`
# and validates the result offline (tools/kubernetes/validate.mjs): JSON
# Schemas for every object (the Kubernetes API, RabbitmqCluster, CloudNativePG
# Cluster; unknown fields are errors), then the project's rules (probes,
# resources, preStop, non-root, an HPA and a PDB per daemon, Service
# selectors, the variables each .env.example cannot default in a pod, the
# databases, the Secrets, the RabbitMQ topology against
# infrastructure/rabbitmq/definitions.json, and what dev and prod promise).
# No cluster is needed. kubectl: $KUBECTL, else the one on PATH (kustomize
# v5 as is; an older one renders a rewritten copy, see lib/render.mjs).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=$root/tools/kubernetes
kubectl=${KUBECTL:-kubectl}
if ! command -v "$kubectl" >/dev/null 2>&1; then
	echo "kubernetes: $kubectl not found (scripts/dev-up.sh installs Debian's kubernetes-client)"
	exit 1
fi
if ! command -v node >/dev/null 2>&1; then
	echo "kubernetes: node not found (scripts/dev-up.sh installs it)"
	exit 1
fi
# The validator's npm packages (yaml, ajv, kubernetes-types); the packages
# step of test-all and dev-up installs them (npm ci), this covers a check
# run on its own.
if [ ! -d "$tools/node_modules/kubernetes-types" ]; then
	echo "kubernetes: installing the validator's npm packages (tools/kubernetes)"
	(cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
fi
exec timeout 120 node "$tools/validate.mjs" --root "$root" --kubectl "$kubectl" "$@"
