#!/usr/bin/env bash
# Hostile input.  An event time outside 2009-01-01 .. now + 1 day is
# refused, never stored or returned: a REST answer with one is an error
# (22008); a stream event with one is a parse error, recorded in
# ingest_events, and the events around it are taken as usual.  Bytes that
# are not UTF-8 (strictly: no overlong forms, surrogates or code points past
# U+10FFFF) refuse the answer or the frame; a venue's message is clipped on a
# character boundary; every text stored is valid UTF-8.  KuCoin's bullet
# endpoint must be in the configured ws_url's domain.  The bodies and frames
# are written here from the venues' documented formats.  TAP.
set -uo pipefail

STREAM_VENUE=kucoin
. "$(dirname "$0")/../lib/tap.sh"
MOCK=${PERPS_MOCK_URL:?PERPS_MOCK_URL is not set}

# ---- REST: Binance's recent trades (GET /fapi/v1/trades), time in ms ----
q "UPDATE perps_stats.exchanges SET rest_url = '$MOCK/binance' WHERE name = 'binance'" >/dev/null
trades_body() {  # trades_body TIME_MS: one trade at that time
    printf '[{"id":28457,"price":"97001.10","qty":"0.012","quoteQty":"1164.0132","time":%s,"isBuyerMaker":true}]' "$1"
}
fault_body() {
    curl -sf -X POST "$MOCK/_mock/faults" -H 'Content-Type: application/json' \
        -d "$(python3 -c 'import json,sys; print(json.dumps({"venue": "binance", "path": "^/fapi/v1/trades$", "kind": "status", "status": 200, "body": sys.argv[1], "count": 1}))' "$1")" >/dev/null
}
fetch() { psql -X -q -t -A -v VERBOSITY=sqlstate -c "SET TimeZone = 'UTC'" -c "SELECT ts || ' ' || price FROM perps_stats.fetch_trades('binance', 'BTC', 10)" 2>&1; }

fault_body "$(trades_body 7258118400000)"      # 2200-01-01
is "$(fetch)" "ERROR:  22008" "a trade stamped 2200-01-01 is refused: datetime_value_out_of_range, no row returned"
fault_body "$(trades_body 946684800000)"       # 2000-01-01
is "$(fetch)" "ERROR:  22008" "a trade stamped 2000-01-01 (before 2009) is refused too"
tomorrow=$(( ($(date +%s) + 86400 + 3600) * 1000 ))
fault_body "$(trades_body $tomorrow)"
is "$(fetch)" "ERROR:  22008" "a trade more than a day ahead of now is refused"
fault_body "$(trades_body 1794994889047)"      # 2026-11-18 09:41:29.047 UTC
is "$(fetch)" "2026-11-18 09:41:29.047+00 97001.10" "a trade of 2026 is taken, to the millisecond"

