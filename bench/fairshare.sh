#!/usr/bin/env bash
# Fair share: how long a lone job waits to be dispatched behind another user's 1,000-job run
# (server timestamps: created_at → started_at), next to a job the run's own user submits after it.
#   bench/fairshare.sh [--repeat N] [--latency 2s]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"2[5-9]'; then
  for d in /usr/lib/jvm/*25*; do [ -x "$d/bin/java" ] && JAVA_HOME="$d" && break; done
fi
export JAVA_HOME
[ -f server/target/kiln.jar ] || ./kiln build
exec "$JAVA_HOME/bin/java" bench/FairShareBench.java server/target/kiln.jar "$@"
