#!/usr/bin/env bash
# The delivery-isolation benchmark (bench/src/bin/fairness.rs) on SQLite and, when
# IH_TEST_DATABASE_URL (or $1) names a PostgreSQL server, on PostgreSQL too (a fresh schema for
# each run). Figures go to docs/PERFORMANCE.md.
# The runs: healthy latency with no bad neighbour (the baseline), then beside five endpoints that
# never answer, answer 500, or answer after 2 s; a FIFO endpoint's order and pace; and the drain
# of 100,000 queued deliveries after a restart. Several minutes a backend.
# HUB=<binary> measures another build (say, the last commit's) with the same method.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${HUB:-}" ]; then
  cargo build --release -p integrations-hub -p bench -q
  HUB=target/release/integrations-hub
else
  cargo build --release -p bench -q
fi
runs=(
  "--scenario neighbour --bad 0"
  "--scenario neighbour --mode blackhole"
  "--scenario neighbour --mode 500"
  "--scenario neighbour --mode slow"
  "--scenario fifo"
  "--scenario drain"
)
run() { read -ra args <<<"$1"; shift; target/release/fairness --hub "$HUB" "${args[@]}" "$@"; }

echo "== SQLite"
for r in "${runs[@]}"; do run "$r"; done

pg=${1:-${IH_TEST_DATABASE_URL:-}}
if [ -n "$pg" ]; then
  sep='?'; case "$pg" in *\?*) sep='&';; esac
  sql() { psql "$pg" -qc "SET client_min_messages = warning; $1" >/dev/null; }  # no NOTICE per dropped table
  schema=
  trap '[ -z "$schema" ] || sql "DROP SCHEMA $schema CASCADE"' EXIT
  echo "== PostgreSQL"
  # A schema per run: a neighbour run leaves its bad endpoints' backlog behind, which the next
  # run's worker would go on delivering.
  for r in "${runs[@]}"; do
    schema="fairness_$(date +%s%N)"
    sql "CREATE SCHEMA $schema"
    run "$r" --database-url "${pg}${sep}options=-c%20search_path%3D${schema}"
    sql "DROP SCHEMA $schema CASCADE"
    schema=
  done
fi
