#!/usr/bin/env bash
# Store-and-serve throughput of the local and the S3 storage backends (bench/StorageBench.java).
# Needs the jar and S3Proxy's jar (fetched from Maven Central by the test build).
#   bench/storage.sh                                   # 300 jobs of 1024x1024, 16 clients for 10 s
#   bench/storage.sh -Djobs=500 -Dsize=512 -Dclients=32 -Dseconds=20
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"2[5-9]'; then
  for d in /usr/lib/jvm/*25*; do [ -x "$d/bin/java" ] && JAVA_HOME="$d" && break; done
fi
export JAVA_HOME
[ -f server/target/kiln.jar ] || ./kiln build
[ -f server/target/s3proxy/s3proxy.jar ] || ./mvnw -q -B -pl server -am test-compile
exec "$JAVA_HOME/bin/java" "$@" bench/StorageBench.java server/target/kiln.jar server/target/s3proxy/s3proxy.jar
