# Sourced by test/services/*.sh: start one REST or WebSocket mock on a free
# loopback port, serving the payload tree $2 (test/payloads, or the recorded
# payloads of ../shared/fixtures), its files named after $1 in $PERPS_RUN.
# Each appends its pid to PIDS and sets MOCK_URL / MOCK_WS_* for the caller
# to export under the names its tests use.

# perps_rest_mock NAME PAYLOADS: sets MOCK_URL (http://127.0.0.1:PORT)
perps_rest_mock() {
    local name=$1 payloads=$2
    PERPS_PAYLOADS=$payloads python3 test/mock/mock_exchange.py --port-file "$PERPS_RUN/$name.port" \
        >/dev/null 2>"$PERPS_RUN/$name.log" &
    PIDS+=($!)
    for _ in $(seq 1 100); do [ -s "$PERPS_RUN/$name.port" ] && break; sleep 0.1; done
    if [ ! -s "$PERPS_RUN/$name.port" ]; then cat "$PERPS_RUN/$name.log"; return 1; fi
    MOCK_URL=http://127.0.0.1:$(cat "$PERPS_RUN/$name.port")
    curl -sf "$MOCK_URL/_mock/health" >/dev/null || { cat "$PERPS_RUN/$name.log"; return 1; }
    echo "$name at $MOCK_URL ($(head -1 "$PERPS_RUN/$name.log"))"
}

# perps_ws_mock NAME PAYLOADS: sets MOCK_WS_URL (ws://127.0.0.1:PORT),
# MOCK_WS_CONTROL (its control endpoints, see test/mock/ws_mock.py),
# MOCK_WSS_URL (the same on wss:// with a self-signed certificate that nobody
# trusts, so a client that verifies TLS must refuse it, unless told to:
# it is MOCK_WSS_CA).
perps_ws_mock() {
    local name=$1 payloads=$2
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$PERPS_RUN/$name.key" -out "$PERPS_RUN/$name.crt" >/dev/null 2>&1 || return 1
    PERPS_PAYLOADS=$payloads python3 test/mock/ws_mock.py --port-file "$PERPS_RUN/$name.port" \
        --tls-cert "$PERPS_RUN/$name.crt" --tls-key "$PERPS_RUN/$name.key" \
        --tls-port-file "$PERPS_RUN/$name.tls_port" 2>"$PERPS_RUN/$name.log" &
    PIDS+=($!)
    for _ in $(seq 1 100); do [ -s "$PERPS_RUN/$name.port" ] && break; sleep 0.1; done
    if [ ! -s "$PERPS_RUN/$name.port" ]; then cat "$PERPS_RUN/$name.log"; return 1; fi
    MOCK_WS_URL=ws://127.0.0.1:$(cat "$PERPS_RUN/$name.port")
    MOCK_WS_CONTROL=http://127.0.0.1:$(cat "$PERPS_RUN/$name.port")/_ws
    MOCK_WSS_URL=wss://127.0.0.1:$(cat "$PERPS_RUN/$name.tls_port")
    MOCK_WSS_CA=$PERPS_RUN/$name.crt
    curl -sf "$MOCK_WS_CONTROL/health" >/dev/null || { cat "$PERPS_RUN/$name.log"; return 1; }
    echo "$name at $MOCK_WS_URL ($(head -1 "$PERPS_RUN/$name.log"))"
}

# perps_recorded_payloads: the recorded payloads' folder (PERPS_FIXTURES, or
# shared/fixtures beside the checkout or one of its parents), or nothing.
perps_recorded_payloads() {
    if [ -n "${PERPS_FIXTURES:-}" ]; then
        [ -d "$PERPS_FIXTURES" ] && echo "$PERPS_FIXTURES"
        return 0
    fi
    local d
    d=$(pwd)
    while [ "$d" != / ]; do
        d=$(dirname "$d")
        [ -d "$d/shared/fixtures" ] && { echo "$d/shared/fixtures"; return 0; }
    done
    return 0
}
