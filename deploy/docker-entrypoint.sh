#!/bin/sh
# Entrypoint of the Refront demo image: runs one service (SERVICE) of the platform.
set -eu

# The address this instance registers in Consul: the container's own IP unless given, so that
# several replicas of a service each register where they can be reached.
if [ -z "${ADVERTISE_HOST:-}" ]; then
  ADVERTISE_HOST="$(hostname -i | cut -d ' ' -f 1)"
  export ADVERTISE_HOST
fi

# exec: node becomes PID 1 and receives SIGTERM itself.
exec node --enable-source-maps /app/examples/refront-demo/dist/serve/serve.mjs "$@"
