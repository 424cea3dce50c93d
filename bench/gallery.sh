#!/usr/bin/env bash
# The web UI's library with many outputs: server-side render time of its first page (target < 200 ms
# with 10,000 outputs). Options: --assets N (default 10000), --requests N (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"2[5-9]'; then
  for d in /usr/lib/jvm/*25*; do [ -x "$d/bin/java" ] && JAVA_HOME="$d" && break; done
fi
export JAVA_HOME
[ -f server/target/kiln.jar ] || ./kiln build
# The H2 driver Kiln ships in its jar, to add outputs to the stopped server's database.
lib=$(mktemp -d)
trap 'rm -rf "$lib"' EXIT
(cd "$lib" && "$JAVA_HOME/bin/jar" xf "$OLDPWD/server/target/kiln.jar" $("$JAVA_HOME/bin/jar" tf "$OLDPWD/server/target/kiln.jar" | grep 'BOOT-INF/lib/h2-'))
"$JAVA_HOME/bin/java" -cp "$(ls "$lib"/BOOT-INF/lib/h2-*.jar)" bench/GalleryBench.java server/target/kiln.jar "$@"
