#!/usr/bin/env bash
# The installed-prefix check CI runs: a third party's view of ilana.
#
#   sdk/examples/csv/test-installed.sh [PREFIX]
#
# 1. PREFIX given: use that installed ilana. Otherwise install the main tree
#    into a temporary prefix: from the build directory $ILANA_BUILD_DIR when
#    set (CI: the tree it already built; only the install runs), else from a
#    fresh Release build without tests in a temporary directory (slow).
# 2. Build the CSV driver as a separate CMake project from the prefix only
#    (the copy installed in PREFIX/share/ilana/sdk/examples/csv), and check
#    it saw no header of the source tree.
# 3. Drop it into a plugins directory given by ILANA_PLUGIN_PATH and query
#    it through PREFIX/bin/ilana (`client: "csv"`), checking the output.
# 4. Run PREFIX/bin/ilana-driver-conformance on it.
# 5. Build and run examples/host-app against the prefix.
# 6. Build examples/cli-embed (ilana::cli) against the prefix and run
#    `myapp db migrate` / `migrate:rollback` with its code migration.
# 7. Check the pkg-config files.
#
# Every step checks its own result; the first mismatch exits non-zero with
# a message. Temporary files go to one directory, removed at the end
# (kept when ILANA_KEEP_TMP=1).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ilana-installed.XXXXXX")"
if [[ "${ILANA_KEEP_TMP:-0}" != 1 ]]; then trap 'rm -rf "$TMP"' EXIT; fi
JOBS="${ILANA_JOBS:-2}"
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)
START=$SECONDS

step() { printf '\n== %s (%ds)\n' "$*" $((SECONDS - START)); }
die() { printf 'test-installed: FAIL: %s\n' "$*" >&2; exit 1; }
# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
  if [[ "$2" != "$3" ]]; then
    printf 'test-installed: FAIL: %s\n--- got:\n%s\n--- expected:\n%s\n' "$1" "$2" "$3" >&2
    exit 1
  fi
}
expect_contains() {
  [[ "$2" == *"$3"* ]] || { printf 'test-installed: FAIL: %s\n--- got:\n%s\n--- expected to contain:\n%s\n' "$1" "$2" "$3" >&2; exit 1; }
}

# ---------------------------------------------------------------- 1. prefix
if [[ $# -ge 1 ]]; then
  PREFIX="$(cd "$1" && pwd)"
  step "using the installed prefix $PREFIX"
else
  PREFIX="$TMP/prefix"
  if [[ -n "${ILANA_BUILD_DIR:-}" ]]; then
    step "installing $ILANA_BUILD_DIR into $PREFIX"
    # Only what is installed: the test programs of that tree are not needed.
    cmake --build "$ILANA_BUILD_DIR" -j "$JOBS" --target ilana_core ilana_cli ilana_driver_conformance \
      ilana_sqlite ilana_postgres ilana_mysql >"$TMP/main-build.log" 2>&1 \
      || { tail -40 "$TMP/main-build.log"; die "building $ILANA_BUILD_DIR failed"; }
    cmake --install "$ILANA_BUILD_DIR" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; die "install failed"; }
  else
    step "building the main tree (Release, no tests) and installing it into $PREFIX"
    cmake -S "$REPO" -B "$TMP/main-build" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DILANA_BUILD_TESTS=OFF \
      -DILANA_BUILD_SDK_EXAMPLES=OFF >"$TMP/main-configure.log" 2>&1 || { cat "$TMP/main-configure.log"; die "configure failed"; }
    cmake --build "$TMP/main-build" -j "$JOBS" >"$TMP/main-build.log" 2>&1 || { tail -40 "$TMP/main-build.log"; die "build failed"; }
    cmake --install "$TMP/main-build" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; die "install failed"; }
  fi
