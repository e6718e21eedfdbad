#!/usr/bin/env bash
# Build the wheel and the sdist, install the wheel with the `postgres` extra into a fresh venv
# outside the checkout, and run from there what a user runs after `pip install`:
# `sqlmodel-production demo` on SQLite and on PostgreSQL (GET /heroes/ and /openapi.json answer
# 200), `doctor` on a small file and `explain` on an error text.
#
# Usage: scripts/check_dist.sh (or `make dist-check`). PostgreSQL is SMP_TEST_POSTGRES_URL
# (default postgresql://postgres@127.0.0.1:5432/test): a scratch database is created beside it
# and dropped at the end. PYTHON builds the artifacts (default: .venv/bin/python, with `build`).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
ADMIN_URL=${SMP_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}
WAIT_SECONDS=${WAIT_SECONDS:-60}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/smp-dist.XXXXXX")
case "$WORK/" in "$ROOT"/*) echo "FAIL: $WORK is inside the checkout" >&2; exit 1 ;; esac
VENV=$WORK/venv
RUN=$WORK/run  # the working directory of every command: no checkout file can be imported
SCRATCH_DB=smp_dist_$$_$RANDOM
SERVER_PID=
DB_CREATED=

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
    local status=$?
    stop_server
    if [[ -n $DB_CREATED ]]; then
        admin_sql "DROP DATABASE IF EXISTS \"$SCRATCH_DB\" WITH (FORCE)" || status=1
    fi
    rm -rf "$WORK"
    if [[ $status -eq 0 ]]; then echo; echo "dist-check: OK"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_server() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=
}

admin_sql() {  # SQL: one statement on the admin connection, through the venv's psycopg
    "$VENV/bin/python" -c '
import sys
import psycopg
with psycopg.connect(sys.argv[1], autocommit=True, connect_timeout=10) as conn:
    conn.execute(sys.argv[2])
' "$ADMIN_URL" "$1"
}

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

status_of() {  # URL -> the HTTP status, or 000 when nothing answers
    curl --silent --output /dev/null --max-time 5 --write-out '%{http_code}' "$1" || true
}

# --- build ---------------------------------------------------------------------------

step "build the sdist, then the wheel from the sdist"
"$PYTHON" -m build --outdir "$WORK/dist" "$ROOT" >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log" >&2; fail "python -m build"; }
shopt -s nullglob
wheels=("$WORK"/dist/*.whl)
sdists=("$WORK"/dist/*.tar.gz)
shopt -u nullglob
[[ ${#wheels[@]} -eq 1 && ${#sdists[@]} -eq 1 ]] || fail "expected one wheel and one sdist in $WORK/dist"
WHEEL=${wheels[0]}
SDIST=${sdists[0]}
echo "$(basename "$WHEEL") $(basename "$SDIST")"

step "the artifacts hold what a user and a build need"
"$PYTHON" - "$WHEEL" "$SDIST" <<'EOF'
import sys
import tarfile
import zipfile

wheel = set(zipfile.ZipFile(sys.argv[1]).namelist())
with tarfile.open(sys.argv[2]) as sdist:
    root = sdist.getnames()[0].split("/")[0]
    sdist_files = {name.removeprefix(root + "/") for name in sdist.getnames()}

problems = []
for name in [
    "sqlmodel_production/__init__.py",
    "sqlmodel_production/py.typed",
    "sqlmodel_production/cli/_demo.py",
    "sqlmodel_production/demo/app.py",
    "sqlmodel_production/demo/handwritten.py",
    "sqlmodel_production/demo/sample_data.py",
    "sqlmodel_production/demo/_async/routes.py",
    "sqlmodel_production/demo/_sync/routes.py",
]:
    if name not in wheel:
        problems.append(f"wheel lacks {name}")
    if name not in sdist_files:
        problems.append(f"sdist lacks {name}")
tops = {name.split("/")[0] for name in wheel}
for top in tops - {"sqlmodel_production"}:
    if not top.endswith(".dist-info"):
        problems.append(f"wheel ships a top-level {top!r}")
licences = [n for n in wheel if n.endswith(".dist-info/licenses/LICENSE")]
if not licences:
    problems.append("wheel lacks the LICENSE in its .dist-info")
for name in ["pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "PKG-INFO"]:
    if name not in sdist_files:
        problems.append(f"sdist lacks {name}")
if problems:
    sys.exit("\n".join(problems))
print(f"wheel: {len(wheel)} files; sdist: {len(sdist_files)} files")
EOF

# --- install -------------------------------------------------------------------------

step "install the wheel with the postgres extra into a fresh venv ($VENV)"
mkdir -p "$RUN"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$WHEEL[postgres]" \
    2>&1 | grep -v '^WARNING: Location' || true
[[ -x $VENV/bin/sqlmodel-production ]] || fail "the wheel did not install the sqlmodel-production script"
installed=$(cd "$RUN" && "$VENV/bin/python" -I -c 'import sqlmodel_production.demo as d; print(d.__file__)')
case "$installed" in
    "$VENV"/*) echo "imports $installed" ;;
    *) fail "sqlmodel_production.demo comes from $installed, not from the venv" ;;
esac

# --- demo ----------------------------------------------------------------------------

serve_demo() {  # NAME DATABASE_URL: serve the demo, wait for both answers, check the heroes, stop
    local name=$1 url=$2 port log heroes openapi
    port=$(free_port)
    log=$WORK/demo-$name.log
    (cd "$RUN" && exec env DATABASE_URL="$url" "$VENV/bin/sqlmodel-production" demo \
        --sample-data --port "$port") >"$log" 2>&1 &
    SERVER_PID=$!
    heroes=000 openapi=000
    for _ in $(seq 1 $((WAIT_SECONDS * 4))); do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; fail "demo on $name exited"; }
        heroes=$(status_of "http://127.0.0.1:$port/heroes/")
        openapi=$(status_of "http://127.0.0.1:$port/openapi.json")
        [[ $heroes == 200 && $openapi == 200 ]] && break
        sleep 0.25
    done
    if [[ $heroes != 200 || $openapi != 200 ]]; then
        cat "$log" >&2
        fail "demo on $name: GET /heroes/ $heroes, /openapi.json $openapi after ${WAIT_SECONDS}s"
    fi
    curl --silent --max-time 5 "http://127.0.0.1:$port/heroes/" \
        | "$VENV/bin/python" -c '
import json, sys
names = sorted(hero["name"] for hero in json.load(sys.stdin))
if names != ["Deadpond", "Rusty-Man", "Spider-Boy"]:
    sys.exit(f"unexpected heroes: {names}")
' || fail "demo on $name: GET /heroes/ did not list the sample heroes"
    stop_server
    grep -q "Added sample data." "$log" || { cat "$log" >&2; fail "demo on $name added no sample data"; }
    echo "demo on $name: GET /heroes/ 200, GET /openapi.json 200, sample heroes listed"
}

step "sqlmodel-production demo on SQLite"
serve_demo sqlite "sqlite:///$WORK/demo.db"
[[ -f $WORK/demo.db ]] || fail "the demo did not create $WORK/demo.db"

step "sqlmodel-production demo on PostgreSQL (scratch database $SCRATCH_DB)"
admin_sql "CREATE DATABASE \"$SCRATCH_DB\"" \
    || fail "cannot create a scratch database through $ADMIN_URL (set SMP_TEST_POSTGRES_URL)"
DB_CREATED=1
PG_URL=$("$VENV/bin/python" -c '
import sys
from sqlalchemy.engine import make_url
print(make_url(sys.argv[1]).set(database=sys.argv[2]).render_as_string(hide_password=False))
' "$ADMIN_URL" "$SCRATCH_DB")
serve_demo postgresql "$PG_URL"

# --- doctor and explain --------------------------------------------------------------

step "sqlmodel-production doctor"
mkdir -p "$RUN/app"
cat >"$RUN/app/db.py" <<'EOF'
from sqlmodel import create_engine

engine = create_engine("postgresql://app@db/app", echo=True, pool_pre_ping=True)
EOF
set +e
(cd "$RUN" && "$VENV/bin/sqlmodel-production" doctor app) >"$WORK/doctor.out" 2>&1
code=$?
set -e
cat "$WORK/doctor.out"
[[ $code -eq 1 ]] || fail "doctor exited $code on a file with echo=True (expected 1)"
grep -q "SMP003" "$WORK/doctor.out" || fail "doctor did not report SMP003 (echo=True)"
sed -i 's/echo=True, //' "$RUN/app/db.py"
(cd "$RUN" && "$VENV/bin/sqlmodel-production" doctor app) >"$WORK/doctor.out" 2>&1 \
    || { cat "$WORK/doctor.out" >&2; fail "doctor failed on the fixed file"; }
grep -q "No problems found" "$WORK/doctor.out" || fail "doctor: $(cat "$WORK/doctor.out")"
echo "doctor: exit 1 with SMP003, then exit 0 once fixed"

step "sqlmodel-production explain"
(cd "$RUN" && "$VENV/bin/sqlmodel-production" explain \
    "sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call await_only() here.") \
    >"$WORK/explain.out" 2>&1 || { cat "$WORK/explain.out" >&2; fail "explain exited non-zero"; }
cat "$WORK/explain.out"
grep -q "MissingGreenlet" "$WORK/explain.out" || fail "explain did not recognize MissingGreenlet"
set +e
(cd "$RUN" && "$VENV/bin/sqlmodel-production" explain "all is well") >/dev/null 2>&1
code=$?
set -e
[[ $code -eq 1 ]] || fail "explain exited $code on an unknown text (expected 1)"
echo "explain: recognized MissingGreenlet; exit 1 on an unknown text"
