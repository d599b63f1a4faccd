#!/usr/bin/env bash
# TAP: a venue's rate limit is one account for the whole cluster.  Four
# backends fetch from the same venue at once; the mock logs when each
# request arrived, and the most weight in any window (sliding, not only
# aligned ones) must stay within the limit, also when the network delivers
# each request after an uneven delay (the venue counts on arrival).  A backend waiting for weight
# shows a wait event and can be cancelled.
set -u
. test/lib/tap.sh
MOCK=${PERPS_MOCK_URL:?PERPS_MOCK_URL is not set}
mock() { curl -sf -X "$1" "$MOCK/_mock/$2" ${3:+-d "$3"} >/dev/null; }

# Binance at the mock, 10 weight per 2 s (an open-interest request weighs 1),
# and the mock's twenty benchmark markets
q "UPDATE perps_stats.exchanges SET rest_url = '$MOCK/binance', rate_limit_weight = 10, rate_limit_window_ms = 2000
    WHERE name = 'binance'" >/dev/null
mock POST config '{"bench_markets": true}'
q "SELECT perps_stats.refresh_markets('binance')" >/dev/null
mock DELETE log
# each request reaches the venue 0 to 500 ms after it was sent: requests sent
# a window apart can arrive closer than that
mock POST config '{"arrival_jitter_ms": 500}'

# four backends, ten requests each (one batch per backend: within a batch an
# identical request goes once, across backends each is sent)
syms=(BTC ETH SOL XRP DOGE ADA AVAX LINK DOT LTC)
batch() {  # batch OFFSET: ten open-interest jobs
    local ex="" sy="" me="" i
    for i in $(seq 0 9); do
        ex+="binance,"; sy+="${syms[$(( (i + $1) % 10 ))]},"; me+="open_interest,"
    done
    echo "SELECT count(*) FILTER (WHERE ok) FROM perps_stats._fetch_many('{${ex%,}}', '{${sy%,}}', '{${me%,}}')"
}
t0=$(date +%s.%N)
for b in 0 1 2 3; do psql -X -q -t -A -c "$(batch $b)" > "$PERPS_RUN/rl_$b.out" 2>&1 & done
wait
t1=$(date +%s.%N)
mock POST config '{"arrival_jitter_ms": 0}'
is "$(cat "$PERPS_RUN"/rl_[0-3].out | paste -sd' ')" "10 10 10 10" "four backends at once: every request answered"

# the weight of every 2 s window, from the times the venue saw the requests
worst=$(curl -sf "$MOCK/_mock/log?venue=binance" | python3 -c '
import json, sys
t = sorted(r["t"] for r in json.load(sys.stdin) if r["path"] == "/fapi/v1/openInterest")
w = max(sum(1 for u in t if s <= u < s + 2.0) for s in t)
print(len(t), "within" if 6 <= w <= 10 else "beyond", w)')
# the window holds 10: at most 10 arrived in any 2 s, sliding (and the limit is used: 6 or more in the busiest)
is "$(echo "$worst" | cut -d' ' -f1,2)" "40 within" "40 requests, with uneven delays on the way: never more than 10 (the limit) arrived in any 2 s window, and 6 or more in the busiest (${worst##* })"
# 40 weight at 10 per 2 s: the first 10 at once, then 10 per window: at least 6 s
elapsed=$(python3 -c "print($t1 - $t0 >= 5.9)")
is "$elapsed" "True" "so the four backends together took at least three more windows (6 s)"

is "$(q "SELECT weight_limit || ' ' || window_ms || ' ' || (requests >= 40) || ' ' || (refused > 0) || ' ' || shared
          FROM perps_stats.rate_limits WHERE exchange = 'binance'")" "10 2000 true true true" \
   "perps_stats.rate_limits: one shared account, 40 let through, refusals counted"

# a backend waiting for weight: visible, and cancellable
q "UPDATE perps_stats.exchanges SET rate_limit_weight = 1, rate_limit_window_ms = 600000 WHERE name = 'binance'" >/dev/null
psql -X -q -t -A -v VERBOSITY=sqlstate -c "SET application_name = 'perps_rl_waiter'; $(batch 0)" > "$PERPS_RUN/rl_wait.out" 2>&1 &
waiter=$!
ok_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'perps_rl_waiter'
           AND wait_event_type = 'Extension' AND state = 'active'" \
        "the waiting backend shows wait_event_type Extension in pg_stat_activity" 20
ok_wait "SELECT last_refused_pid = (SELECT pid FROM pg_stat_activity WHERE application_name = 'perps_rl_waiter')
           FROM perps_stats.rate_limits WHERE exchange = 'binance'" \
        "and perps_stats.rate_limits names it as the last backend refused" 10
t0=$(date +%s.%N)
q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'perps_rl_waiter'" >/dev/null
wait $waiter
t1=$(date +%s.%N)
is "$(grep -o '57014' "$PERPS_RUN/rl_wait.out" | head -1)" "57014" "pg_cancel_backend ends the wait with query_canceled"
is "$(python3 -c "print($t1 - $t0 < 1.5)")" "True" "within 1.5 s"

q "UPDATE perps_stats.exchanges SET rate_limit_weight = NULL, rate_limit_window_ms = NULL WHERE name = 'binance'" >/dev/null
mock POST config '{"bench_markets": false}'
tap_done
