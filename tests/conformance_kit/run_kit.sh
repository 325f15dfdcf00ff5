#!/usr/bin/env bash
# Runs ilana-driver-conformance on one bundled driver (ctest, see
# CMakeLists.txt): writes the connection JSON (and for csv the data files)
# into WORK_DIR at test time, from the ILANA_TEST_* variables of
# scripts/test-servers.sh for the server drivers.
#
#   run_kit.sh DRIVER KIT PLUGIN WORK_DIR      DRIVER: sqlite | csv | postgres | mysql | sdk-memory | sdk-bridge
#
# Exit 0 pass, 1 fail, 77 skipped (no test server and ILANA_TEST_SERVERS_REQUIRED != 1).
set -euo pipefail
driver="$1" kit="$2" plugin="$3" work="$4"
rm -rf "$work"
mkdir -p "$work"
cd "$work"

need_server() { # need_server NAME PORT_VARIABLE
  if [[ -z "${!2:-}" ]]; then
    if [[ "${ILANA_TEST_SERVERS_REQUIRED:-0}" == 1 ]]; then
      echo "FAIL: $1 test server settings missing (ILANA_TEST_SERVERS_REQUIRED=1): run scripts/test-servers.sh start" >&2
      exit 1
    fi
    echo "SKIPPED: no $1 test server; run \`eval \"\$(scripts/test-servers.sh start)\"\` to enable"
    exit 77
  fi
}

case "$driver" in
sqlite)
  cat >conformance.json <<'JSON'
{
  "params": { "filename": "conformance.sqlite" },
  "probe": {
    "select_one": "SELECT 1",
    "many_rows": { "sql": "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {rows}) SELECT x, 'row ' || x FROM s", "rows": 100000 },
    "sleep": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000000) SELECT SUM(x) FROM c",
    "table": {
      "create": "CREATE TABLE {table} (k INTEGER PRIMARY KEY, v TEXT)",
      "insert": "INSERT INTO {table} (k, v) VALUES (?, ?)",
      "select": "SELECT k, v FROM {table} WHERE k = ?",
      "count": "SELECT COUNT(*) FROM {table}",
      "drop": "DROP TABLE IF EXISTS {table}"
    }
  },
  "types": {
    "int64": "SELECT ?",
    "double": "SELECT ?",
    "text": "SELECT ?",
    "blob": "SELECT ?",
    "bool": { "sql": "SELECT ?", "returns": "int64" },
    "decimal": { "sql": "SELECT ?", "returns": "text" },
    "date": { "sql": "SELECT ?", "returns": "text" },
    "time": { "sql": "SELECT ?", "returns": "text" },
    "timestamp": { "sql": "SELECT ?", "returns": "text" },
    "timestamptz": { "sql": "SELECT ?", "returns": "text" },
    "uuid": { "sql": "SELECT ?", "returns": "text" },
    "json": { "sql": "SELECT ?", "returns": "text" }
  }
}
JSON
  ;;
csv)
  mkdir -p data
  printf 'id,name,score,note\n1,Ann,1.5,"hello, world"\n2,"Zo\xc3\xab ""Z"" \xe2\x9c\x93",-0.25,"line1\nline2"\n3,Chlo\xc3\xa9,,\n' >data/people.csv
  { echo "n,label"; seq 1 100000 | awk '{print $1 ",row " $1}'; } >data/big.csv
  cat >conformance.json <<'JSON'
{
  "params": { "directory": "data" },
  "probe": {
    "select_one": "SELECT id FROM people LIMIT 1",
    "many_rows": { "sql": "SELECT n, label FROM big LIMIT {rows}", "rows": 100000 },
    "introspect": { "table": "people", "columns": ["id", "name", "score", "note"] }
  },
  "types": {
    "int64": { "sql": "SELECT id FROM people WHERE id = ?", "values": [1, 3], "null": false },
    "double": { "sql": "SELECT score FROM people WHERE score = ?", "values": [1.5, -0.25], "null": false },
    "text": { "sql": "SELECT name FROM people WHERE name = ?", "values": ["Ann", "Zoë \"Z\" ✓", "Chloé"], "null": false }
  }
}
JSON
  ;;
postgres)
  need_server PostgreSQL ILANA_TEST_PG_PORT
  cat >conformance.json <<'JSON'
{
  "params": { "host": "${ILANA_TEST_PG_HOST:-127.0.0.1}", "port": "${ILANA_TEST_PG_PORT}",
              "user": "${ILANA_TEST_PG_USER}", "password": "${ILANA_TEST_PG_PASSWORD}",
              "database": "${ILANA_TEST_PG_DATABASE}" },
  "probe": {
    "select_one": "SELECT 1",
    "many_rows": { "sql": "SELECT g, 'row ' || g FROM generate_series(1, {rows}) AS g", "rows": 100000 },
    "sleep": "SELECT pg_sleep(10)",
    "table": {
      "create": "CREATE TABLE {table} (k BIGINT PRIMARY KEY, v TEXT)",
      "insert": "INSERT INTO {table} (k, v) VALUES ($1, $2)",
      "select": "SELECT k, v FROM {table} WHERE k = $1",
      "count": "SELECT COUNT(*) FROM {table}",
      "drop": "DROP TABLE IF EXISTS {table}"
    }
  },
  "types": {
    "int64": "SELECT $1::bigint",
    "double": "SELECT $1::float8",
    "text": "SELECT $1::text",
    "blob": "SELECT $1::bytea",
    "bool": "SELECT $1::boolean",
    "decimal": "SELECT $1::numeric",
    "uint64": { "sql": "SELECT $1::numeric", "returns": "decimal" },
    "date": "SELECT $1::date",
    "time": "SELECT $1::time",
    "timestamp": "SELECT $1::timestamp",
    "timestamptz": "SELECT $1::timestamptz",
    "uuid": "SELECT $1::uuid",
    "json": "SELECT $1::json"
  }
}
JSON
  ;;
