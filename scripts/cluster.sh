# perps_stats: shell functions for a throwaway PostgreSQL cluster with the
# extension preloaded.  Sourced by test/run.sh, bench/run.sh, scripts/demo.sh.
#
# The extension is installed into a private copy of the PostgreSQL
# installation (PostgreSQL is relocatable), so a test run never touches the
# system's extension directory and several checkouts can test side by side.

PGVER=${PGVER:-15}
PERPS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# perps_system_python: Debian's python3 first on PATH, where there is one.
# The packages scripts/deps.sh installs (python3-openpyxl, ...) are its, and a
# version manager's shim found first instead (pyenv's takes about a second to
# start, Debian's 20 ms) would make each of the hundreds of python3 the tests
# start cost that second: 70_backfill.sh alone starts 376.
perps_system_python() {
    [ -x /usr/bin/python3 ] || return 0
    [ "$(command -v python3)" = /usr/bin/python3 ] && return 0
    mkdir -p "$PERPS_ROOT/build/bin"
    ln -sfn /usr/bin/python3 "$PERPS_ROOT/build/bin/python3"
    case ":$PATH:" in *":$PERPS_ROOT/build/bin:"*) ;; *) PATH=$PERPS_ROOT/build/bin:$PATH; export PATH ;; esac
}

# A free TCP port on 127.0.0.1.
perps_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the cluster's OS user (postgres when we are root:
# PostgreSQL refuses to run as root).
perps_as_pguser() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# perps_build [SANITIZE=0|1]: builds the extension; a change of flags
# since the last build rebuilds everything.
perps_build() {
    local flags=${1:-SANITIZE=0}
    mkdir -p "$PERPS_ROOT/build"
    if [ "$(cat "$PERPS_ROOT/build/.flags" 2>/dev/null)" != "$flags" ]; then
        make -C "$PERPS_ROOT" -s clean >/dev/null
        echo "$flags" > "$PERPS_ROOT/build/.flags"
    fi
    make -C "$PERPS_ROOT" -s -j"$(nproc)" $flags
}

# perps_stage RUNDIR: copies PostgreSQL into RUNDIR/stage and installs the
# extension there.  Sets PG_BIN, PG_STAGE.
perps_stage() {
    local run=$1 make_flags=${2:-}
    PG_STAGE=$run/stage
    local libdir sharedir
    libdir=$(pg_config --pkglibdir)        # /usr/lib/postgresql/15/lib
    sharedir=$(pg_config --sharedir)       # /usr/share/postgresql/15
    mkdir -p "$PG_STAGE$(dirname "$libdir")" "$PG_STAGE$(dirname "$sharedir")"
    cp -a "$(dirname "$libdir")/." "$PG_STAGE$(dirname "$libdir")/"
    cp -a "$sharedir" "$PG_STAGE$(dirname "$sharedir")/"
    make -C "$PERPS_ROOT" -s install DESTDIR="$PG_STAGE" $make_flags >/dev/null
    PG_BIN=$PG_STAGE$(pg_config --bindir)
    export PG_BIN PG_STAGE
}

# perps_asan_preload RUNDIR: sets PERPS_PRELOAD for a SANITIZE=1 build: gcc's
# ASAN runtime, then scripts/sanitize_preload.c (built into RUNDIR), without
# which postgres hangs before main under the preloaded runtime and UBSan loses
# its options in the backends (see that file).
perps_asan_preload() {
    local run=$1
    gcc -shared -fPIC -O2 -Wall -Werror -o "$run/sanitize_preload.so" "$PERPS_ROOT/scripts/sanitize_preload.c" || return 1
    PERPS_PRELOAD="$(gcc -print-file-name=libasan.so):$run/sanitize_preload.so"
    export PERPS_PRELOAD
}

