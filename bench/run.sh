#!/usr/bin/env bash
# `make bench`: Pizarra under gunicorn (2 workers) on a fresh database, measured with wrk and Chromium.
# PostgreSQL when BENCH_DATABASE_URL names a server (a database of its own is created there and dropped),
# else a SQLite file under bench/results/. BENCH_SECONDS (15) per measurement, BENCH_WARMUP (3), BENCH_PORT;
# the endpoints side by side are measured in BENCH_ROUNDS (3) rounds of BENCH_SECONDS / BENCH_ROUNDS each.
# Everything runs on 127.0.0.1 and is bounded in time; the trap stops the server and removes the database.
# `bench/run.sh soak` (make soak) runs the capacity soak (bench/soak.py) on the same server instead.
set -euo pipefail
MODE=${1:-bench}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=$ROOT/.venv/bin
RESULTS=$ROOT/bench/results
export PATH="$BIN:$PATH"
mkdir -p "$RESULTS"

source "$ROOT/bench/common.sh"
need_apt wrk wrk
need_apt chromium chromium
[ -x "$BIN/gunicorn" ] || { echo "bench: $BIN/gunicorn missing: run make install" >&2; exit 1; }

SERVER_PID=""
DB_NAME=""
cleanup() {
  status=$?
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$DB_NAME" ]; then "$BIN/python" -m bench.dbctl drop "$BENCH_DATABASE_URL" "$DB_NAME" || true; fi
  rm -f "$RESULTS"/bench.sqlite3* "$RESULTS/cookies.tsv" "$RESULTS/question.tsv" "$RESULTS/answers.tsv" \
    "$RESULTS/soak-cookies.tsv"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  DB_NAME="pizarra_bench_$$_$(date +%s)"
  DATABASE_URL=$("$BIN/python" -m bench.dbctl create "$BENCH_DATABASE_URL" "$DB_NAME")
  echo "bench: PostgreSQL database $DB_NAME"
else
  rm -f "$RESULTS"/bench.sqlite3*
  DATABASE_URL="sqlite:///$RESULTS/bench.sqlite3"
  echo "bench: SQLite database $RESULTS/bench.sqlite3 (set BENCH_DATABASE_URL for PostgreSQL)"
fi
PORT=${BENCH_PORT:-$(free_port)}
export DATABASE_URL PIZARRA_ENV=production RATELIMIT_ENABLED=false MAIL_SERVER=""
export PUBLIC_BASE_URL="http://127.0.0.1:$PORT"
SECRET_KEY=$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')
TOKEN_ENCRYPTION_KEY=$("$BIN/python" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
export SECRET_KEY TOKEN_ENCRYPTION_KEY
export UPLOAD_DIR="$RESULTS/uploads"

echo "bench: schema (flask db upgrade, then create_all for anything the migrations do not have yet)"
"$BIN/flask" --app wsgi db upgrade >"$RESULTS/upgrade.log" 2>&1 || echo "bench: flask db upgrade failed (see $RESULTS/upgrade.log)"
"$BIN/python" -m bench.driver schema

echo "bench: gunicorn -w 2 on 127.0.0.1:$PORT"
"$BIN/gunicorn" -w 2 -b "127.0.0.1:$PORT" --log-level warning --error-logfile "$RESULTS/gunicorn.log" wsgi:app &
SERVER_PID=$!

if [ "$MODE" = soak ]; then
  [ -n "${BENCH_DATABASE_URL:-}" ] || echo "bench: the soak is meant for PostgreSQL (set BENCH_DATABASE_URL); running on SQLite"
  "$BIN/python" -m bench.soak --base-url "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" --results "$RESULTS"
  exit 0
fi
"$BIN/python" -m bench.driver run --base-url "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" --results "$RESULTS"
