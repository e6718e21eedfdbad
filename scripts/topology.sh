#!/usr/bin/env bash
# Start the components of the scale-out topology on this machine, next to its PostgreSQL:
#   scripts/topology.sh pgbouncer   PgBouncer in transaction mode on 127.0.0.1:6432
#   scripts/topology.sh replica     a streaming replica of the PostgreSQL on 5432, on 127.0.0.1:5433
# Each is left alone when it already answers. Both run as the `postgres` user.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=${SMP_TOPOLOGY_DIR:-/var/tmp/sqlmodel-production}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
cluster_version=$(basename "$(dirname "$pg_bin")")

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_postgres() { runuser -u postgres -- "$@"; }

wait_port() {  # name port
    for _ in $(seq 1 60); do
        if answers "$2"; then echo "$1 answers on 127.0.0.1:$2"; return 0; fi
        sleep 0.5
    done
    echo "FAIL: $1 did not come up on 127.0.0.1:$2" >&2
    return 1
}

pgbouncer_up() {
    if answers 6432; then echo "PgBouncer answers on 127.0.0.1:6432"; return 0; fi
    command -v pgbouncer >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; }
    local dir=$state/pgbouncer
    mkdir -p "$dir"
    cp "$here/docs_src/scaling/pgbouncer.ini" "$dir/pgbouncer.ini"
    printf '"postgres" ""\n"root" ""\n' > "$dir/userlist.txt"
    cat >> "$dir/pgbouncer.ini" <<CONF
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
unix_socket_dir =
CONF
    chown -R postgres:postgres "$dir"
    (cd "$dir" && as_postgres pgbouncer -d "$dir/pgbouncer.ini")
    wait_port PgBouncer 6432
}

replica_up() {
    if answers 5433; then echo "The replica answers on 127.0.0.1:5433"; return 0; fi
    local conf=/etc/postgresql/$cluster_version/main
    local hba=$conf/pg_hba.conf
    if ! grep -q "^host replication all 127.0.0.1/32 trust" "$hba"; then
        echo "host replication all 127.0.0.1/32 trust" >> "$hba"
        as_postgres psql -h 127.0.0.1 -U postgres -d postgres -qAtc "select pg_reload_conf()" >/dev/null
    fi
    local dir=$state/replica
    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/run"
    chown -R postgres:postgres "$dir"
    chmod 700 "$dir/data"
    as_postgres "$pg_bin/pg_basebackup" -h 127.0.0.1 -U postgres -D "$dir/data" -R -X stream -c fast
    cat > "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = 5433
hba_file = '$hba'
unix_socket_directories = '$dir/run'
hot_standby = on
max_connections = 100
CONF
    chown postgres:postgres "$dir/data/postgresql.conf"
    as_postgres "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
    wait_port "The replica" 5433
}

case "${1:-}" in
    pgbouncer) pgbouncer_up ;;
    replica) replica_up ;;
    all) pgbouncer_up; replica_up ;;
    *) echo "usage: $0 pgbouncer|replica|all" >&2; exit 2 ;;
esac
