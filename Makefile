# iommuctl and libiommufd.  Plain GNU make: `make`, `make check`, `make install`.

VERSION      := 0.1.0
SOVERSION    := 0
PREFIX       ?= /usr/local
DESTDIR      ?=
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
DATADIR      ?= $(PREFIX)/share
BASHCOMPDIR  ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR   ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR  ?= $(DATADIR)/fish/vendor_completions.d
# libvirt looks for hooks here only, whatever the prefix.
LIBVIRT_HOOKDIR ?= /etc/libvirt/hooks/qemu.d

CC           ?= cc
PKG_CONFIG   ?= pkg-config
CFLAGS       ?= -O2 -g
PKGS         := libpci json-c readline libudev
DEP_CFLAGS   := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
DEP_LIBS     := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# libvirt-hook parses the domain XML with libxml2, which it dlopen()s when it
# runs (cmd/libvirt-hook.c says why): the headers are needed, not the link.
CMD_PKGS     := libxml-2.0
CMD_CFLAGS   := $(shell $(PKG_CONFIG) --cflags $(CMD_PKGS) 2>/dev/null)

WARNINGS     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
                -Wmissing-prototypes -Wvla -Wno-unused-parameter
BASE_CFLAGS  := -std=c11 -D_GNU_SOURCE $(WARNINGS) -Iinclude -fvisibility=hidden -fPIC \
                -DIOMMUCTL_VERSION_STRING='"$(VERSION)"' $(DEP_CFLAGS) $(CMD_CFLAGS)

# SANITIZE=1 builds the same tree with ASan+UBSan into build-san/, which the
# test tiers use so that memory errors fail the tests.
ifeq ($(SANITIZE),1)
BUILD        ?= build-san
SAN_FLAGS    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD        ?= build
SAN_FLAGS    :=
endif

