# perps_stats: PGXS build.  EXTVERSION is the one version: it feeds the
# control file, the install script's name and the PERPS_STATS_VERSION macro.

EXTENSION  = perps_stats
EXTVERSION = 0.2.0

PG_CONFIG ?= pg_config

MODULE_big = perps_stats
# the engine in src/, one exchange adapter a file in src/venues/, the workers in worker/
OBJS       = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c) $(wildcard src/venues/*.c) $(wildcard worker/*.c)))

# The install script of the current version is generated from the ordered
# parts in sql/install/; released versions' scripts and upgrade scripts are
# files in sql/ that are never edited.
INSTALL_SQL = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA        = $(INSTALL_SQL) $(filter-out $(INSTALL_SQL),$(wildcard sql/$(EXTENSION)--*.sql))
EXTRA_CLEAN = $(INSTALL_SQL) src/*.gcda src/*.gcno src/venues/*.gcda src/venues/*.gcno \
              worker/*.gcda worker/*.gcno

# pg_regress: inputs in test/sql, outputs in expected/ (top level).
REGRESS      = $(sort $(notdir $(basename $(wildcard test/sql/*.sql))))
REGRESS_OPTS = --inputdir=test --outputdir=build/regress --load-extension=$(EXTENSION)

PKG_LIBS     = libcurl libwebsockets json-c xlsxwriter
PG_CPPFLAGS += -I$(srcdir)/src -I$(srcdir)/worker $(shell pkg-config --cflags $(PKG_LIBS)) \
               -DPERPS_STATS_VERSION=\"$(EXTVERSION)\"
SHLIB_LINK  += $(shell pkg-config --libs $(PKG_LIBS))

# Warnings are errors.  PostgreSQL's headers trip -Wunused-parameter and
# -Wmissing-field-initializers under -Wextra, so those two are left out.
PG_CFLAGS   += -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers

ifeq ($(SANITIZE),1)
PG_CFLAGS   += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1
SHLIB_LINK  += -fsanitize=address,undefined
endif

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

all: $(INSTALL_SQL) $(EXTENSION).control

# the dashboard page's files, uPlot from npm (README.md, "Dashboard")
include dashboard/dashboard.mk

$(INSTALL_SQL): $(sort $(wildcard sql/install/*.sql))
	cat $^ > $@

$(EXTENSION).control: Makefile
	sed -i "s/^default_version = .*/default_version = '$(EXTVERSION)'/" $@

# Makefile: EXTVERSION reaches the objects as a macro
$(OBJS): $(wildcard src/*.h src/venues/*.h worker/*.h) Makefile

.PHONY: test demo bench fuzz deps fuzz-stream fuzz-analytics

# libFuzzer harness of the stream frame parsers, one binary per streamed
# venue (plain C: no server needed); FUZZ_TIME seconds each (default 60).
fuzz-stream:
	bash fuzz/run_stream.sh

# Everything a fresh machine needs, a throwaway cluster, all the tests.
# SANITIZE=1: under ASAN and UBSan; VALGRIND=1: under valgrind (README).
test:
	bash test/run.sh

demo:
	bash scripts/demo.sh

bench:
	bash bench/run.sh

# libFuzzer + ASAN/UBSan on every adapter's parsers, FUZZ_SECONDS each (default 30)
fuzz:
	bash fuzz/run.sh

# libFuzzer + ASAN/UBSan on the order-book SQL functions, which need
# numeric.c: run inside a throwaway single-user backend (no port);
# FUZZ_SECONDS (default 60)
fuzz-analytics:
	bash fuzz/run_analytics.sh

deps:
	bash scripts/deps.sh

demo-stop:
	bash scripts/demo.sh --stop
