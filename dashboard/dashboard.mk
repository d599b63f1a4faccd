# The dashboard's files (README.md, "Dashboard"), included by the Makefile:
# the page, its script and style, and uPlot, which dashboard/fetch.sh takes
# from npm at build time.  `make install` puts them all in
# <sharedir>/perps_stats/dashboard/, where src/dashboard.c reads them.

DASHBOARD_NPM  = build/dashboard/node_modules/uplot
DASHBOARD_DIR  = $(DESTDIR)$(datadir)/perps_stats/dashboard
DASHBOARD_OWN  = dashboard/index.html dashboard/dashboard.js dashboard/dashboard.css

.PHONY: install-dashboard uninstall-dashboard

all: $(DASHBOARD_NPM)/.installed

$(DASHBOARD_NPM)/.installed: dashboard/package.json dashboard/package-lock.json dashboard/fetch.sh
	bash dashboard/fetch.sh

install: install-dashboard
install-dashboard: $(DASHBOARD_NPM)/.installed
	$(MKDIR_P) '$(DASHBOARD_DIR)'
	$(INSTALL_DATA) $(DASHBOARD_OWN) $(DASHBOARD_NPM)/dist/uPlot.iife.min.js \
		$(DASHBOARD_NPM)/dist/uPlot.min.css '$(DASHBOARD_DIR)/'
	$(INSTALL_DATA) $(DASHBOARD_NPM)/LICENSE '$(DASHBOARD_DIR)/uPlot.LICENSE'

uninstall: uninstall-dashboard
uninstall-dashboard:
	rm -rf '$(DESTDIR)$(datadir)/perps_stats'
