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

# req METHOD PATH [curl options...]: asks PostgREST ($U), sets status, body
# and headers; get PATH ...: the same with GET; header NAME: a header of the
# last answer
req() {
    local method=$1 path=$2; shift 2
    local hdr; hdr=$(mktemp)
    body=$(curl -s -m 10 -X "$method" -D "$hdr" -o - -w '\n%{http_code}' "$@" "$U$path")
    status=${body##*$'\n'}
    body=${body%$'\n'*}
    headers=$(tr -d '\r' < "$hdr")
    rm -f "$hdr"
}
get() { req GET "$@"; }
header() { sed -n "s/^$1: //Ip" <<<"$headers" | head -1; }
# dec PYTHON-EXPR: the expression over the last body parsed with exact
# decimals (d is the document): decimals without trailing zeros, lists as
# [a,b], a top-level tuple's items separated by spaces
dec() {
    python3 -c '
import sys, json, decimal
d = json.loads(sys.stdin.read(), parse_float=decimal.Decimal)
def f(x):
    if isinstance(x, decimal.Decimal): return format(x.normalize(), "f")
    if isinstance(x, (list, tuple)): return "[" + ",".join(f(e) for e in x) + "]"
    return str(x)
v = eval(sys.argv[1])
print(" ".join(f(e) for e in v) if isinstance(v, tuple) else f(v))' "$1" <<<"$body"
}