mysql)
  need_server MariaDB ILANA_TEST_MYSQL_PORT
  cat >conformance.json <<'JSON'
{
  "params": { "host": "${ILANA_TEST_MYSQL_HOST:-127.0.0.1}", "port": "${ILANA_TEST_MYSQL_PORT}",
              "user": "${ILANA_TEST_MYSQL_USER}", "password": "${ILANA_TEST_MYSQL_PASSWORD}",
              "database": "${ILANA_TEST_MYSQL_DATABASE}" },
  "probe": {
    "select_one": "SELECT 1",
    "many_rows": { "sql": "SELECT seq, CONCAT('row ', seq) FROM seq_1_to_{rows}", "rows": 100000 },
    "sleep": "SELECT SLEEP(10)",
    "table": {
      "create": "CREATE TABLE {table} (k BIGINT PRIMARY KEY, v TEXT)",
      "insert": "INSERT INTO {table} (k, v) VALUES (?, ?)",
      "select": "SELECT k, v FROM {table} WHERE k = ?",
      "count": "SELECT COUNT(*) FROM {table}",
      "drop": "DROP TABLE IF EXISTS {table}"
    }
  },
  "types": {
    "int64": "SELECT ?",
    "double": "SELECT ?",
    "text": "SELECT ?",
    "blob": "SELECT ?",
    "bool": { "sql": "SELECT ?", "returns": "int64" },
    "uint64": "SELECT CAST(? AS UNSIGNED)",
    "decimal": "SELECT CAST(? AS DECIMAL(30,4))",
    "date": "SELECT CAST(? AS DATE)",
    "time": "SELECT CAST(? AS TIME(6))",
    "timestamp": "SELECT CAST(? AS DATETIME(6))",
    "uuid": { "sql": "SELECT ?", "returns": "text" },
    "json": { "sql": "SELECT ?", "returns": "text" }
  }
}
JSON
  ;;
sdk-memory)
  cat >conformance.json <<'JSON'
{
  "params": {},
  "probe": {
    "select_one": "SELECT 1",
    "many_rows": { "sql": "SELECT SERIES {rows}", "rows": 100000 },
    "sleep": "SLEEP 20000",
    "table": {
      "create": "CREATE TABLE {table}",
      "insert": "INSERT INTO {table} VALUES (?, ?)",
      "select": "SELECT k, v FROM {table} WHERE k = ?",
      "count": "SELECT COUNT(*) FROM {table}",
      "drop": "DROP TABLE {table}"
    }
  },
  "types": {
    "int64": "SELECT ?", "bool": "SELECT ?", "uint64": "SELECT ?", "double": "SELECT ?", "text": "SELECT ?",
    "blob": "SELECT ?", "decimal": "SELECT ?", "date": "SELECT ?", "time": "SELECT ?", "timestamp": "SELECT ?",
    "timestamptz": "SELECT ?", "uuid": "SELECT ?", "json": "SELECT ?"
  }
}
JSON
  ;;
sdk-bridge)
  # A connection that reports its own dialect (ilana.conn_dialect/1): $n
  # placeholders, which the driver holds it to.
  cat >conformance.json <<'JSON'
{
  "params": { "filename": "conformance.sqlite", "speaks": "postgres" },
  "probe": {
    "select_one": "SELECT 1",
    "many_rows": { "sql": "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {rows}) SELECT x, 'row ' || x FROM s", "rows": 1000 },
    "table": {
      "create": "CREATE TABLE {table} (k INTEGER PRIMARY KEY, v TEXT)",
      "insert": "INSERT INTO {table} (k, v) VALUES ($1, $2)",
      "select": "SELECT k, v FROM {table} WHERE k = $1",
      "count": "SELECT COUNT(*) FROM {table}",
      "drop": "DROP TABLE IF EXISTS {table}"
    }
  },
  "types": {
    "int64": "SELECT $1",
    "double": "SELECT $1",
    "text": "SELECT $1",
    "blob": "SELECT $1"
  }
}
JSON
  ;;
*)
  echo "run_kit.sh: unknown driver '$driver'" >&2
  exit 2
  ;;
esac

exec "$kit" --plugin "$plugin" --connection "$work/conformance.json" --timeout 60
