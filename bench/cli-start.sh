#!/usr/bin/env bash
# How fast the CLI starts: `./kiln batch --help` (the launcher, the JVM, picocli; no server
# needed), N times after one warm-up run (which builds the jar and its class-data archive if they
# are missing); then plain `java -jar` without the launcher's JVM flags, for comparison. Prints the
# mean wall time and the mean CPU time (user + sys), which moves less when the machine is busy.
#   bench/cli-start.sh [N]     default N = 10
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
./kiln batch --help >/dev/null

measure() {
  local label=$1; shift
  local wall=0 cpu=0 r u s
  TIMEFORMAT='%R %U %S'
  for _ in $(seq 1 "$n"); do
    read -r r u s < <({ time "$@" >/dev/null 2>&1; } 2>&1)
    wall=$(awk -v a="$wall" -v b="$r" 'BEGIN { print a + b }')
    cpu=$(awk -v a="$cpu" -v b="$u" -v c="$s" 'BEGIN { print a + b + c }')
  done
  awk -v l="$label" -v w="$wall" -v c="$cpu" -v n="$n" \
    'BEGIN { printf "%-44s wall %5.0f ms   cpu %5.0f ms   (mean of %d)\n", l, w * 1000 / n, c * 1000 / n, n }'
}

java_home="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*25* 2>/dev/null | head -1)}"
measure "./kiln batch --help" ./kiln batch --help
measure "java -jar cli/target/kiln-cli.jar batch --help" "$java_home/bin/java" -jar cli/target/kiln-cli.jar batch --help
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg))"