# ---- REST: bytes that are not UTF-8 refuse the answer (RFC 8259: JSON is UTF-8) ----
fault_hex() {  # fault_hex STATUS HEX
    curl -sf -X POST "$MOCK/_mock/faults" -H 'Content-Type: application/json' \
        -d "{\"venue\": \"binance\", \"path\": \"^/fapi/v1/trades\$\", \"kind\": \"status\", \"status\": $1, \"body_hex\": \"$2\", \"count\": 1}" >/dev/null
}
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
detail() { psql -X -q -t -A -v VERBOSITY=default -c "SELECT ts FROM perps_stats.fetch_trades('binance', 'BTC', 10)" 2>&1 | sed -n 's/^DETAIL:  //p'; }
# '[{"id":28457,"price":"' is 22 bytes: the price's first byte is byte 22
pre=$(hex '[{"id":28457,"price":"'); post=$(hex '97001.10","qty":"0.012","quoteQty":"1164.0132","time":1794994889047,"isBuyerMaker":true}]')
for case in "ff:0xff, a byte no character starts with" "c0af:0xc0, an overlong form of /" "eda080:0xed, the surrogate U+D800 encoded" \
            "f4908080:0xf4, a code point past U+10FFFF" "e282:0xe2, a character cut short"; do
    fault_hex 200 "$pre${case%%:*}$post"
    lead=${case#*:}
    is "$(detail)" "not UTF-8: byte 22 (${lead%%,*}) starts no valid character" "a trades answer with ${lead#*, } is refused, naming the byte"
done
fault_hex 200 "$pre$post"
is "$(psql -X -q -t -A -c "SET TimeZone = 'UTC'" -c "SELECT ts FROM perps_stats.fetch_trades('binance', 'BTC', 10)" 2>&1)" \
   "2026-11-18 09:41:29.047+00" "(the same answer in UTF-8 is taken)"
fault_hex 200 "${pre}ff$post"
is "$(psql -X -q -t -A -v VERBOSITY=sqlstate -c "SELECT ts FROM perps_stats.fetch_trades('binance', 'BTC', 10)" 2>&1)" \
   "ERROR:  22032" "with invalid_json_text"
# a venue's message is clipped to 200 bytes on a character boundary: x and 300 é (2 bytes each)
# give x and 99 é (199 bytes), not half an é
fault_hex 400 "$(hex '{"code":-1121,"msg":"x')$(printf 'c3a9%.0s' $(seq 300))$(hex '"}')"
is "$(detail)" "binance says: x$(printf 'é%.0s' $(seq 99)) (code -1121)." "a venue's long message is clipped on a character boundary"
# a lone surrogate escape (valid JSON) becomes U+FFFD
fault_hex 400 "$(hex '{"code":-1121,"msg":"bad \ud800 symbol"}')"
is "$(detail)" "binance says: bad � symbol (code -1121)." "a lone surrogate escape in a venue's text becomes U+FFFD"

# ---- stream: KuCoin's execution frames, ts in ns ----
KC=4
BTC="(SELECT id FROM perps_stats.markets WHERE exchange_id = $KC AND symbol = 'BTC')"
curl -sf -X POST -d "{\"ws_url\":\"$PERPS_MOCK_WS_URL\"}" "$MOCK/_mock/config" >/dev/null
qs "UPDATE perps_stats.exchanges SET rest_url = '$MOCK/kucoin', ws_url = '$PERPS_MOCK_WS_URL' WHERE name = 'kucoin';
   UPDATE perps_stats.watchlist SET stream = (exchange = 'kucoin' AND symbol = 'BTC');
   ALTER SYSTEM SET perps_stats.flush_interval = 100;
   ALTER SYSTEM SET perps_stats.stream_workers = on;
   SELECT pg_reload_conf();" >/dev/null
# subscribed: the WebSocket mock's kucoin session has the execution topic (nothing is sent before an action)
ok_until "curl -sf -X POST -H 'Content-Type: application/json' -d '{\"venue\":\"kucoin\",\"action\":\"state\"}' \"\$PERPS_MOCK_WS_CONTROL/action\" | jq -c '[.sessions[][] | select(. == \"/contractMarket/execution:XBTUSDTM\")] | length'" \
         "1" "the kucoin stream worker is subscribed" 60
match() {  # match TRADE_ID TS_NS
    printf '{"topic":"/contractMarket/execution:XBTUSDTM","type":"message","subject":"match","sn":%s,"data":{"symbol":"XBTUSDTM","sequence":%s,"side":"buy","size":5,"price":"97020.5","takerOrderId":"1","makerOrderId":"2","tradeId":"%s","ts":%s}}' "$1" "$1" "$1" "$2"
}
pe0=$(status parse_errors)
frames=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' \
    "$(match 990000001 1794994889047336512)" "$(match 990000002 7258118400000000000)" "$(match 990000003 1794994889048336512)")
curl -sf -X POST -H 'Content-Type: application/json' -d "{\"venue\":\"kucoin\",\"action\":\"send\",\"frames\":$frames}" \
    "$PERPS_MOCK_WS_CONTROL/action" >/dev/null
ok_wait "SELECT count(*) = 2 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id IN ('990000001', '990000003')" \
        "the trades before and after the hostile one are stored"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE trade_id = '990000002' OR ts > now() + interval '1 day'")" "0" \
   "the trade stamped 2200 is not"
is "$(status "parse_errors - $pe0")" "1" "it counts as one parse error"
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'error' AND source = 'stream' AND market_id = $BTC
           AND message LIKE 'XBTUSDTM sent an event time outside 2009-01-01 .. now + 1 day (7258118400000000 µs since 1970)%')" \
        "and is recorded in ingest_events, with the time it had"

