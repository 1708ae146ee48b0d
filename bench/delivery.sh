#!/usr/bin/env bash
# The delivery benchmark on SQLite and, when IH_TEST_DATABASE_URL (or $1) names a PostgreSQL
# server, on PostgreSQL too (in a fresh schema). Figures go to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p integrations-hub -p bench -q
echo "== SQLite"; target/release/bench
pg=${1:-${IH_TEST_DATABASE_URL:-}}
if [ -n "$pg" ]; then
  schema="bench_$(date +%s)"
  psql "$pg" -qc "CREATE SCHEMA $schema" >/dev/null
  sep='?'; case "$pg" in *\?*) sep='&';; esac
  echo "== PostgreSQL"; target/release/bench --database-url "${pg}${sep}options=-c%20search_path%3D${schema}"
  psql "$pg" -qc "DROP SCHEMA $schema CASCADE" >/dev/null
fi
