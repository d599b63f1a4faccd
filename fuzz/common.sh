# Sourced by fuzz/run.sh and fuzz/run_stream.sh: the seed folders, and the
# sanitized objects both harnesses link, compiled once per run.
#
# Seeds: the project's own payloads (test/payloads, written from the venues'
# documentation) always; the payloads recorded from the real venues
# (PERPS_FIXTURES, or shared/fixtures beside the checkout) too when present.
SEED_TREES=("$ROOT/test/payloads")
rec=${PERPS_FIXTURES:-}
if [ -z "$rec" ]; then
    d=$ROOT
    while [ "$d" != / ]; do d=$(dirname "$d"); [ -d "$d/shared/fixtures" ] && { rec=$d/shared/fixtures; break; }; done
fi
[ -n "$rec" ] && [ -d "$rec" ] && SEED_TREES+=("$rec")
CC=${FUZZ_CC:-clang}
FUZZ_CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -Isrc $(pkg-config --cflags json-c)"
FUZZ_LDFLAGS="-fsanitize=fuzzer,address,undefined $(pkg-config --libs json-c)"
OUT=build/fuzz
mkdir -p "$OUT/obj"
# the venues: one adapter a file in src/venues/
FUZZ_ALL_VENUES=$(cd src/venues && ls *.c | sed 's/\.c$//')
# fuzz_objects FILE...: the objects of the shared sources (rebuilt when a source is newer)
fuzz_objects() {
    local f o objs=()
    for f in "$@"; do
        o=$OUT/obj/$(echo "$f" | tr / _).o
        [ "$o" -nt "$f" ] || $CC $FUZZ_CFLAGS -c "$f" -o "$o"
        objs+=("$o")
    done
    echo "${objs[@]}"
}
