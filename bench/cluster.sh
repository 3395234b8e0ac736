#!/usr/bin/env bash
# `make cluster-test`: two gunicorn instances (A and B) behind HAProxy, one PostgreSQL, one Redis, one upload
# directory, the SENCE simulator and its ClaveÚnica; bench/cluster.py drives a participant through it in Chromium
# and checks the access logs and the database. CLUSTER_DATABASE_URL names the PostgreSQL server (a database of its
# own is created and dropped), CLUSTER_REDIS_URL the Redis database for the rate limits.
# Everything listens on 127.0.0.1 on free ports, is bounded in time, and the trap stops every process it started
# and drops the database however the run ends. Logs stay in bench/results/cluster/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=$ROOT/.venv/bin
export PATH="$BIN:$PATH"
source "$ROOT/bench/common.sh"
SERVER_URL=${CLUSTER_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
REDIS_URL=${CLUSTER_REDIS_URL:-redis://127.0.0.1:6379/9}
LOGS=$ROOT/bench/results/cluster
STARTED=$(date +%s)

need_apt haproxy haproxy
need_apt chromium chromium
[ -x "$BIN/gunicorn" ] || { echo "cluster: $BIN/gunicorn missing: run make install" >&2; exit 1; }
"$BIN/python" -c "import redis, sys; redis.Redis.from_url(sys.argv[1]).ping()" "$REDIS_URL" \
  || { echo "cluster: Redis does not answer at $REDIS_URL" >&2; exit 1; }

PIDS=()
DB_NAME=""
WORK=""
cleanup() {
  status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$DB_NAME" ]; then "$BIN/python" -m bench.dbctl drop "$SERVER_URL" "$DB_NAME" || true; fi
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
  echo "cluster: stopped ${#PIDS[@]} processes, dropped ${DB_NAME:-no database}; logs in $LOGS ($(( $(date +%s) - STARTED )) s)"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {  # start <log name> <command...>: in the background, output to bench/results/cluster/<name>.out
  local name=$1; shift
  "$@" >"$LOGS/$name.out" 2>&1 &
  PIDS+=($!)
}

rm -rf "$LOGS"
mkdir -p "$LOGS"
WORK=$(mktemp -d /tmp/pizarra-cluster.XXXXXX)
mkdir -p "$WORK/uploads" "$WORK/sence-journal"  # $WORK/mail: the SMTP server makes its Maildir
DB_NAME="pizarra_cluster_$$_$(date +%s)"
DATABASE_URL=$("$BIN/python" -m bench.dbctl create "$SERVER_URL" "$DB_NAME")
LB_PORT=$(free_port); A_PORT=$(free_port); B_PORT=$(free_port)
SIM_PORT=$(free_port); CU_PORT=$(free_port); SMTP_PORT=$(free_port)
echo "cluster: database $DB_NAME; HAProxy :$LB_PORT -> A :$A_PORT, B :$B_PORT; simulator :$SIM_PORT," \
  "ClaveÚnica :$CU_PORT, SMTP :$SMTP_PORT"

# The same settings for both servers (and the sweeps): only the port differs.
# Development, not production: production refuses courses on the simulator; secrets and rate limits are set anyway.
export DATABASE_URL PIZARRA_ENV=development RATELIMIT_ENABLED=true RATELIMIT_STORAGE_URI=$REDIS_URL PROXY_COUNT=1
export PUBLIC_BASE_URL="http://localhost:$LB_PORT"
SECRET_KEY=$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')
TOKEN_ENCRYPTION_KEY=$("$BIN/python" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
export SECRET_KEY TOKEN_ENCRYPTION_KEY
export UPLOAD_DIR=$WORK/uploads SENCE_JOURNAL_DIR=$WORK/sence-journal
export SENCE_SIMULATOR_URL="http://127.0.0.1:$SIM_PORT/rce" SIC_SIMULATOR_URL="http://127.0.0.1:$SIM_PORT/sic"
export SIMULATOR_CLAVEUNICA_PORT=$CU_PORT SIMULATOR_REGISTRY=$WORK/registry.json
export MAIL_SERVER=127.0.0.1 MAIL_PORT=$SMTP_PORT MAIL_FROM="Pizarra <pizarra@localhost>"

echo "cluster: flask db upgrade, then the seed"
"$BIN/flask" --app wsgi db upgrade >"$LOGS/upgrade.out" 2>&1 || { cat "$LOGS/upgrade.out"; exit 1; }
"$BIN/python" -m bench.cluster seed --registry "$SIMULATOR_REGISTRY"

"$BIN/python" -m bench.cluster haproxy --port "$LB_PORT" --a "$A_PORT" --b "$B_PORT" >"$LOGS/haproxy.cfg"
haproxy -c -q -f "$LOGS/haproxy.cfg"

start smtp "$BIN/python" -m aiosmtpd -n -u -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$WORK/mail"
start simulator "$BIN/flask" --app app.simulator.wsgi run --host 127.0.0.1 --port "$SIM_PORT"
start claveunica "$BIN/flask" --app app.simulator.wsgi:claveunica run --host 127.0.0.1 --port "$CU_PORT"
ACCESS_FORMAT=$("$BIN/python" -c 'from bench.cluster import ACCESS_FORMAT; print(ACCESS_FORMAT)')
for server in a b; do
  port=$A_PORT; [ "$server" = b ] && port=$B_PORT
  start "gunicorn-$server" "$BIN/gunicorn" -w 2 -b "127.0.0.1:$port" --timeout 60 \
    --access-logfile "$LOGS/access-$server.log" \
    --access-logformat "$ACCESS_FORMAT" wsgi:app
done
"$BIN/python" -m bench.cluster wait "$A_PORT" "$B_PORT" "$SIM_PORT/" "$CU_PORT/-"  # then HAProxy's first checks pass
start haproxy haproxy -db -f "$LOGS/haproxy.cfg"

timeout "${CLUSTER_TIMEOUT:-300}" "$BIN/python" -m bench.cluster run --lb "$LB_PORT" --a "$A_PORT" --b "$B_PORT" \
  --claveunica "http://127.0.0.1:$CU_PORT" --logs "$LOGS" --results "$LOGS" --smtp-dir "$WORK/mail" \
  --redis "$REDIS_URL"
