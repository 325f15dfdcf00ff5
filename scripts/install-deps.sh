#!/usr/bin/env bash
# Installs every Debian 12 package ilana needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt; `apt-get update`
# runs at most once per invocation, and only when something is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # core libraries
  # Boost 1.81 (Debian 12's libboost1.81-dev): the async API needs per-operation
  # cancellation (cancellation slots, Asio 1.19+), which 1.74 lacks
  libboost1.81-dev libboost-program-options1.81-dev libboost-filesystem1.81-dev
  rapidjson-dev libspdlog-dev libfmt-dev catch2
  # client libraries for the bundled drivers
  libpq-dev libssl-dev libmariadb-dev libsqlite3-dev
  # real servers for the integration tests
  postgresql postgresql-client mariadb-server mariadb-client pgbouncer
  # promtool, to validate the Prometheus exposition
  prometheus
  # tools the tests and scripts call
  procps curl python3 abigail-tools
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d keeps Debian's maintainer scripts from starting the system
# postgresql/mariadb/pgbouncer/prometheus services: tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
