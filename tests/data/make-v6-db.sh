#!/usr/bin/env bash
# Remakes tests/data/v6-labsync.db: a database written by labsync at schema
# version 6 (release 68a0d47, the last before migration 0007), after real
# `labsync sync` cycles against `labsync sim`. tests/it/upgrade.rs opens it with
# today's store and syncs on. Run from the repository root:
#
#   git worktree add /tmp/rel 68a0d47
#   (cd /tmp/rel && cargo build --bin labsync)
#   tests/data/make-v6-db.sh /tmp/rel/target/debug/labsync
#
# It needs curl, jq and sqlite3. What it makes (plugin "t", Spira project 1,
# GitLab project demo/webshop; times are the machine's, ids the simulators'):
# - three incidents filed in Spira (one commented, one with a priority and
#   an owner) and one issue filed in GitLab (with a note), all linked by the
#   first cycle; then a note added on a linked issue and an incident title
#   edited, copied by a second cycle: links created both ways, comment links
#   both ways, watermarks on both sides, events and runs;
# - mappings from plugins.toml (statuses, priorities, one user: source
#   config), one user and one release from `labsync map` (source cli) and
#   users auto-mapped by the engine (source auto);
# The error queue is empty: no item fails against the simulators without
# their in-process fault hooks (crates/store's migration test covers that
# table with rows of every kind).
# Also written: v6-plugins.toml (the configuration it ran with; the
# simulators' addresses and credentials are gone with them) and
# v6-map-export.toml (`labsync map export` of that release with both),
# which today's labsync must still print the same.
set -euo pipefail
labsync=${1:?usage: $0 PATH-TO-LABSYNC-68a0d47}
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $sim 2>/dev/null || true; rm -rf "$work"' EXIT

"$labsync" sim --seed empty --gitlab-token glpat-v6-fixture \
    --spira-api-key '{V6-FIXTURE-KEY}' >"$work/sim.json" 2>/dev/null &
sim=$!
until [ -s "$work/sim.json" ]; do sleep 0.2; done
info=$(head -1 "$work/sim.json")
gl=$(jq -r .gitlab_url <<<"$info")/api/v4
sp=$(jq -r .spira_url <<<"$info")/Services/v7_0/RestService.svc
glp=$(jq -r .gitlab_project <<<"$info" | sed 's|/|%2F|g')
gitlab() { curl -sf -H 'PRIVATE-TOKEN: glpat-v6-fixture' -H 'content-type: application/json' "$@"; }
spira() { curl -sf -H 'username: administrator' -H 'api-key: {V6-FIXTURE-KEY}' \
    -H 'content-type: application/json' -H 'accept: application/json' "$@"; }

# The same plugin block as labsync::sim::config::plugin_toml("t", ...), plus
# one user mapping.
cat >"$work/plugins.toml" <<EOF
[[plugins]]
name = "t"

[plugins.spira]
base_url = "$(jq -r .spira_url <<<"$info")"
login = "administrator"
api_key = "{V6-FIXTURE-KEY}"

[plugins.gitlab]
base_url = "$(jq -r .gitlab_url <<<"$info")"
token = "glpat-v6-fixture"

[[plugins.projects]]
spira_project = 1
gitlab_project = "$(jq -r .gitlab_project <<<"$info")"
statuses = [
  { spira = "New", gitlab = "opened", primary = true },
  { spira = "Open", gitlab = "opened" },
  { spira = "Assigned", gitlab = "opened" },
  { spira = "Reopen", gitlab = "opened" },
  { spira = "Resolved", gitlab = "closed" },
  { spira = "Closed", gitlab = "closed", primary = true },
  { spira = "Not Reproducible", gitlab = "closed" },
  { spira = "Duplicate", gitlab = "closed" },
]
priorities = [
  { spira = "1 - Critical", gitlab = "priority::critical" },
  { spira = "2 - High", gitlab = "priority::high" },
  { spira = "3 - Medium", gitlab = "priority::medium" },
  { spira = "4 - Low", gitlab = "priority::low" },
]
users = [{ spira = "bob", gitlab = "bob" }]
EOF
chmod 600 "$work/plugins.toml"
ls_() { "$labsync" --config "$work/plugins.toml" --db "$work/labsync.db" "$@"; }

spira -X POST "$sp/projects/1/incidents" \
    -d '{"Name":"Checkout total is wrong","Description":"<p>Total is off by one cent.</p>","PriorityId":2,"OwnerId":3}' >/dev/null
spira -X POST "$sp/projects/1/incidents" \
    -d '{"Name":"Login button misaligned","Description":"<p>On small screens.</p>"}' >/dev/null
spira -X POST "$sp/projects/1/incidents" \
    -d '{"Name":"Search ignores filters","Description":"<p>Filter by date is ignored.</p>"}' >/dev/null
spira -X POST "$sp/projects/1/incidents/1/comments" -d '[{"Text":"Seen on Firefox too."}]' >/dev/null
gitlab -X POST "$gl/projects/$glp/issues" \
    -d '{"title":"Export drops the last row","description":"CSV export loses the last line."}' >/dev/null
gitlab -X POST "$gl/projects/$glp/issues/1/notes" -d '{"body":"Happens with 10 rows."}' >/dev/null

ls_ map user add --spira erin --gitlab dave
ls_ map release add --spira 2.0 --gitlab 'Release 2.0'
ls_ sync
# A note on the issue of incident 1, an edited incident title: copied by
# the second cycle (past the overlap window's second of resolution).
sleep 2
iid=$(sqlite3 "$work/labsync.db" "SELECT issue_iid FROM links WHERE incident_id = 1")
gitlab -X POST "$gl/projects/$glp/issues/$iid/notes" -d '{"body":"Fixed in the branch cart-rounding."}' >/dev/null
incident=$(spira "$sp/projects/1/incidents/2")
spira -X PUT "$sp/projects/1/incidents/2" \
    -d "$(jq -c '.Name = "Login button misaligned on phones"' <<<"$incident")" >/dev/null
ls_ sync

ls_ map export >"$out/v6-map-export.toml"
cp "$work/plugins.toml" "$out/v6-plugins.toml"
kill $sim; wait $sim 2>/dev/null || true
sqlite3 "$work/labsync.db" 'PRAGMA wal_checkpoint(TRUNCATE); VACUUM;' >/dev/null
cp "$work/labsync.db" "$out/v6-labsync.db"
sqlite3 "$out/v6-labsync.db" 'PRAGMA user_version' >&2
