#!/usr/bin/env bash
# Instructions per call of one lane of lane-probe.ts, independent of the machine's load:
# bundles the probe from the sources (esbuild, @refront/source), runs it under callgrind with
# N1 and N2 calls, and prints (I(N2) - I(N1)) / (N2 - N1).
# Usage: bench/src/probes/instructions.sh <lane> [concurrency] [N1] [N2]
set -euo pipefail
lane=$1; conc=${2:-1}; n1=${3:-2000}; n2=${4:-6000}
root=$(cd "$(dirname "$0")/../../.." && pwd)
out=${PROBE_OUT:-$(mktemp -d)}
bundle=$root/bench/.probe.$lane.$$.mjs
trap 'rm -f "$bundle"' EXIT
"$root/node_modules/.bin/esbuild" "$root/bench/src/probes/lane-probe.ts" --bundle --platform=node --format=esm \
  --conditions=@refront/source --log-level=error --outfile="$bundle" \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --external:@grpc/* --external:grpc-health-check --external:pino --external:prom-client --external:@opentelemetry/* \
  --external:@bufbuild/protobuf --external:moleculer --external:opossum --external:@nestjs/* --external:reflect-metadata
count() {
  local n=$1
  PROBE_WARMUP=${PROBE_WARMUP:-5000} valgrind --tool=callgrind --callgrind-out-file="$out/cg.$n.%p" \
    node --predictable "$bundle" "$lane" "$n" "$conc" >"$out/log.$n" 2>&1
  grep -q " calls, " "$out/log.$n" || { cat "$out/log.$n" >&2; exit 1; }
  grep -h "^summary:" "$out"/cg."$n".* | awk '{s+=$2} END {print s}'
  rm -f "$out"/cg."$n".*
}
i1=$(count "$n1"); i2=$(count "$n2")
echo "$lane c=$conc: I($n1)=$i1 I($n2)=$i2 per call: $(( (i2 - i1) / (n2 - n1) ))"
