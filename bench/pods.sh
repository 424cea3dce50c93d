#!/usr/bin/env bash
# The pod pool: time from a queued ComfyUI job to a ready pod, and the cost of a pod's idle time,
# against the sandbox's RunPod pods emulator (bench/PodsBench.java; bench/README.md, "Pod pool").
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"2[5-9]'; then
  for d in /usr/lib/jvm/*25*; do [ -x "$d/bin/java" ] && JAVA_HOME="$d" && break; done
fi
export JAVA_HOME
[ -f server/target/kiln.jar ] || ./kiln build
exec "$JAVA_HOME/bin/java" bench/PodsBench.java server/target/kiln.jar "$@"
