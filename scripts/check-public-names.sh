#!/usr/bin/env bash
# The naming rule of ilana's public C++ headers (DESIGN-NOTES.md, "Names in
# the public API"): types PascalCase, constants kPascalCase, everything else
# snake_case -- except the query builder and models, which keep the knex
# vocabulary the seeds' code is written in (whereIn, orderBy, selectRaw...).
# Prints every camelCase name outside that vocabulary and exits 1.
#   scripts/check-public-names.sh [repository root]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
knex='^(where|orWhere)(In|NotIn|Null|NotNull|Between|NotBetween|Raw)?$|^(selectRaw|groupBy|having|havingRaw|orderBy|orderByRaw|leftJoin|toSql|primaryKey)$'
status=0
for f in "$root"/core/include/ilana/*.hpp "$root"/sdk/include/ilana/sdk/*.hpp; do
  # Comments and string literals are prose and SQL, not names.
  names=$(sed -E 's#//.*##; s#"([^"\\]|\\.)*"#""#g' "$f" |
          grep -oE '\b[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*\b' | sort -u || true)
  for n in $names; do
    [[ $n =~ ^k[A-Z] ]] && continue # a constant
    case "$(basename "$f")" in
      query.hpp|model.hpp) [[ $n =~ $knex ]] && continue ;;
    esac
    echo "${f#"$root"/}: '$n' is camelCase; public names are snake_case (types PascalCase, constants kName)" >&2
    status=1
  done
done
exit $status
