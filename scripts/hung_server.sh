#!/usr/bin/env bash
# Measures how long `labsync check`, `labsync sync` and a SIGTERM to
# `labsync run` take while one side accepts connections and never answers,
# as multiples of http_timeout (issue 14, point 1).
#
#   scripts/hung_server.sh [--side spira|gitlab] [--timeout SECONDS] [--bin PATH]
#
# The other side is `labsync sim`. Prints one line per measurement; needs
# python3 (the hung listener) and jq.
set -euo pipefail

side=spira
timeout=2
bin="$(dirname "$0")/../target/debug/labsync"
while [ $# -gt 0 ]; do
    case "$1" in
        --side) side=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        *) echo "usage: $0 [--side spira|gitlab] [--timeout SECONDS] [--bin PATH]" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "no labsync binary at $bin (cargo build first)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# A server that accepts every connection and never answers; it writes one
# line to $work/accepted per connection.
python3 - "$work/port" "$work/accepted" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(128)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[2], "a") as f:
        f.write("x\n")
PY
pids+=($!)
"$bin" sim --seed empty >"$work/sim.json" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do
    [ -s "$work/port" ] && [ -s "$work/sim.json" ] && break
    sleep 0.1
done
hung="http://127.0.0.1:$(cat "$work/port")"
sim() { jq -r ".$1" "$work/sim.json"; }
spira_url=$(sim spira_url) gitlab_url=$(sim gitlab_url)
case "$side" in
    spira) spira_url=$hung ;;
    gitlab) gitlab_url=$hung ;;
    *) echo "--side is spira or gitlab" >&2; exit 2 ;;
esac

cat >"$work/plugins.toml" <<TOML
http_timeout = "${timeout}s"
database = "$work/labsync.db"

[[plugins]]
name = "hung"
schedule = "10s"

[plugins.spira]
base_url = "$spira_url"
login = "$(sim spira_login)"
api_key = "$(sim spira_api_key)"

[plugins.gitlab]
base_url = "$gitlab_url"
token = "$(sim gitlab_token)"

[[plugins.projects]]
spira_project = $(sim spira_project_id)
gitlab_project = "$(sim gitlab_project)"
statuses = [
  { spira = "New", gitlab = "opened", primary = true },
  { spira = "Closed", gitlab = "closed", primary = true },
]
TOML

ratio() { awk -v s="$1" -v t="$timeout" 'BEGIN { printf "%.1f", s / t }'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

report() {
    local what=$1 start=$2 end=$3 code=$4
    local secs
    secs=$(elapsed "$start" "$end")
    printf '%-8s %6s s  = %5s x http_timeout  (exit %s)\n' "$what" "$secs" "$(ratio "$secs")" "$code"
}

echo "side $side hangs; http_timeout ${timeout}s; $(basename "$bin") $("$bin" --version 2>/dev/null | head -1)"
for cmd in check sync; do
    start=$(now)
    code=0
    "$bin" --config "$work/plugins.toml" "$cmd" >"$work/$cmd.out" 2>&1 || code=$?
    report "$cmd" "$start" "$(now)" "$code"
done
echo "         requests the hung side accepted during check and sync: $(wc -l <"$work/accepted")"

: >"$work/accepted"
"$bin" --config "$work/plugins.toml" run >"$work/run.out" 2>&1 &
run=$!
pids+=($run)
# SIGTERM once the daemon waits on the hung side.
for _ in $(seq 600); do
    [ -s "$work/accepted" ] && break
    sleep 0.1
done
start=$(now)
kill -TERM "$run"
code=0
wait "$run" || code=$?
report SIGTERM "$start" "$(now)" "$code"
