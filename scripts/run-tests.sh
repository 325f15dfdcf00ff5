#!/usr/bin/env bash
# README quick start, command 2 (and what .ci/run calls): install packages,
# start real PostgreSQL (+ replica, PgBouncer) and MariaDB servers on
# loopback, build, and run the whole test suite through ctest; then the same
# suite under AddressSanitizer + UndefinedBehaviorSanitizer, and the pool
# tests under ThreadSanitizer.
#
#   scripts/run-tests.sh            everything
#   ILANA_SKIP_SANITIZERS=1 ...     only the plain build (quick local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

bash scripts/install-deps.sh

# Real servers; the tests fail (not skip) when they are missing.
eval "$(bash scripts/test-servers.sh start all)"
export ILANA_TEST_SERVERS_REQUIRED=1

run_suite() { # build-dir, extra cmake args...
  local dir=$1; shift
  echo "== configure $dir $*"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  echo "== build $dir"
  cmake --build "$dir" -j "$jobs"
}

server_test_count() { # ctest dir: how many tests that need a server ran
  (cd "$1" && ctest -N -L 'drivers|conformance|integration' | awk '/Total Tests:/ {print $3}')
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== ctest (plain build)"
(cd build && ctest --output-on-failure -j "$jobs" --timeout 300)
echo "server-backed tests run: $(server_test_count build)"

if [ "${ILANA_SKIP_SANITIZERS:-0}" != 1 ]; then
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DILANA_SANITIZE=address,undefined \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
  echo "== ctest (AddressSanitizer + UndefinedBehaviorSanitizer)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$jobs" --timeout 600)

  run_suite build-tsan -DCMAKE_BUILD_TYPE=Debug -DILANA_SANITIZE=thread
  echo "== ctest (ThreadSanitizer: pool and tenant tests)"
  (cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
     ctest --output-on-failure -j "$jobs" --timeout 600 -L 'threads')
fi
echo "== all tests passed"
