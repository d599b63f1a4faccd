# Service: PostgREST on a free port in front of the test database, serving
# perps_api as perps_anon.  Sourced by test/run.sh (and bench/run.sh) with the
# cluster started; the extension may not exist yet: the tests tell PostgREST
# to reload its schema cache (NOTIFY pgrst, 'reload schema') before asking.
. "$PERPS_ROOT/scripts/postgrest.sh"
PERPS_POSTGREST_PORT=$(perps_free_port)
perps_postgrest_start "$PERPS_RUN/postgrest" "$PERPS_POSTGREST_PORT" "${PERPS_POSTGREST_POOL:-4}" || return 1
PIDS+=("$PERPS_POSTGREST_PID")
PERPS_POSTGREST_URL=http://127.0.0.1:$PERPS_POSTGREST_PORT
PERPS_POSTGREST_LOG=$PERPS_RUN/postgrest/postgrest.log
export PERPS_POSTGREST_URL PERPS_POSTGREST_LOG PERPS_POSTGREST_PID
echo "postgrest $("$PERPS_POSTGREST_BIN" --version) at $PERPS_POSTGREST_URL"
