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
#   make test-versions  the same on PostgreSQL 17 and 18, pg_regress and pgTAP on Debian 12's own 15, in Debian chroots (root)
#   make bench      throwaway cluster, Loop-scale benchmark (BENCH_SCALING=1 for scaling points)
#
# demo, test and bench install the Debian packages they need first.

# storemon_coordinator: reports gathered from shard databases through PL/Proxy (SQL only).
EXTENSION = storemon storemon_coordinator
MODULE_big = storemon
# One folder a layer (src/README.md): each may use the ones before it.
CORE = src/core/schedule.c src/core/interpolation.c src/core/figures.c src/core/feed_format.c
SERVER = $(wildcard src/server/*.c)
WORKER = $(wildcard src/worker/*.c)
OBJS = $(CORE:.c=.o) $(SERVER:.c=.o) $(WORKER:.c=.o) src/storemon.o
# SQL, as pgvector packages it: sql/<extension>.sql is the whole current
# script, copied to <extension>--<default_version>.sql for a new install;
# every upgrade script in sql/upgrades/ and the released install scripts
# the upgrade tests start from (sql/history/) are installed as they are.
control_version = $(or $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(1).control),\
	$(error $(1).control: no default_version = '...' line))
EXTVERSION := $(call control_version,storemon)
COORDINATOR_VERSION := $(call control_version,storemon_coordinator)
DATA = $(wildcard sql/upgrades/*--*--*.sql) $(wildcard sql/history/*--*.sql)
DATA_built = sql/storemon--$(EXTVERSION).sql sql/storemon_coordinator--$(COORDINATOR_VERSION).sql
# The loader client (libpq) has a Makefile of its own, src/client/Makefile
# (PGXS's PROGRAM); ./storemon-load is a copy for the tests and the demo.
# On Debian it is also linked from /usr/bin (install-loader-link below).
EXTRA_CLEAN = storemon-load
PG_CPPFLAGS = -Isrc -I$(libpq_srcdir)
# libpq's own parser of connection strings (src/server/conninfo.c), as dblink links it
SHLIB_LINK_INTERNAL = $(libpq)
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare

# make installcheck: pg_regress, inputs in sql/, expected outputs in
# expected/, on a temporary instance of the installed server with storemon
# preloaded (test/regress.conf), as pg_cron runs its tests: no server needs to
# be running.  initdb refuses root: scripts/test runs it as the postgres user.
REGRESS = spec_example edges loader
REGRESS_OPTS = --temp-config=test/regress.conf --temp-instance=tmp_check/regress
REGRESS_PREP = regress-tmp-check

# Debian's pg_config is the newest postgresql-server-dev installed.  Before
# one is (a fresh machine: make deps installs it), there is no PGXS to include.
PG_CONFIG ?= pg_config
PGXS := $(wildcard $(shell $(PG_CONFIG) --pgxs 2>/dev/null))
include $(PGXS)

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

sql/storemon--$(EXTVERSION).sql: sql/storemon.sql storemon.control
	cp $< $@
sql/storemon_coordinator--$(COORDINATOR_VERSION).sql: sql/storemon_coordinator.sql storemon_coordinator.control
	cp $< $@

# PGXS tracks no header dependencies: a changed struct must rebuild every object.
$(OBJS): $(wildcard src/*.h src/*/*.h)

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

# The plain-C arithmetic on its own, with TAP output for prove.  It sees
# only src/core/: a server header included there does not compile.
CORE_TESTED = $(CORE) test/unit/sm_grow_libc.c
unit: test/unit/test_arith
test/unit/test_arith: test/unit/test_arith.c $(CORE_TESTED)
	$(CC) -std=c11 -O1 -g -Wall -Wextra -Werror -Isrc/core -o $@ $^

# The same under AddressSanitizer and UndefinedBehaviorSanitizer (clang).
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
unit-sanitized: test/unit/test_arith_sanitized
test/unit/test_arith_sanitized: test/unit/test_arith.c $(CORE_TESTED)
	clang -std=c11 -O1 -g $(SANITIZE) -Wall -Wextra -Werror -Isrc/core -o $@ $^

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
test/fuzz/fuzz_core: test/fuzz/fuzz_core.c $(CORE_TESTED)
	clang -std=c11 -O1 -g -fsanitize=fuzzer $(SANITIZE) -Wall -Wextra -Werror -Isrc/core -o $@ $^

# The server this tree builds for (scripts/test prints it).
pg-version:
	@$(PG_CONFIG) --version

format:
	clang-format -i src/*.[ch] src/*/*.[ch] test/unit/*.c test/fuzz/*.c
