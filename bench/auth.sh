#!/usr/bin/env bash
# What authentication costs on GET /v1/jobs/{id}: p50/p99 without credentials (local mode) and
# with the admin key, a session cookie, a session token and an API key (KILN_AUTH=on).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"2[5-9]'; then
  for d in /usr/lib/jvm/*25*; do [ -x "$d/bin/java" ] && JAVA_HOME="$d" && break; done
fi
export JAVA_HOME
[ -f server/target/kiln.jar ] || ./kiln build
exec "$JAVA_HOME/bin/java" bench/AuthBench.java server/target/kiln.jar "$@"
