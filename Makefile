# storemon — PGXS build plus the project's own commands.
#
#   make            build the extension (needs postgresql-server-dev-15, or -17, -18)
#   make install    install it into the server's directories
#   make demo       throwaway cluster, sample data, a report by the worker, CSV
#   make test       C unit tests (plain, sanitized), libFuzzer, pg_regress, pgTAP, then
#                   the TAP tests t/*.pl (faults, hostile roles, ...), on throwaway servers
#   make installcheck       pg_regress: sql/ against expected/, on a temporary instance
#   make pgtap              pgTAP: test/pgtap/ through pg_prove, on a throwaway cluster
#   make prove_installcheck TAP tests t/*.pl (PostgreSQL::Test::Cluster)
#                   (after make install; initdb refuses root: as root, scripts/as-postgres make ...)
#   make test-versions  the same on PostgreSQL 17, 18 and Debian 12's own 15, in Debian chroots (root)
#   make bench      throwaway cluster, Loop-scale benchmark (BENCH_SCALING=1 for scaling points)
#
# demo, test and bench install the Debian packages they need first.

# storemon_coordinator: reports gathered from shard databases through PL/Proxy (SQL only).
EXTENSION = storemon storemon_coordinator
MODULE_big = storemon
OBJS = \
	src/schedule.o src/interpolation.o src/report.o src/feed_format.o \
	src/catalog.o src/zone.o src/compute.o src/row_security.o src/page_visibility.o src/sql_call.o src/functions.o \
	src/window_functions.o src/store_svg.o \
	src/parallel.o src/queue.o src/queue_triggers.o src/requester.o src/registry.o \
	src/fixed_settings.o src/launcher.o src/worker.o src/dbguard.o src/storemon.o
DATA = sql/storemon--1.0.sql sql/storemon--1.0--1.1.sql sql/storemon--1.1--1.2.sql sql/storemon--1.2--1.3.sql \
	sql/storemon_coordinator--1.0.sql sql/storemon_coordinator--1.0--1.1.sql
# The loader client (libpq) has a Makefile of its own, src/client/Makefile
# (PGXS's PROGRAM); ./storemon-load is a copy for the tests and the demo.
# On Debian it is also linked from /usr/bin (install-loader-link below).
EXTRA_CLEAN = storemon-load
PG_CPPFLAGS = -Isrc
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare

# make installcheck: pg_regress, inputs in sql/, expected outputs in
# expected/, on a temporary instance of the installed server with storemon
# preloaded (test/regress.conf), as pg_cron runs its tests: no server needs to
# be running.  initdb refuses root: scripts/test runs it as the postgres user.
REGRESS = spec_example edges loader
REGRESS_OPTS = --temp-config=test/regress.conf --temp-instance=tmp_check/regress
REGRESS_PREP = regress-tmp-check

# Debian's 15 first (Debian 12), else the one server-dev package there is (13: 17).
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config /usr/lib/postgresql/*/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
endif

# Debian puts no server bindir on PATH: its psql, pg_dump ... are links in
# /usr/bin to postgresql-common's pg_wrapper, which runs the program of that
# name from /usr/lib/postgresql/<version>/bin.  Installed there, storemon-load
# gets the same link (unless something else holds the name).
PG_WRAPPER_LINK = ../share/postgresql-common/pg_wrapper
install: install-loader-link
install-loader-link:
	@if [ -z "$(DESTDIR)" ] && [ -x /usr/share/postgresql-common/pg_wrapper ] && \
	    expr "$(bindir)" : '/usr/lib/postgresql/[0-9]*/bin$$' >/dev/null && \
	    { [ ! -e /usr/bin/storemon-load ] || [ "$$(readlink /usr/bin/storemon-load)" = $(PG_WRAPPER_LINK) ]; }; then \
		ln -sfn $(PG_WRAPPER_LINK) /usr/bin/storemon-load; \
	fi

# PGXS tracks no header dependencies: a changed struct must rebuild every object.
$(OBJS): $(wildcard src/*.h)

.PHONY: deps demo test test-versions install-loader-link pg-version bench unit unit-sanitized fuzz format prove_installcheck regress-tmp-check pgtap

# sql/loader.sql runs the installed loader on test/loader/'s files, from
# wherever pg_regress runs.
installcheck: export STOREMON_LOAD = $(bindir)/storemon-load
installcheck: export STOREMON_FIXTURES = $(CURDIR)/test/loader
# pg_regress makes the instance's directory, not its parent.
regress-tmp-check:
	mkdir -p tmp_check

# TAP tests (t/*.pl), each on clusters of its own, as PostgreSQL's modules
# run them (PostgreSQL::Test::Cluster).  Needs storemon installed first.
prove_installcheck:
	$(prove_installcheck)

# pgTAP files (test/pgtap/) through pg_prove on one throwaway cluster.
pgtap:
	scripts/pgtap

all: storemon-load
install: install-client
clean: clean-client
.PHONY: client install-client clean-client
client:
	$(MAKE) -C src/client PG_CONFIG=$(PG_CONFIG)
storemon-load: client
	cmp -s src/client/storemon-load $@ || cp src/client/storemon-load $@
install-client:
	$(MAKE) -C src/client PG_CONFIG=$(PG_CONFIG) install
clean-client:
	$(MAKE) -C src/client PG_CONFIG=$(PG_CONFIG) clean



deps:
	scripts/install-deps

demo: deps
	scripts/demo

test: deps
	scripts/test

test-versions: deps
	scripts/test-versions

bench: deps
	bench/run

# The plain-C arithmetic on its own, with TAP output for prove.
CORE = src/schedule.c src/interpolation.c src/report.c src/feed_format.c test/unit/sm_grow_libc.c
unit: test/unit/test_arith
test/unit/test_arith: test/unit/test_arith.c $(CORE)
	$(CC) -std=c11 -O1 -g -Wall -Wextra -Werror -Isrc -o $@ $^

# The same under AddressSanitizer and UndefinedBehaviorSanitizer (clang).
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
unit-sanitized: test/unit/test_arith_sanitized
test/unit/test_arith_sanitized: test/unit/test_arith.c $(CORE)
	clang -std=c11 -O1 -g $(SANITIZE) -Wall -Wextra -Werror -Isrc -o $@ $^

# The loader's CSV reader and field splitter alone (plain C, no libpq), plain and sanitized.
CSV_READER = src/client/csv_reader.c src/client/csv_reader.h
unit: test/unit/test_csv_reader
test/unit/test_csv_reader: test/unit/test_csv_reader.c $(CSV_READER)
	$(CC) -std=c11 -O1 -g -Wall -Wextra -Werror -Isrc/client -o $@ $(filter %.c,$^)
unit-sanitized: test/unit/test_csv_reader_sanitized
test/unit/test_csv_reader_sanitized: test/unit/test_csv_reader.c $(CSV_READER)
	clang -std=c11 -O1 -g $(SANITIZE) -Wall -Wextra -Werror -Isrc/client -o $@ $(filter %.c,$^)

# A libFuzzer target over the core, sanitized; test/fuzz/run runs it.
fuzz: test/fuzz/fuzz_core
test/fuzz/fuzz_core: test/fuzz/fuzz_core.c $(CORE)
	clang -std=c11 -O1 -g -fsanitize=fuzzer $(SANITIZE) -Wall -Wextra -Werror -Isrc -o $@ $^

# The server this tree builds for (scripts/test prints it).
pg-version:
	@$(PG_CONFIG) --version

format:
	clang-format -i src/*.c src/*.h src/client/*.c src/client/*.h test/unit/*.c test/fuzz/*.c
