#!/usr/bin/env bash
# README quick start, command 2 (and what .ci/run calls): install packages,
# start real PostgreSQL (+ replica, PgBouncer) and MariaDB servers on
# loopback, build, and run the whole test suite through ctest; then the same
# suite under AddressSanitizer + UndefinedBehaviorSanitizer (clang) with a
# one-minute libFuzzer run of the config loader, and the thread tests under
# ThreadSanitizer.
#
#   scripts/run-tests.sh            everything
#   ILANA_SKIP_SANITIZERS=1 ...     only the plain build (quick local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)
t0=$(date +%s)
stage() { echo; echo "== [$(( $(date +%s) - t0 ))s] $*"; }

stage "packages"
bash scripts/install-deps.sh

# Real servers; the tests fail (not skip) when they are missing.
stage "test servers"
eval "$(bash scripts/test-servers.sh start all)"
export ILANA_TEST_SERVERS_REQUIRED=1

configure() { # build-dir, cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
}

stage "build (RelWithDebInfo)"
configure build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs"
stage "ctest (plain build)"
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)
servers_tests=$(cd build && ctest -N -L 'drivers|conformance|integration|faults' | awk '/Total Tests:/ {print $3}')
echo "server-backed tests run: ${servers_tests}"

if [ -x sdk/examples/csv/test-installed.sh ]; then
  stage "installed prefix: CSV driver and host app built out of tree"
  # Installs the tree just built into a temporary prefix and works from that.
  ILANA_BUILD_DIR="$root/build" bash sdk/examples/csv/test-installed.sh
fi

if [ "${ILANA_SKIP_SANITIZERS:-0}" != 1 ]; then
  stage "build (clang, AddressSanitizer + UndefinedBehaviorSanitizer, fuzzers)"
  configure build-asan -DCMAKE_BUILD_TYPE=Debug -DILANA_SANITIZE=address,undefined \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DILANA_BUILD_FUZZERS=ON
  cmake --build build-asan -j "$jobs"
  stage "ctest (AddressSanitizer + UndefinedBehaviorSanitizer)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     LSAN_OPTIONS=suppressions=$root/scripts/sanitizers/lsan.supp:print_suppressions=0 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$jobs" --timeout 900 -LE bench)
  stage "libFuzzer: config loader, 60 s"
  corpus=$(mktemp -d)
  build-asan/bin/ilana_config_fuzzer -dict=tests/fuzz/config.dict -max_total_time=60 \
    -print_final_stats=1 "$corpus" tests/fuzz/corpus 2>&1 | tail -n 12
  rm -rf "$corpus"

  stage "build (clang, ThreadSanitizer: pool, tenants, HTTP)"
  configure build-tsan -DCMAKE_BUILD_TYPE=Debug -DILANA_SANITIZE=thread \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
  cmake --build build-tsan -j "$jobs" --target ilana_unit_tests ilana_integration_tests \
    ilana_sqlite ilana_postgres ilana_mysql ilana_cli
  stage "ThreadSanitizer: integration tests tagged [threads], unit tests tagged [http] or [threads]"
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$root/scripts/sanitizers/tsan.supp
  build-tsan/bin/ilana_integration_tests "[threads]"
  build-tsan/bin/ilana_unit_tests "[http],[threads]"
fi
stage "all tests passed"
