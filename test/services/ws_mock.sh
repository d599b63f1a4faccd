# Sourced by test/run.sh: starts the WebSocket mock on a free loopback port,
# serving the same payloads as test/services/mock.sh.  Exports
# PERPS_MOCK_WS_URL (ws://127.0.0.1:PORT; a venue is reached at
# $PERPS_MOCK_WS_URL/<venue>/<its path>), PERPS_MOCK_WS_CONTROL (its control
# endpoints, see test/mock/ws_mock.py), PERPS_MOCK_WSS_URL and
# PERPS_MOCK_WSS_CA (wss:// with a self-signed certificate, see test/lib/mocks.sh).
. test/lib/mocks.sh
perps_ws_mock ws_mock "${PERPS_PAYLOADS:-$PWD/test/payloads}" || return 1
PERPS_MOCK_WS_URL=$MOCK_WS_URL PERPS_MOCK_WS_CONTROL=$MOCK_WS_CONTROL
PERPS_MOCK_WSS_URL=$MOCK_WSS_URL PERPS_MOCK_WSS_CA=$MOCK_WSS_CA
export PERPS_MOCK_WS_URL PERPS_MOCK_WS_CONTROL PERPS_MOCK_WSS_URL PERPS_MOCK_WSS_CA