fi
for f in bin/ilana bin/ilana-driver-conformance include/ilana/driver.h include/ilana/sdk/driver.hpp \
         include/ilana/ilana.hpp include/ilana/cli.hpp lib/cmake/Ilana/IlanaConfig.cmake lib/cmake/IlanaSDK/IlanaSDKConfig.cmake \
         lib/cmake/IlanaSDK/IlanaDriver.cmake lib/ilana/plugins/ilana_sqlite.so share/ilana/sdk/examples/csv/CMakeLists.txt; do
  [[ -e "$PREFIX/$f" ]] || die "$PREFIX/$f is not installed"
done
[[ -n "$(find "$PREFIX" -name 'libilana.*' -print -quit)" ]] || die "libilana is not installed"
[[ -n "$(find "$PREFIX" -name 'libilana_cli.*' -print -quit)" ]] || die "libilana_cli is not installed"

# ---------------------------------------------------------------- 2. the CSV driver, out of tree
step "building the CSV driver from $PREFIX only"
SRC="$TMP/csv-src"
cp -r "$PREFIX/share/ilana/sdk/examples/csv" "$SRC"
cmake -S "$SRC" -B "$TMP/csv-build" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE= -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$TMP/csv-configure.log" 2>&1 \
  || { cat "$TMP/csv-configure.log"; die "configuring the CSV driver against $PREFIX failed"; }
