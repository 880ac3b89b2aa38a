#!/usr/bin/env bash
# Private PostgreSQL 15 cluster for development and tests.
#
#   scripts/pg.sh start DIR PORT   initdb (if DIR has no cluster yet) and start it
#   scripts/pg.sh stop DIR         stop it (no-op if it is not running)
#   scripts/pg.sh status DIR       exit 0 if running
#
# Layout of DIR:   DIR/data (PGDATA), DIR/run (unix socket), DIR/server.log
# The server listens on 127.0.0.1:PORT and on the socket in DIR/run only, with
# trust auth (it is private to this machine). On success `start` prints
#   DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres
# on stdout; everything else goes to stderr.
#
# PostgreSQL refuses to run as root, so as root every server command runs as
# the `postgres` OS user, which must be able to reach DIR. If it cannot (e.g.
# DIR is under /root, mode 700), the cluster lives in /tmp/chunked-upload-pg-<hash
# of DIR> instead and a note says so; `stop DIR` finds it the same way.
#
# Environment:
#   PG_BIN=/usr/lib/postgresql/15/bin   where the server binaries are
#   PG_NOSYNC=1                         fsync/synchronous_commit/full_page_writes
#                                       off: faster, unsafe on crash (tests only)
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

die() { echo "pg.sh: $*" >&2; exit 1; }
log() { echo "pg.sh: $*" >&2; }

usage() {
    echo "usage: $0 start DIR PORT | stop DIR | status DIR" >&2
    exit 2
}

is_root() { [ "$(id -u)" = 0 ]; }

# Run a command as the OS user that owns the cluster. cd / first so that a
# cwd the postgres user cannot read does not produce warnings/failures.
as_pg() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

ensure_binaries() {
    if [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/initdb" ]; then
        return
    fi
    # Same machine kind as CI: Debian with apt, running as root.
    # Installed but not where PG_BIN says: do not let apt upgrade it behind our back.
    if dpkg -s postgresql-15 >/dev/null 2>&1; then
        die "postgresql-15 is installed but $PG_BIN/pg_ctl is missing (wrong PG_BIN?)"
    fi
    is_root || die "PostgreSQL 15 binaries not found in $PG_BIN and not root to install them (apt-get install postgresql-15)"
    log "PostgreSQL 15 not found in $PG_BIN; installing postgresql-15 with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends postgresql-15 >&2
    [ -x "$PG_BIN/pg_ctl" ] || die "postgresql-15 installed but $PG_BIN/pg_ctl is still missing"
}

# Resolve DIR to the directory that really holds the cluster (sets HOME_DIR).
resolve_home() {
    local dir=$1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    HOME_DIR=$dir
    if is_root; then
        id postgres >/dev/null 2>&1 || die "OS user 'postgres' does not exist (is postgresql-15 installed?)"
        # DIR itself gets chowned below; its parent and every ancestor must be
        # searchable by postgres (access(2) checks the whole path).
        if ! runuser -u postgres -- test -x "$(dirname "$dir")"; then
            HOME_DIR=/tmp/chunked-upload-pg-$(printf '%s' "$dir" | sha256sum | cut -c1-16)
            log "note: user postgres cannot reach $dir; cluster lives in $HOME_DIR instead"
            mkdir -p "$HOME_DIR"
        fi
    fi
    # Unix socket paths are limited to 107 bytes.
    if [ $(( ${#HOME_DIR} + 4 + 17 )) -gt 107 ]; then
        die "path too long for a unix socket dir: $HOME_DIR/run (use a shorter DIR)"
    fi
    DATA=$HOME_DIR/data
    RUN=$HOME_DIR/run
    LOGFILE=$HOME_DIR/server.log
}

is_running() {
    [ -f "$DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

cmd_start() {
    local dir=$1 port=$2
    [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'"
    ensure_binaries
    resolve_home "$dir"

    if is_root; then
        # DIR itself may be root-owned; the server needs to write into it.
        chown postgres: "$HOME_DIR"
    fi
    mkdir -p "$RUN"
    is_root && chown postgres: "$RUN"
    chmod 755 "$RUN"  # clients of any user may use the socket

    if [ ! -f "$DATA/PG_VERSION" ]; then
        if [ -d "$DATA" ] && [ -n "$(ls -A "$DATA")" ]; then
            die "$DATA is not empty but holds no PostgreSQL cluster; remove it or pick another DIR"
        fi
        log "initdb in $DATA"
        mkdir -p "$DATA"
        is_root && chown postgres: "$DATA"
        chmod 700 "$DATA"
        as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C >"$HOME_DIR/initdb.log" 2>&1 \
            || { cat "$HOME_DIR/initdb.log" >&2; die "initdb failed"; }
        # Our settings live in a separate file so that start can rewrite them.
        echo "include_if_exists = 'chunked_upload.conf'" >>"$DATA/postgresql.conf"
    fi

    if is_running; then
        local running_port
        running_port=$(sed -n 4p "$DATA/postmaster.pid")
        [ "$running_port" = "$port" ] \
            || die "cluster in $DATA already runs on port $running_port, not $port (stop it first)"
        log "reusing running cluster in $DATA (port $port)"
    else
        # Written on every start so PORT and PG_NOSYNC can change between runs.
        {
            echo "# written by scripts/pg.sh start"
            echo "port = $port"
            echo "listen_addresses = '127.0.0.1'"
            echo "unix_socket_directories = '$RUN'"
            echo "max_connections = 200"
            if [ "${PG_NOSYNC:-0}" = 1 ]; then
                echo "fsync = off"
                echo "synchronous_commit = off"
                echo "full_page_writes = off"
            fi
        } >"$DATA/chunked_upload.conf"
        is_root && chown postgres: "$DATA/chunked_upload.conf"
        is_root && touch "$LOGFILE" && chown postgres: "$LOGFILE"
        log "starting PostgreSQL on 127.0.0.1:$port (log: $LOGFILE)"
        if ! as_pg "$PG_BIN/pg_ctl" start -D "$DATA" -l "$LOGFILE" -w -t 60 >/dev/null; then
            tail -n 20 "$LOGFILE" >&2 || true
            die "PostgreSQL did not start (port $port in use?)"
        fi
    fi
    echo "DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
}

cmd_stop() {
    local dir=$1
    [ -d "$dir" ] || { log "$dir does not exist; nothing to stop"; return 0; }
    # Only need the binaries if there is something to stop.
    resolve_home "$dir"
    if [ ! -f "$DATA/PG_VERSION" ]; then
        log "no cluster in $DATA; nothing to stop"
        return 0
    fi
    ensure_binaries
    if is_running; then
        as_pg "$PG_BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null
        log "stopped cluster in $DATA"
    else
        log "cluster in $DATA is not running"
    fi
}

cmd_status() {
    resolve_home "$1"
    is_running
}

[ $# -ge 1 ] || usage
case $1 in
    start)  [ $# -eq 3 ] || usage; cmd_start "$2" "$3" ;;
    stop)   [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
    status) [ $# -eq 2 ] || usage; cmd_status "$2" ;;
    *) usage ;;
esac
