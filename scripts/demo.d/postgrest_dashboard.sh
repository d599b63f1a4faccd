# Demo hook, after postgrest.sh (name order): the dashboard page's address.
# PostgREST serves it (perps_api.dashboard, sql/install/47_dashboard.sql).
cat <<MSG

Dashboard (refreshes every 10 s; all its files come from this PostgREST):
  $H/rpc/dashboard
  $H/rpc/dashboard#symbol=ETH   (or pick the symbol on the page)
MSG
