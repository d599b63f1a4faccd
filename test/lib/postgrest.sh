# Sourced by the integration tests that ask PostgREST (test/services/postgrest.sh)
# for something.  Its schema cache may predate the extension (the service
# starts first, pg_regress drops and creates the extension again).

# pgrst_reload PATH...: tells PostgREST to reload its schema cache, waits for
# the reload to be logged, then for every PATH to answer 200 (each wait at
# most 10 s, times SLOW under valgrind).
pgrst_reload() {
    local loads before i p ok
    loads() { grep -c 'Schema cache loaded' "$PERPS_POSTGREST_LOG"; }
    before=$(loads)
    psql -X -q -c "NOTIFY pgrst, 'reload schema'"
    for ((i = 0; i < 100 * ${SLOW:-1}; i++)); do [ "$(loads)" -gt "$before" ] && break; sleep 0.1; done
    for ((i = 0; i < 100 * ${SLOW:-1}; i++)); do
        ok=1
        for p in "$@"; do
            [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$PERPS_POSTGREST_URL$p")" = 200 ] || { ok=0; break; }
        done
        [ $ok = 1 ] && return 0
        sleep 0.1
    done
    return 1
}
