# dmfilemap: one supervisor keeping dm-stats file maps right.
#   make            build into build/
#   make check      install what the tests need, then run every test
#   make demo       boot a User-Mode Linux kernel and show the whole story
#   make bench      benchmarks in UML: bench/RESULTS.md (bench-smoke: quick)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
UNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR ?=
B       ?= build

CC      ?= cc
WERROR  ?= 0
CFLAGS  ?= -O2 -g
XCFLAGS  = -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral \
	   -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	   -Iinclude -Iprotocol -Idaemon -Iclient -Itests/unit -I$(B)
ifeq ($(WERROR),1)
XCFLAGS += -Werror
endif
SAN     ?=
ifneq ($(SAN),)
XCFLAGS += -fsanitize=$(SAN) -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDSAN    = -fsanitize=$(SAN)
endif

PROTO_SRC  = protocol/peer.c protocol/varlink.c
# daemon/ in layers, each calling only those below it (doc/architecture.md)
CORE_SRC    = daemon/core/auxdata.c daemon/core/plan.c daemon/core/regions.c \
	      daemon/core/counters.c daemon/core/ledger.c \
	      daemon/core/group.c daemon/core/marks.c daemon/log.c
KERNEL_SRC  = daemon/kernel/dmstats.c daemon/kernel/fiemap.c \
	      daemon/kernel/inotify.c daemon/kernel/mounts.c \
	      daemon/kernel/holders.c daemon/kernel/findfile.c \
	      daemon/kernel/killpoint.c
SERVICE_SRC = daemon/service/service.c daemon/service/device.c \
	      daemon/service/tally.c daemon/service/reconcile.c \
	      daemon/service/unmonitored.c daemon/service/recover.c \
	      daemon/service/monitor.c daemon/service/follow.c
# the monitor machinery, shared by the supervisor and the shim's fallback
MONITOR_SRC = $(CORE_SRC) $(KERNEL_SRC) $(SERVICE_SRC) daemon/front/detach.c
# the supervisor's front end: socket, methods, state file, fd store
SERVER_SRC = daemon/front/server.c daemon/front/control.c \
	     daemon/front/connection.c daemon/front/methods.c \
	     daemon/front/budget.c \
	     daemon/front/stats.c daemon/front/state.c daemon/kernel/fdstore.c \
	     daemon/front/metrics.c daemon/front/promtext.c \
	     daemon/front/atomicfile.c
DAEMON_SRC = $(SERVER_SRC) $(MONITOR_SRC) $(PROTO_SRC)
CLIENT_SRC = client/events.c protocol/client.c $(PROTO_SRC)
CTL_SRC    = client/dmfilemapctl.c client/stats.c client/rawjson.c $(CLIENT_SRC)
SHIM_SRC   = $(sort client/dmfilemapd.c daemon/front/solo.c $(CLIENT_SRC) $(MONITOR_SRC))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
PROGS = $(B)/dmfilemap-supervisord $(B)/dmfilemapctl $(B)/dmfilemapd
UNIT_TESTS = $(B)/test_auxdata $(B)/test_filemap $(B)/test_varlink $(B)/test_peer \
	     $(B)/test_group $(B)/test_monitor $(B)/test_counters $(B)/test_ledger \
	     $(B)/test_promtext $(B)/test_marks $(B)/test_faults $(B)/test_budget

all: $(PROGS)

# The install prefix is compiled in (the shim starts the supervisor from
# SBINDIR); the header is rewritten only when it changes.
$(B)/config.h: FORCE
	@mkdir -p $(B)
	@printf '#define DMF_SBINDIR "%s"\n' '$(SBINDIR)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# The interface description served by GetInterfaceDescription.
$(B)/idl.c: protocol/io.dmfilemap.Supervisor.varlink
	@mkdir -p $(B)
	{ echo '/* generated from $< */'; \
	  echo 'const char *const dmf_interface_description ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(B)/obj/%.o: %.c $(B)/config.h
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) -include $(B)/config.h -MMD -MP -c $< -o $@

$(B)/obj/idl.o: $(B)/idl.c
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) -c $< -o $@

