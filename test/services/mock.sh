# Sourced by test/run.sh and bench/run.sh: starts the mock exchange on a free
# loopback port, serving the project's own payloads (test/payloads; or the
# tree PERPS_PAYLOADS names).  Exports PERPS_MOCK_URL (http://127.0.0.1:PORT);
# a venue is reached at $PERPS_MOCK_URL/<venue>.  Tests point
# exchanges.rest_url there (in psql: \getenv mock_url PERPS_MOCK_URL).
. test/lib/mocks.sh
perps_rest_mock mock "${PERPS_PAYLOADS:-$PWD/test/payloads}" || return 1
PERPS_MOCK_URL=$MOCK_URL
export PERPS_MOCK_URL
