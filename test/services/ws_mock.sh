# Sourced by test/run.sh: starts the WebSocket mock on a free loopback port.
# Exports PERPS_MOCK_WS_URL (ws://127.0.0.1:PORT; a venue is reached at
# $PERPS_MOCK_WS_URL/<venue>/<its path>) and PERPS_MOCK_WS_CONTROL (its
# control endpoints, see test/mock/ws_mock.py).
# PERPS_MOCK_WSS_URL: the same on wss:// with a self-signed certificate that
# nobody trusts (a client that verifies TLS must refuse it) unless told to:
# it is $PERPS_MOCK_WSS_CA.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$PERPS_RUN/ws_mock.key" -out "$PERPS_RUN/ws_mock.crt" >/dev/null 2>&1 || return 1
python3 test/mock/ws_mock.py --port-file "$PERPS_RUN/ws_mock.port" \
    --tls-cert "$PERPS_RUN/ws_mock.crt" --tls-key "$PERPS_RUN/ws_mock.key" \
    --tls-port-file "$PERPS_RUN/ws_mock.tls_port" 2>"$PERPS_RUN/ws_mock.log" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$PERPS_RUN/ws_mock.port" ] && break; sleep 0.1; done
if [ ! -s "$PERPS_RUN/ws_mock.port" ]; then cat "$PERPS_RUN/ws_mock.log"; return 1; fi
PERPS_MOCK_WS_URL=ws://127.0.0.1:$(cat "$PERPS_RUN/ws_mock.port")
PERPS_MOCK_WS_CONTROL=http://127.0.0.1:$(cat "$PERPS_RUN/ws_mock.port")/_ws
PERPS_MOCK_WSS_URL=wss://127.0.0.1:$(cat "$PERPS_RUN/ws_mock.tls_port")
PERPS_MOCK_WSS_CA=$PERPS_RUN/ws_mock.crt
export PERPS_MOCK_WS_URL PERPS_MOCK_WS_CONTROL PERPS_MOCK_WSS_URL PERPS_MOCK_WSS_CA
curl -sf "$PERPS_MOCK_WS_CONTROL/health" >/dev/null || { cat "$PERPS_RUN/ws_mock.log"; return 1; }
echo "WebSocket mock at $PERPS_MOCK_WS_URL ($(head -1 "$PERPS_RUN/ws_mock.log"))"