$(B)/dmfilemap-supervisord: $(call obj,$(DAEMON_SRC)) $(B)/obj/idl.o
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -ldevmapper -lev -lcjson -lm

$(B)/dmfilemapctl: $(call obj,$(CTL_SRC))
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcjson -lm

$(B)/dmfilemapd: $(call obj,$(SHIM_SRC))
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -ldevmapper -lev -lcjson -lm

$(B)/test_auxdata: $(call obj,tests/unit/test_auxdata.c daemon/core/auxdata.c)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka
$(B)/test_filemap: $(call obj,tests/unit/test_filemap.c daemon/core/plan.c)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka
# the core and the monitor service through a fake dm-stats (tests/unit/fake_dm.c)
FAKE_SRC = tests/unit/fake_dm.c $(CORE_SRC)
$(B)/test_group: $(call obj,tests/unit/test_group.c $(FAKE_SRC))
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka -ldevmapper
$(B)/test_marks: $(call obj,tests/unit/test_marks.c $(FAKE_SRC))
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka -ldevmapper
# the service through the fake: its kernel I/O but dm-stats and FIEMAP
SVC_TEST_SRC = $(FAKE_SRC) $(SERVICE_SRC) daemon/kernel/inotify.c \
	       daemon/kernel/mounts.c daemon/kernel/holders.c \
	       daemon/kernel/findfile.c daemon/kernel/fiemap.c
# ... with the shared fixture (tests/unit/svc_fixture.c)
SVC_FIXTURE_SRC = tests/unit/svc_fixture.c $(SVC_TEST_SRC)
$(B)/test_monitor: $(call obj,tests/unit/test_monitor.c $(SVC_FIXTURE_SRC))
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka -ldevmapper -lev
$(B)/test_ledger: $(call obj,tests/unit/test_ledger.c $(SVC_FIXTURE_SRC))
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka -ldevmapper -lev
# issue 15's sweep: a fault at every kernel call of every kind of update
FAULTS_SRC = tests/unit/test_faults.c tests/unit/faults_check.c \
	     tests/unit/faults_updates.c
$(B)/test_faults: $(call obj,$(FAULTS_SRC) $(SVC_FIXTURE_SRC))
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka -ldevmapper -lev
$(B)/test_counters: $(call obj,tests/unit/test_counters.c daemon/core/counters.c)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka
$(B)/test_budget: $(call obj,tests/unit/test_budget.c daemon/front/budget.c)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka
$(B)/test_promtext: $(call obj,tests/unit/test_promtext.c daemon/front/promtext.c)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka -lm
$(B)/test_varlink: $(call obj,tests/unit/test_varlink.c protocol/varlink.c)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka -lcjson -lm
$(B)/test_peer: $(call obj,tests/unit/test_peer.c protocol/peer.c)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ -lcmocka

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# the supervisor's sources, for builds outside make (tests/fuzz/run.sh)
print-daemon-src:
	@echo $(DAEMON_SRC)

# ---- tests -------------------------------------------------------------
deps:
	@tests/deps.sh

unit: $(UNIT_TESTS)
	@tests/run-unit.sh $(UNIT_TESTS)

check: deps
	$(MAKE) WERROR=1 all $(UNIT_TESTS)
	$(MAKE) layers
	tests/run-unit.sh $(UNIT_TESTS)
	$(MAKE) B=build/san SAN=address,undefined WERROR=1 all \
		$(patsubst $(B)/%,build/san/%,$(UNIT_TESTS))
	tests/run-unit.sh $(patsubst $(B)/%,build/san/%,$(UNIT_TESTS))
	tests/host/run.sh --build build/san
	tests/host/run.sh --build build --valgrind
	tests/activation-check.sh build
	tests/host/metrics-check.sh build
	tests/host/metrics-check.sh build/san
	promtool check rules contrib/prometheus/dmfilemap.rules.yml
	promtool test rules contrib/prometheus/dmfilemap.rules.test.yml
	python3 tests/load/load.py build
	tests/install-check.sh
	tests/deb-check.sh
	tests/systemd-check.sh
	tests/fuzz/run.sh $(FUZZ_SECONDS)
	$(MAKE) lint
	$(MAKE) bench-smoke
	tests/kernel/uml-run --fs ext4 --fs xfs --build build
	@echo "make check: all passed"

