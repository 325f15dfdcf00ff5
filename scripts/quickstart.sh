#!/usr/bin/env bash
# README quick start, command 1: install what is needed, build, and run the
# main job on the embedded SQLite default (examples/quickstart/): two SQLite
# connections, `primary` and `cache`, created, written and read through
# ilana, with the drivers loaded from build/plugins/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target ilana_cli ilana_example

config=examples/quickstart/ilana.config.json
echo
echo "== ilana drivers"
build/bin/ilana --config "$config" drivers
echo
echo "== the quick-start job (examples/quickstart/main.cpp)"
build/bin/ilana-example "$config"
echo
echo "== ilana query on each connection"
build/bin/ilana --config "$config" query --connection primary "SELECT id, name, role FROM users ORDER BY id"
build/bin/ilana --config "$config" query --connection cache --json "SELECT role, total FROM role_counts ORDER BY role"
