#!/usr/bin/env bash
# Throwaway PostgreSQL and Chroma servers on 127.0.0.1 for the scale-out tests (and to try
# the scaled deployment on one machine). Everything lives under DIR; nothing is installed
# or started system-wide.
#
#   scripts/scaleout_services.sh start DIR   # start both, wait until they answer, print the exports
#   scripts/scaleout_services.sh stop DIR    # stop both (safe to call twice)
#
# Ports: CRS_PG_PORT (default 55432) and CRS_CHROMA_PORT (default 8123). PostgreSQL comes
# from Debian's postgresql package (apt-get install postgresql); as root the cluster runs
# as the 'postgres' user, since PostgreSQL refuses to run as root. Chroma is `chroma run`
# from the chromadb package in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

action="${1:-}"
dir="${2:-}"
if [ -z "$action" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
pg_port="${CRS_PG_PORT:-55432}"
chroma_port="${CRS_CHROMA_PORT:-8123}"
pgdata="$dir/pgdata"

pg_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$found" ]; then
    if command -v pg_ctl >/dev/null; then dirname "$(command -v pg_ctl)"; return; fi
    echo "PostgreSQL not found: apt-get install postgresql" >&2
    exit 1
  fi
  echo "$found"
}

as_pg() {  # run a command as the cluster owner
  if [ "$(id -u)" = "0" ]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

start() {
  local bin
  bin="$(pg_bin)"
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    mkdir -p "$pgdata"
    [ "$(id -u)" = "0" ] && chown postgres "$dir" "$pgdata"
    as_pg "'$bin/initdb' -D '$pgdata' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >'$dir/initdb.log' 2>&1" \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  # Tuned for a throwaway test cluster: no fsync (data is disposable), small memory.
  as_pg "'$bin/pg_ctl' -D '$pgdata' -l '$dir/postgres.log' -w -t 60 start \
    -o \"-h 127.0.0.1 -p $pg_port -k '$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200\"" \
    >/dev/null || { tail -n 30 "$dir/postgres.log" >&2; exit 1; }

  ANONYMIZED_TELEMETRY=False nohup .venv/bin/chroma run --path "$dir/chroma" --host 127.0.0.1 --port "$chroma_port" \
    >"$dir/chroma.log" 2>&1 &
  echo $! >"$dir/chroma.pid"
  .venv/bin/python - "$chroma_port" "$(cat "$dir/chroma.pid")" <<'PY' || { tail -n 30 "$dir/chroma.log" >&2; exit 1; }
import os, sys, time, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
for _ in range(240):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).read()
        sys.exit(0)
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit("chroma run exited")
        time.sleep(0.25)
sys.exit("chroma run did not answer within 60 s")
PY
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { echo "PostgreSQL did not answer" >&2; exit 1; }
  echo "export CRS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$pg_port/postgres"
  echo "export CRS_TEST_CHROMA_URL=http://127.0.0.1:$chroma_port"
}

stop() {
  if [ -f "$dir/chroma.pid" ]; then
    kill "$(cat "$dir/chroma.pid")" 2>/dev/null || true
    rm -f "$dir/chroma.pid"
  fi
  if [ -f "$pgdata/postmaster.pid" ]; then
    as_pg "'$(pg_bin)/pg_ctl' -D '$pgdata' -m fast -w stop" >/dev/null 2>&1 || true
  fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