sdk_dir="$(sed -n 's/^IlanaSDK_DIR:PATH=//p' "$TMP/csv-build/CMakeCache.txt")"
[[ "$(cd "$sdk_dir" && pwd)" == "$PREFIX"/* ]] || die "IlanaSDK came from $sdk_dir, not from $PREFIX"
cmake --build "$TMP/csv-build" -j "$JOBS" >"$TMP/csv-build.log" 2>&1 || { cat "$TMP/csv-build.log"; die "building the CSV driver failed"; }
grep -q -- "$REPO/" "$TMP/csv-build/compile_commands.json" && die "the CSV driver build used the source tree ($REPO)"
grep -qi "warning" "$TMP/csv-build.log" && { cat "$TMP/csv-build.log"; die "the CSV driver built with warnings"; }
[[ -f "$TMP/csv-build/ilana_csv.so" ]] || die "no ilana_csv.so in $TMP/csv-build"
exported="$(nm -D --defined-only "$TMP/csv-build/ilana_csv.so" | awk '{print $3}')"
expect_eq "symbols exported by ilana_csv.so" "$exported" "ilana_entry"

# ---------------------------------------------------------------- 3. ilana query through ILANA_PLUGIN_PATH
step "querying it through $PREFIX/bin/ilana with ILANA_PLUGIN_PATH"
mkdir -p "$TMP/plugins" "$TMP/app/data"
cp "$TMP/csv-build/ilana_csv.so" "$TMP/plugins/"
printf 'id,name,city,score\n1,Ann,Oslo,4.5\n2,"Ben ""B"" Smith",Lyon,3\n3,Chlo\xc3\xa9,"Oslo, Norway",\n4,Dmitri,Lyon,5.25\n' \
  >"$TMP/app/data/people.csv"
cat >"$TMP/app/ilana.config.json" <<'JSON'
{
  "connections": {
    "files": { "client": "csv", "connection": { "directory": "data" } }
  }
}
JSON
export ILANA_PLUGIN_PATH="$TMP/plugins"
drivers="$("$PREFIX/bin/ilana" --config "$TMP/app/ilana.config.json" drivers)"
expect_contains "ilana drivers lists the CSV driver from ILANA_PLUGIN_PATH" "$drivers" "$TMP/plugins/ilana_csv.so"
expect_contains "ilana drivers lists the bundled drivers from the prefix" "$drivers" "$PREFIX/lib/ilana/plugins/ilana_sqlite.so"
out="$(cd / && "$PREFIX/bin/ilana" --config "$TMP/app/ilana.config.json" query --json \
  "select NAME, score from people where city = 'Lyon' limit 5")"
expect_eq "ilana query (WHERE, LIMIT, quoting, DOUBLE column)" "$out" \
  '[{"name":"Ben \"B\" Smith","score":3.0},{"name":"Dmitri","score":5.25}]'
out="$("$PREFIX/bin/ilana" --config "$TMP/app/ilana.config.json" query --json 'SELECT * FROM "people" WHERE id = 3')"
expect_eq "ilana query (*, quoted table, INT64 key, NULL, UTF-8)" "$out" \
  '[{"id":3,"name":"Chloé","city":"Oslo, Norway","score":null}]'
set +e
err="$("$PREFIX/bin/ilana" --config "$TMP/app/ilana.config.json" query "SELECT * FROM people ORDER BY id" 2>&1)"
rc=$?
set -e
[[ $rc -ne 0 ]] || die "ORDER BY should fail with the csv driver"
expect_contains "an unsupported statement names what is unsupported" "$err" "ORDER BY is not supported"
unset ILANA_PLUGIN_PATH

# ---------------------------------------------------------------- 4. the conformance kit
step "running $PREFIX/bin/ilana-driver-conformance on it"
python3 - "$TMP/app/data/big.csv" 2>/dev/null <<'PY' || { printf 'n,label\n' >"$TMP/app/data/big.csv"; for i in $(seq 1 20000); do echo "$i,row $i"; done >>"$TMP/app/data/big.csv"; }
import sys
with open(sys.argv[1], "w") as f:
    f.write("n,label\n")
    f.writelines(f"{i},row {i}\n" for i in range(1, 20001))
PY
cat >"$TMP/app/conformance.json" <<'JSON'
{
  "params": { "directory": "data" },
  "probe": {
    "select_one": "SELECT id FROM people LIMIT 1",
    "many_rows": { "sql": "SELECT n, label FROM big LIMIT {rows}", "rows": 20000 },
    "introspect": { "table": "people", "columns": ["id", "name", "city", "score"] }
  },
  "types": {
    "int64": { "sql": "SELECT id FROM people WHERE id = ?", "values": [1, 4], "null": false },
    "text": { "sql": "SELECT name FROM people WHERE name = ?", "values": ["Ann", "Ben \"B\" Smith", "Chloé"], "null": false },
    "double": { "sql": "SELECT score FROM people WHERE score = ?", "values": [4.5, 5.25], "null": false }
  }
}
JSON
set +e
"$PREFIX/bin/ilana-driver-conformance" --plugin "$TMP/plugins/ilana_csv.so" --connection "$TMP/app/conformance.json" \
  >"$TMP/kit.txt" 2>&1
rc=$?
set -e
cat "$TMP/kit.txt"
[[ $rc -eq 0 ]] || die "the conformance kit failed on the CSV driver (exit $rc)"
summary="$(tail -1 "$TMP/kit.txt")"
expect_contains "kit summary" "$summary" " 0 failed"

# ---------------------------------------------------------------- 5. the host application example
step "building examples/host-app against $PREFIX"
cmake -S "$REPO/examples/host-app" -B "$TMP/host-app" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE= \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  >"$TMP/host-configure.log" 2>&1 || { cat "$TMP/host-configure.log"; die "configuring host-app against $PREFIX failed"; }
ilana_dir="$(sed -n 's/^Ilana_DIR:PATH=//p' "$TMP/host-app/CMakeCache.txt")"
[[ "$(cd "$ilana_dir" && pwd)" == "$PREFIX"/* ]] || die "Ilana came from $ilana_dir, not from $PREFIX"
cmake --build "$TMP/host-app" -j "$JOBS" >"$TMP/host-build.log" 2>&1 || { cat "$TMP/host-build.log"; die "building host-app failed"; }
grep -q -- "-I$REPO\|-isystem $REPO" "$TMP/host-app/compile_commands.json" && die "host-app used headers of the source tree"
grep -qi "warning" "$TMP/host-build.log" && { cat "$TMP/host-build.log"; die "host-app built with warnings"; }
host_out="$(cd "$TMP/host-app" && ./host-app)" || { echo "$host_out"; die "host-app failed"; }
echo "$host_out"
expect_contains "host-app result" "$(tail -1 <<<"$host_out")" "ok: 20 orders, 20 audit events, 4 cached totals"

# ---------------------------------------------------------------- 6. the CLI embedded in a host program
step "building examples/cli-embed (ilana::cli) against $PREFIX"
cmake -S "$REPO/examples/cli-embed" -B "$TMP/cli-embed" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE= \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  >"$TMP/embed-configure.log" 2>&1 || { cat "$TMP/embed-configure.log"; die "configuring cli-embed against $PREFIX failed"; }
cmake --build "$TMP/cli-embed" -j "$JOBS" >"$TMP/embed-build.log" 2>&1 || { cat "$TMP/embed-build.log"; die "building cli-embed failed"; }
grep -q -- "-I$REPO\|-isystem $REPO" "$TMP/cli-embed/compile_commands.json" && die "cli-embed used headers of the source tree"
grep -qi "warning" "$TMP/embed-build.log" && { cat "$TMP/embed-build.log"; die "cli-embed built with warnings"; }
mkdir -p "$TMP/embed-app"
cp -r "$REPO/examples/cli-embed/ilana.config.json" "$REPO/examples/cli-embed/database" "$TMP/embed-app/"
out="$("$TMP/cli-embed/myapp" db --config "$TMP/embed-app/ilana.config.json" migrate --connection=analytics)" \
  || { echo "$out"; die "myapp db migrate failed"; }
expect_contains "myapp db migrate applies the file migration" "$out" "[analytics] applied 20260101000000_create_event_kinds"
expect_contains "myapp db migrate applies the code migration" "$out" "[analytics] applied 20260102000000_seed_event_kinds"
out="$("$TMP/cli-embed/myapp" db --config "$TMP/embed-app/ilana.config.json" migrate:rollback --connection=analytics --step 1)" \
  || { echo "$out"; die "myapp db migrate:rollback failed"; }
expect_contains "myapp db migrate:rollback undoes the code migration" "$out" "[analytics] rolled back 20260102000000_seed_event_kinds"

# ---------------------------------------------------------------- 7. pkg-config
step "checking the pkg-config files"
if command -v pkg-config >/dev/null 2>&1; then
  export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  expect_contains "pkg-config --libs ilana" "$(pkg-config --libs ilana)" "-lilana"
  map="$(pkg-config --variable=exports_map ilana-sdk)"
  [[ -f "$map" ]] || die "ilana-sdk.pc exports_map ($map) does not exist"
  # A plain-C driver needs nothing but the ABI header: compile one against the prefix.
  cat >"$TMP/tiny.c" <<'C'
#include <ilana/driver.h>
static ilana_status tiny_init(const ilana_host *h, ilana_error *e) { (void)h; (void)e; return ILANA_OK; }
static void tiny_deinit(void) {}
static const void *tiny_ext(const char *id) { (void)id; return 0; }
ILANA_DRIVER_EXPORT const ilana_driver_entry ilana_entry = {
    sizeof(ilana_driver_entry), ILANA_DRIVER_MAGIC, ILANA_ABI_MAJOR, ILANA_ABI_MINOR,
    tiny_init, tiny_deinit, 0, 0, tiny_ext};
C
  cc -std=c99 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden $(pkg-config --cflags ilana-sdk) \
    -Wl,--version-script="$map" -o "$TMP/tiny.so" "$TMP/tiny.c" || die "a plain-C driver does not compile with ilana-sdk.pc"
  expect_eq "symbols exported by a plain-C driver" "$(nm -D --defined-only "$TMP/tiny.so" | awk '{print $3}')" "ilana_entry"
else
  echo "pkg-config not installed: skipped"
fi

printf '\ntest-installed: OK (%ds)\n' $((SECONDS - START))
