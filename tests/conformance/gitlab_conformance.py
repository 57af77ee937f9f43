"""Drives the labsync GitLab simulator with python-gitlab, a client this
project did not write. Where python-gitlab and the simulator disagree, the
simulator is wrong.

Env: GITLAB_URL, GITLAB_TOKEN, GITLAB_PROJECT. Exit 0 when every check holds.
"""

import os
import sys
from datetime import datetime, timezone

try:
    import gitlab
    import gitlab.exceptions as gle
except ImportError:
    print("python-gitlab is missing: pip install -r tests/conformance/requirements.txt")
    sys.exit(3)

URL = os.environ["GITLAB_URL"]
TOKEN = os.environ["GITLAB_TOKEN"]
PROJECT = os.environ["GITLAB_PROJECT"]


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def parse(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


if os.environ.get("GITLAB_MODE") == "throttle":
    # A small budget: python-gitlab must meet 429s and get through them by
    # honouring Retry-After, as it does against gitlab.com.
    gl = gitlab.Gitlab(URL, private_token=TOKEN)
    for n in range(12):
        found = gl.users.list(username="bob")
        check(len(found) == 1, f"request {n} got through the throttle")
    print("all conformance checks passed")
    sys.exit(0)

gl = gitlab.Gitlab(URL, private_token=TOKEN, retry_transient_errors=True)
gl.auth()
bearer = gitlab.Gitlab(URL, oauth_token=TOKEN)
bearer.auth()
check(bearer.user.username == "labsync-bot", "the token is accepted as Authorization: Bearer")
check(gl.user.username == "labsync-bot", "GET /user names the token's user")

project = gl.projects.get(PROJECT)
check(project.path_with_namespace == PROJECT, "project found by its URL-encoded path")
check(project.issues_enabled is True, "project says issues are enabled")
by_id = gl.projects.get(project.id)
check(by_id.path_with_namespace == PROJECT, "project found by numeric id")

# A batch of issues, then an incremental listing across pages.
before = project.issues.list(get_all=True)
created = []
for n in range(25):
    created.append(project.issues.create({"title": f"conformance {n}", "description": "batch"}))
check(all(i.state == "opened" for i in created), "created issues are opened")
check(created[1].iid == created[0].iid + 1, "iids are sequential")
since = min(parse(i.updated_at) for i in created)
since_text = created[0].updated_at

listing = project.issues.list(
    updated_after=since_text, order_by="updated_at", sort="asc", per_page=10, iterator=True
)
check(listing.total == 25, f"X-Total counts 25 issues (got {listing.total})")
check(listing.total_pages == 3, f"X-Total-Pages is 3 (got {listing.total_pages})")
check(listing.per_page == 10, "X-Per-Page echoes per_page")
seen = [i.iid for i in listing]
check(len(seen) == 25, f"iterator follows Link rel=next across 3 pages (saw {len(seen)})")
check(sorted(seen) == sorted(i.iid for i in created), "the listing holds exactly the new issues")
inclusive = project.issues.list(updated_after=since_text, get_all=True)
check(created[0].iid in [i.iid for i in inclusive], "updated_after is inclusive")
check(len(inclusive) == 25 and all(parse(i.updated_at) >= since for i in inclusive),
      "updated_after leaves the older seeded issues out")

raw = gl.http_get(
    f"/projects/{project.id}/issues",
    query_data={"updated_after": since_text, "per_page": 10, "page": 3},
    raw=True,
)
check(raw.headers["Content-Type"] == "application/json", "Content-Type is exactly application/json")
check(raw.headers.get("X-Next-Page") == "", "X-Next-Page is present and empty on the last page")
check("next" not in raw.links and "prev" in raw.links, "Link has prev but no next on the last page")
check(raw.links["prev"]["url"].startswith(URL + "/api/v4/"), "Link URLs are on the simulator's host and port")
check("updated_after=" in raw.links["first"]["url"], "Link URLs repeat the request's filters")

everything = project.issues.list(get_all=True)
check(len(everything) == len(before) + 25, "get_all follows every page (state defaults to all)")
first_page = project.issues.list(page=1)
check(len(first_page) == 20, "default per_page is 20")
check(
    [i.iid for i in first_page] == sorted([i.iid for i in everything], reverse=True)[:20],
    "default order is created_at desc",
)

# Create with labels, close, reopen-free check of closed fields.
issue = project.issues.create(
    {"title": "Conformance: close me", "description": "body", "labels": "zeta,alpha"}
)
check(issue.labels == ["alpha", "zeta"], "labels come back sorted")
issue.state_event = "close"
issue.save()
issue = project.issues.get(issue.iid)
check(issue.state == "closed", "state_event=close closes the issue")
check(issue.closed_at is not None, "closed_at is set")
check(issue.attributes["closed_by"]["username"] == "labsync-bot", "closed_by names the closer")
events = issue.resourcestateevents.list(get_all=True)
check([e.state for e in events] == ["closed"], "close is a resource state event")
closed = project.issues.list(state="closed", get_all=True)
check(issue.iid in [i.iid for i in closed], "state=closed lists it")

# Notes.
note = issue.notes.create({"body": "A conformance comment"})
check(note.body == "A conformance comment" and note.system is False, "note created")
notes = issue.notes.list(get_all=True)
check(any(n.id == note.id for n in notes), "note listed")
note.body = "An edited comment"
note.save()
check(issue.notes.get(note.id).body == "An edited comment", "note edited")

# Labels.
label = project.labels.create({"name": "conformance", "color": "#ff0000"})
check(label.name == "conformance" and label.color == "#ff0000", "label created")
try:
    project.labels.create({"name": "conformance", "color": "#ff0000"})
    check(False, "a duplicate label is refused")
except gle.GitlabCreateError as e:
    check(e.response_code == 409 and "already exists" in str(e), "duplicate label: 409 Label already exists")
names = [l.name for l in project.labels.list(get_all=True)]
check("conformance" in names and "alpha" in names, "labels list holds created and on-the-fly labels")

# Milestones.
ms = project.milestones.create({"title": "Conformance sprint", "due_date": "2030-01-31"})
check(ms.state == "active" and ms.due_date == "2030-01-31", "milestone created")
try:
    project.milestones.create({"title": "Conformance sprint"})
    check(False, "a duplicate milestone title is refused")
except gle.GitlabCreateError as e:
    check(e.response_code == 400, "duplicate milestone: 400")
ms.state_event = "close"
ms.save()
check(project.milestones.get(ms.id).state == "closed", "milestone closed")
check(
    ms.id in [m.id for m in project.milestones.list(state="closed", get_all=True)],
    "milestones filter on state",
)
issue.milestone_id = ms.id
issue.save()
check(project.issues.get(issue.iid).milestone["title"] == "Conformance sprint", "issue gets a milestone")

# Errors python-gitlab maps.
try:
    project.issues.get(999999)
    check(False, "unknown iid is an error")
except gle.GitlabGetError as e:
    check(e.response_code == 404, "unknown iid: 404")
try:
    project.issues.create({"title": "x" * 256})
    check(False, "a long title is refused")
except gle.GitlabCreateError as e:
    check(e.response_code == 400 and "too long" in str(e), "title too long: 400")
bad = gitlab.Gitlab(URL, private_token="glpat-wrong")
try:
    bad.auth()
    check(False, "a bad token is refused")
except gle.GitlabAuthenticationError:
    check(True, "bad token: GitlabAuthenticationError (401)")

users = gl.users.list(username="bob")
check(len(users) == 1 and users[0].name == "Bob Developer", "users?username= finds bob")
print("all conformance checks passed")