# a frame that is not UTF-8 is a parse error, recorded; the frames after it are taken
pe0=$(status parse_errors)
bad=$(match 990000004 1794994889049336512)
badhex=$(hex "${bad%%\"side\":\"buy\"*}\"side\":\"b")ff$(hex "uy\"${bad#*\"side\":\"buy\"}")
curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"venue\":\"kucoin\",\"action\":\"send\",\"frames_hex\":[\"$badhex\",\"$(hex "$(match 990000005 1794994889050336512)")\"]}" \
    "$PERPS_MOCK_WS_CONTROL/action" >/dev/null
ok_wait "SELECT count(*) = 1 FROM perps_stats.trades WHERE market_id = $BTC AND trade_id = '990000005'" \
        "a stream frame with a byte that is not UTF-8: the next frame is stored"
is "$(q "SELECT count(*) FROM perps_stats.trades WHERE trade_id = '990000004'")" "0" "the frame itself is not"
is "$(status "parse_errors - $pe0")" "1" "it counts as one parse error"
badat=$(( $(printf '%s' "${bad%%\"side\":\"buy\"*}\"side\":\"b" | wc -c) ))
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'error' AND source = 'stream' AND exchange_id = $KC
           AND message LIKE 'a frame of $(( ${#badhex} / 2 )) bytes could not be read: not UTF-8: byte $badat (0xff) starts no valid character%')" \
        "and is recorded in ingest_events, naming the byte ($badat)"
# every text the venues' bytes reached is valid UTF-8
is "$(psql -X -q -t -A -c "SELECT coalesce(message, '') || coalesce(first_id, '') || coalesce(last_id, '') FROM perps_stats.ingest_events
                            UNION ALL SELECT coalesce(last_error, '') FROM perps_stats.stream_status" |
      python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8", "strict"); print("valid")' 2>&1)" "valid" \
   "every ingest_events and stream_status text is valid UTF-8"

# ---- KuCoin's bullet: an endpoint outside the configured venue's domain is refused ----
# (ws_url is the mock at 127.0.0.1; a bullet answer that names localhost is another host)
curl -sf -X POST -d "{\"ws_url\":\"ws://localhost:${PERPS_MOCK_WS_URL##*:}\"}" "$MOCK/_mock/config" >/dev/null
act '{"venue":"kucoin","action":"drop"}'
ok_wait "SELECT EXISTS (SELECT 1 FROM perps_stats.ingest_events WHERE kind = 'error' AND source = 'stream' AND exchange_id = $KC
           AND message = 'the connect request''s answer is refused: kucoin bullet endpoint host \"localhost\" is not in the domain of the configured ws_url (127.0.0.1)')" \
        "a bullet endpoint outside the configured ws_url's domain is refused, with an error row" 30
ok_until "curl -sf -X POST -H 'Content-Type: application/json' -d '{\"venue\":\"kucoin\",\"action\":\"state\"}' \"\$PERPS_MOCK_WS_CONTROL/action\" | jq -c '.sessions | length'" \
         "0" "and not connected to: the mock has no kucoin session" 20
curl -sf -X POST -d "{\"ws_url\":\"$PERPS_MOCK_WS_URL\"}" "$MOCK/_mock/config" >/dev/null
ok_until "curl -sf -X POST -H 'Content-Type: application/json' -d '{\"venue\":\"kucoin\",\"action\":\"state\"}' \"\$PERPS_MOCK_WS_CONTROL/action\" | jq -c '[.sessions[][] | select(. == \"/contractMarket/execution:XBTUSDTM\")] | length'" \
         "1" "an endpoint in the domain again: connected and subscribed" 60

qs "ALTER SYSTEM RESET perps_stats.flush_interval; ALTER SYSTEM SET perps_stats.stream_workers = off; SELECT pg_reload_conf();
    UPDATE perps_stats.watchlist SET stream = false WHERE exchange = 'kucoin';" >/dev/null
ok_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perps_stats stream'" "the worker stops"
tap_done
