#!/usr/bin/env bash
# Installs what building and testing perps_stats needs, from Debian's
# packages, when it is missing.  Idempotent and quiet when all is there.
set -euo pipefail

PGVER=15
need=()

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

for p in postgresql-$PGVER postgresql-server-dev-$PGVER postgresql-$PGVER-cron postgresql-$PGVER-pgtap \
         libtap-parser-sourcehandler-pgtap-perl libcurl4-openssl-dev libwebsockets-dev libjson-c-dev \
         pkg-config make gcc python3 curl jq openssl clang libclang-rt-14-dev \
         libxlsxwriter-dev python3-openpyxl chromium ${PERPS_EXTRA_PACKAGES:-}; do
    have_pkg "$p" || need+=("$p")
done

if [ ${#need[@]} -gt 0 ]; then
    echo "deps: installing ${need[*]}"
    SUDO=
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