ALL_CFLAGS   := $(BASE_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS  := $(SAN_FLAGS) $(LDFLAGS)

LIB_SRCS     := $(wildcard lib/*.c)
CMD_SRCS     := $(wildcard cmd/*.c)
LIB_OBJS     := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS     := $(CMD_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS    := $(wildcard tests/unit/test-*.c)
UNIT_BINS    := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HEADERS      := $(wildcard include/iommufd/*.h)

IOMMUCTL     ?= $(CURDIR)/build-san/iommuctl
export IOMMUCTL

.PHONY: all man clean deps check check-fresh check-fast check-abi check-unit check-cli check-valgrind check-package check-headers san lint bench \
        install uninstall
.DEFAULT_GOAL := all

MAN_SRCS     := $(wildcard man/*.scd)
MAN_PAGES    := $(MAN_SRCS:man/%.scd=$(BUILD)/man/%)

all: $(BUILD)/iommuctl $(BUILD)/libiommufd.so.$(VERSION) $(if $(shell command -v scdoc),$(MAN_PAGES))

man: $(MAN_PAGES)

# Man pages are built from scdoc sources, never committed as roff.
$(BUILD)/man/%: man/%.scd
	@mkdir -p $(@D)
	scdoc < $< > $@

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libiommufd.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/libiommufd.so.$(VERSION): $(LIB_OBJS) lib/libiommufd.sym
	$(CC) -shared -Wl,-soname,libiommufd.so.$(SOVERSION) -Wl,--version-script=lib/libiommufd.sym \
		-Wl,--no-undefined $(ALL_LDFLAGS) -o $@ $(LIB_OBJS) $(DEP_LIBS)
	ln -sf libiommufd.so.$(VERSION) $(BUILD)/libiommufd.so.$(SOVERSION)
	ln -sf libiommufd.so.$(SOVERSION) $(BUILD)/libiommufd.so

# The tool links the library statically: one self-contained binary to copy
# into a guest or a rescue shell.
$(BUILD)/iommuctl: $(CMD_OBJS) $(BUILD)/libiommufd.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJS) $(BUILD)/libiommufd.a $(DEP_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libiommufd.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libiommufd.a $(DEP_LIBS)

san:
	$(MAKE) SANITIZE=1 all $(UNIT_BINS:build/%=build-san/%)

# Every public header must compile on its own.
check-headers:
	@for h in $(HEADERS); do \
		printf '#include "%s"\n' "$${h#include/}" | \
		$(CC) -std=c11 -Wall -Wextra -Werror -Iinclude -x c -fsyntax-only - || exit 1; \
	done; echo "headers: $(words $(HEADERS)) compile alone"

# Install what the tests need (tests/deps.txt), as root; otherwise print the
# apt-get line and stop.  The first step of `make check`; .ci/run reads the same list.
deps:
	@tests/deps.sh

check-unit: san
	@tests/unit/run.sh build-san/tests

check-cli: san
	@tests/cli/run.sh

# The ABI four ways (headers, exports, version script, nm -D), one version
# string, and a program linked against the shared library.
check-abi: all
	@tests/abi/run.sh $(BUILD)

check-fast: check-headers check-abi lint check-unit check-cli

# Every read-only command on every fixture host under valgrind (about 2 minutes).
check-valgrind: all
	@tests/need.sh valgrind valgrind=valgrind
	@IOMMUCTL_PLAIN=$(CURDIR)/build/iommuctl tests/valgrind/run.sh

# The README's two commands, verbatim, in a freshly bootstrapped Debian 12
# (root; the bootstrapped root is cached in ~/.cache/iommuctl).  FRESH_QUICK=1:
# the first command, make deps and the unit and CLI tiers (what .ci/run runs).
check-fresh:
	@tests/fresh/check-fresh.sh $(if $(filter 1,$(FRESH_QUICK)),--quick)

# Build the Debian packages, lintian them, install, use and remove them (root).
check-package:
	@tests/package/run.sh

# Every tier, after installing what they need (deps first, whatever -j says).
check:
	@tests/deps.sh
	@$(MAKE) --no-print-directory check-fast check-valgrind check-vm

lint:
	@tests/need.sh lint cppcheck=cppcheck clang-tidy=clang-tidy
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
		--std=c11 --inline-suppr --suppress=missingIncludeSystem -Iinclude -Ilib \
		-DIOMMUCTL_VERSION_STRING='"$(VERSION)"' lib cmd tests/unit
	@# One file per process: clang-tidy 14 reports phantom va_list errors when
	@# it analyses several translation units in one run.
	@for f in $(LIB_SRCS) $(CMD_SRCS); do \
		clang-tidy --quiet $$f -- -std=c11 -D_GNU_SOURCE -DIOMMUCTL_VERSION_STRING='"$(VERSION)"' \
			-Iinclude -Ilib $(DEP_CFLAGS) $(CMD_CFLAGS) 2>/dev/null || exit 1; \
	done; echo "lint: cppcheck and clang-tidy clean"

bench: all
	bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/iommufd
	install -m 0755 $(BUILD)/iommuctl $(DESTDIR)$(BINDIR)/iommuctl
	install -m 0755 $(BUILD)/libiommufd.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libiommufd.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libiommufd.so.$(SOVERSION)
	ln -sf libiommufd.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libiommufd.so
	install -m 0644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/iommufd/
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig
	@# Written at install time: the paths are those of this install, not of the build.
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' lib/libiommufd.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libiommufd.pc
	install -d $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	$(MAKE) man
	install -m 0644 $(filter %.7,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0644 completions/iommuctl.bash $(DESTDIR)$(BASHCOMPDIR)/iommuctl
	install -m 0644 completions/_iommuctl $(DESTDIR)$(ZSHCOMPDIR)/_iommuctl
	install -m 0644 completions/iommuctl.fish $(DESTDIR)$(FISHCOMPDIR)/iommuctl.fish
	install -d $(DESTDIR)$(LIBVIRT_HOOKDIR)
	@# A hook the iommuctl package installed is its conffile: left to dpkg.
	@if [ -z "$(DESTDIR)" ] && dpkg-query -S $(LIBVIRT_HOOKDIR)/iommuctl >/dev/null 2>&1; then \
		echo "install: $(LIBVIRT_HOOKDIR)/iommuctl belongs to a package; left as it is"; \
	else \
		sed -e 's|@BINDIR@|$(BINDIR)|' cmd/libvirt-hook.sh.in > $(DESTDIR)$(LIBVIRT_HOOKDIR)/iommuctl && \
		chmod 0755 $(DESTDIR)$(LIBVIRT_HOOKDIR)/iommuctl; \
	fi
	@# Without the cache update a program linked with pkg-config cannot start.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then \
		ldconfig && echo "install: ran ldconfig for $(LIBDIR)"; \
	else \
		echo "install: ldconfig not run (DESTDIR set or not root); as root, run ldconfig" \
			"(or set LD_LIBRARY_PATH=$(LIBDIR))"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/iommuctl $(DESTDIR)$(LIBDIR)/libiommufd.so* \
		$(DESTDIR)$(LIBDIR)/pkgconfig/libiommufd.pc
	rm -rf $(DESTDIR)$(INCLUDEDIR)/iommufd
	rm -f $(DESTDIR)$(BASHCOMPDIR)/iommuctl $(DESTDIR)$(ZSHCOMPDIR)/_iommuctl $(DESTDIR)$(FISHCOMPDIR)/iommuctl.fish
	@# Never the package's conffile.
	@if [ -z "$(DESTDIR)" ] && dpkg-query -S $(LIBVIRT_HOOKDIR)/iommuctl >/dev/null 2>&1; then \
		echo "uninstall: $(LIBVIRT_HOOKDIR)/iommuctl belongs to a package; left as it is"; \
	else \
		rm -f $(DESTDIR)$(LIBVIRT_HOOKDIR)/iommuctl; \
	fi
	rm -f $(MAN_SRCS:man/%.scd=$(DESTDIR)$(MANDIR)/man7/%) $(MAN_SRCS:man/%.scd=$(DESTDIR)$(MANDIR)/man8/%)

clean:
	rm -rf build build-san

-include tests/vm/vm.mk
-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d)