# The valgrind command line under which PERPS_VALGRIND=1 runs the postmaster
# and, through fork, every backend and worker.  One log per process in
# RUNDIR/valgrind; errors are between VALGRINDERROR-BEGIN/END markers, with
# full source paths so that a frame of ours can be told apart.
PERPS_VALGRIND_EXIT=${PERPS_VALGRIND_EXIT:-99}
perps_valgrind_cmd() {
    local run=$1
    echo valgrind --quiet --tool=memcheck --trace-children=yes --error-exitcode="$PERPS_VALGRIND_EXIT" \
        --leak-check=no --track-origins=yes --num-callers=30 --fullpath-after= --gen-suppressions=all \
        --error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END \
        --suppressions="$PERPS_ROOT/test/valgrind.supp" --log-file="$run/valgrind/%p.log"
}

# Seconds pg_ctl waits for the server to start or stop; valgrind makes
# everything 20-50 times slower.
perps_pg_timeout() {
    if [ "${PERPS_VALGRIND:-0}" = 1 ]; then echo 600; else echo 60; fi
}

# perps_cluster_start RUNDIR [extra postgresql.conf lines...]
# Sets PGHOST PGPORT PGUSER PGDATABASE for the clients.  With PERPS_PRELOAD
# the server runs with that LD_PRELOAD (and ASAN_OPTIONS, UBSAN_OPTIONS);
# with PERPS_VALGRIND=1 under valgrind (perps_valgrind_cmd).
perps_cluster_start() {
    local run=$1; shift
    local data=$run/data sock=$run/sock
    mkdir -p "$data" "$sock"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$run"; chmod 755 "$run"; fi
    perps_as_pguser "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$run/initdb.log" 2>&1 \
        || { cat "$run/initdb.log"; return 1; }
    PGPORT=${PGPORT_OVERRIDE:-$(perps_free_port)}
    {
        echo "port = $PGPORT"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$sock'"
        echo "shared_preload_libraries = 'perps_stats,pg_cron'"
        echo "max_worker_processes = 32"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "log_line_prefix = '%m [%p] %q%a '"
        echo "timezone = 'UTC'"
        for line in "$@"; do echo "$line"; done
    } >> "$data/postgresql.conf"
    local env=() ctl=()
    if [ -n "${PERPS_PRELOAD:-}" ]; then env=(env "LD_PRELOAD=$PERPS_PRELOAD" "ASAN_OPTIONS=${ASAN_OPTIONS:-}" "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}"); fi
    if [ "${PERPS_VALGRIND:-0}" = 1 ]; then
        # A process with a valgrind error exits with PERPS_VALGRIND_EXIT, a
        # crash for the postmaster: stop there rather than run crash
        # recovery under valgrind, which takes many minutes.
        echo "restart_after_crash = off" >> "$data/postgresql.conf"
        # pg_ctl starts "exec <postgres> ..." through /bin/sh; -p points it
        # at a script that execs valgrind on the real binary instead.
        mkdir -p "$run/valgrind"
        printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$(perps_valgrind_cmd "$run")" "$PG_BIN/postgres" > "$run/postgres-valgrind"
        chmod 755 "$run/postgres-valgrind"
        if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$run/valgrind"; fi
        ctl=(-p "$run/postgres-valgrind")
    fi
    perps_as_pguser "${env[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$run/postgres.log" "${ctl[@]}" -w -t "$(perps_pg_timeout)" start >/dev/null \
        || { tail -50 "$run/postgres.log"; return 1; }
    PGHOST=$sock PGUSER=postgres PGDATABASE=${PGDATABASE:-postgres}
    export PGHOST PGPORT PGUSER PGDATABASE
    PERPS_RUN=$run
    export PERPS_RUN
}

perps_cluster_stop() {
    local run=$1
    if [ -f "$run/data/postmaster.pid" ]; then
        perps_as_pguser "$PG_BIN/pg_ctl" -D "$run/data" -m fast -w -t "$(perps_pg_timeout)" stop >/dev/null 2>&1 \
            || perps_as_pguser "$PG_BIN/pg_ctl" -D "$run/data" -m immediate stop >/dev/null 2>&1 || true
    fi
}