# libFuzzer on the decoder and the kernel-text parsers (clang).
FUZZ_SECONDS ?= 60
fuzz: deps
	tests/fuzz/run.sh $(FUZZ_SECONDS)

# daemon/'s layers (doc/architecture.md): no forbidden include, no call cycle
layers: all
	@tests/layers/check-includes.sh
	@python3 tests/layers/modgraph.py $(B)

lint:
	@cd man && for p in *.[78]; do \
		out=$$(mandoc -Tlint -Wwarning $$p 2>&1); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; done
	@echo "man pages: mandoc -Tlint clean"

demo: all deps
	tests/kernel/demo.sh --build $(B)

# Benchmarks in a UML guest (bench/): they print figures, never fail on a
# timing. bench regenerates bench/RESULTS.md and bench/results.png (about
# 75 minutes, two guests at once); bench-smoke checks the harness at N=10
# (under 3 minutes).
bench: all deps
	bench/run --build $(B)

bench-smoke: all deps
	bench/run --smoke --build $(B)

# ---- install -----------------------------------------------------------
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(DATADIR)/bash-completion/completions
	install -m 755 $(PROGS) $(DESTDIR)$(SBINDIR)/
	install -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 644 contrib/systemd/dmfilemap-supervisord.socket \
		$(DESTDIR)$(UNITDIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|g' \
		contrib/systemd/dmfilemap-supervisord.service.in \
		> $(DESTDIR)$(UNITDIR)/dmfilemap-supervisord.service
	install -m 644 contrib/bash-completion/dmfilemapctl \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,dmfilemap-supervisord dmfilemapctl dmfilemapd)
	rm -f $(DESTDIR)$(MANDIR)/man8/dmfilemap-supervisord.8 \
		$(DESTDIR)$(MANDIR)/man8/dmfilemapctl.8 \
		$(DESTDIR)$(MANDIR)/man8/dmfilemapd.8 \
		$(DESTDIR)$(MANDIR)/man7/dmfilemap-protocol.7
	rm -f $(DESTDIR)$(UNITDIR)/dmfilemap-supervisord.socket \
		$(DESTDIR)$(UNITDIR)/dmfilemap-supervisord.service \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/dmfilemapctl

# ---- Debian package ----------------------------------------------------
# make deb: build/deb/dmfilemap_VERSION-REV_ARCH.deb (and .changes,
# .buildinfo) from the packaging in contrib/debian/, built by
# dpkg-buildpackage in a copy of the tree (build/deb/src, with
# contrib/debian as debian/), so the source tree stays as it is.
# Needs dpkg-dev, debhelper and the Build-Depends of contrib/debian/control.
DEBDIR = build/deb
deb:
	@v=$$(sed -n 's/^#define DMF_VERSION "\(.*\)"/\1/p' include/dmfilemap.h); \
	c=$$(dpkg-parsechangelog -l contrib/debian/changelog -S Version); \
	case $$c in "$$v"-*) ;; *) echo "make deb: contrib/debian/changelog is at $$c," \
		"DMF_VERSION is $$v: add a changelog entry" >&2; exit 1;; esac
	rm -rf $(DEBDIR)
	mkdir -p $(DEBDIR)/src
	tar --exclude=./build --exclude=./.git --exclude=__pycache__ -cf - . | \
		tar -C $(DEBDIR)/src -xf -
	cp -R contrib/debian $(DEBDIR)/src/debian
	cd $(DEBDIR)/src && dpkg-buildpackage -us -uc -b -J$$(nproc)
	@ls -1 $(DEBDIR)/*.deb

.PHONY: deb

clean:
	rm -rf build

.PHONY: print-daemon-src all deps unit check layers fuzz lint demo bench bench-smoke install uninstall clean FORCE
