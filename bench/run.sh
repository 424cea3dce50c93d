#!/usr/bin/env bash
# Kiln benchmark: builds the jar if it is missing, then runs bench/Bench.java with JDK 25's
# single-file launcher (no extra build). Arguments go to Bench: --repeat N, --jfr DIR.
#   bench/run.sh                   # the table, medians of 3
#   bench/run.sh --jfr /tmp/kjfr   # also record the zero-latency Kiln with Flight Recorder
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"2[5-9]'; then
  for d in /usr/lib/jvm/*25*; do [ -x "$d/bin/java" ] && JAVA_HOME="$d" && break; done
fi
export JAVA_HOME
[ -f server/target/kiln.jar ] || ./kiln build
exec "$JAVA_HOME/bin/java" bench/Bench.java server/target/kiln.jar "$@"
