# Sourced by test/run.sh: the recorded tier.  When the payloads recorded from
# the real venues are present (PERPS_FIXTURES, or shared/fixtures beside the
# checkout), a second REST mock and WebSocket mock serve them, for the tests
# in test/recorded.  Exports PERPS_RECORDED (their folder),
# PERPS_RECORDED_MOCK_URL, PERPS_RECORDED_WS_URL and PERPS_RECORDED_WS_CONTROL;
# without the recordings PERPS_RECORDED is empty and test/run.sh says that
# the tier did not run.
. test/lib/mocks.sh
PERPS_RECORDED=$(perps_recorded_payloads)
export PERPS_RECORDED
if [ -n "$PERPS_RECORDED" ]; then
    perps_rest_mock recorded_mock "$PERPS_RECORDED" || return 1
    perps_ws_mock recorded_ws_mock "$PERPS_RECORDED" || return 1
    PERPS_RECORDED_MOCK_URL=$MOCK_URL PERPS_RECORDED_WS_URL=$MOCK_WS_URL
    PERPS_RECORDED_WS_CONTROL=$MOCK_WS_CONTROL
    export PERPS_RECORDED_MOCK_URL PERPS_RECORDED_WS_URL PERPS_RECORDED_WS_CONTROL
else
    echo "no recorded payloads (../shared/fixtures or PERPS_FIXTURES): the recorded tier will not run"
fi
