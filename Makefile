# flame — build, test, install.  See README.md.
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CC       ?= cc
PKG_CONFIG ?= pkg-config
# The CLI links only what it uses: libcurl and libssh2 cost ~7 ms and ~6 MiB of
# start-up per process (bench/README.md), so they are found here but linked only
# by the backends that need them.
#
# Each flag is found when a recipe first uses it, not when make starts: in
# `make deps all` pkg-config and the -dev packages are installed by `deps`, after
# make has read this file. $(call lazy,VAR,COMMAND) defines VAR that way.
define lazy
$1 = $$(eval $1 := $$$$(shell $2))$$($1)
endef
$(eval $(call lazy,CJSON_CFLAGS,$(PKG_CONFIG) --cflags libcjson 2>/dev/null))
$(eval $(call lazy,CJSON_LIBS,$(PKG_CONFIG) --libs libcjson 2>/dev/null || echo -lcjson))
$(eval $(call lazy,SSH2_CFLAGS,$(PKG_CONFIG) --cflags libssh2 2>/dev/null))
$(eval $(call lazy,SSH2_LIBS,$(PKG_CONFIG) --libs libssh2 2>/dev/null))
$(eval $(call lazy,CURL_CFLAGS,$(PKG_CONFIG) --cflags libcurl 2>/dev/null))
$(eval $(call lazy,CURL_LIBS,$(PKG_CONFIG) --libs libcurl 2>/dev/null))
$(eval $(call lazy,CRYPTO_LIBS,$(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto))

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ilib -Ibackends $(CJSON_CFLAGS)
LDLIBS   = $(CJSON_LIBS)

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

CMD_SRC  := $(wildcard cmd/*.c)
# lib/ssh_*.c link libssh2 and lib/fly_http.c libcurl: kept out of the CLI
# (start-up cost, see header).
SSH_LIB_SRC := $(wildcard lib/ssh_*.c)
FLY_HTTP_SRC := lib/fly_http.c lib/fly_runner.c
LIB_SRC  := $(filter-out $(SSH_LIB_SRC) $(FLY_HTTP_SRC),$(wildcard lib/*.c))
BE_SRC   := $(wildcard backends/*.c)
SRC      := $(CMD_SRC) $(LIB_SRC) $(BE_SRC)
HDR      := $(wildcard lib/*.h backends/*.h cmd/*.h)

OBJ      := $(SRC:%.c=build/obj/%.o)
SAN_OBJ  := $(SRC:%.c=build/san/%.o)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CC   ?= clang

SSH_OBJ  := $(SSH_LIB_SRC:%.c=build/obj/%.o)
SSH_LIBS = $(SSH2_LIBS) $(CRYPTO_LIBS) -lpthread
TOOLS    := build/tools/ssh-probe build/tools/fly-probe build/san/tools/fly-probe
LINK_SRC := cmd/ssh_link/main.c

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/unit/%)
LIB_OBJ_FOR_UNIT := $(LIB_SRC:%.c=build/obj/%.o)

# Everything `make deps` installs, by what needs it. openssh-server is there for
# its sshd binary (the tests start private ones); on a machine with systemd its
# package also enables and starts the system's ssh service (README, Quick start).
DEPS_BUILD := make build-essential pkg-config libcjson-dev libssh2-1-dev libssl-dev libcurl4-openssl-dev
# clang's sanitizer and libFuzzer runtimes are only a Recommends of clang
DEPS_TEST  := clang libclang-rt-14-dev libcmocka-dev openssh-server openssh-client python3 curl procps \
              bash-completion coreutils
DEPS_DOCS  := mandoc man-db
# make lint
DEPS_LINT  := cppcheck clang-format shellcheck
DEPS_BENCH := parallel hyperfine time jq
# make image (examples/fly/image.mk)
DEPS_IMAGE := buildah debootstrap
DEPS := $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_DOCS) $(DEPS_LINT) $(DEPS_BENCH) $(DEPS_IMAGE)

.PHONY: all deps deps-build check san bench install uninstall clean

all: flame flame-ssh-link

flame: $(OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $(OBJ) $(LDLIBS)

build/obj/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFLAME_VERSION='"$(VERSION)"' -c -o $@ $<

build/san/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(ALL_CFLAGS) $(SAN_FLAGS) -O1 -DFLAME_VERSION='"$(VERSION)"' -c -o $@ $<

build/san/flame: $(SAN_OBJ)
	$(SAN_CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $(SAN_OBJ) $(LDLIBS)

# (the link's own code, which needs libcurl too, is left out)
UNIT_SSH_OBJ := $(filter-out build/obj/lib/ssh_link.o,$(SSH_OBJ))
build/unit/%: tests/unit/%.c $(LIB_OBJ_FOR_UNIT) $(UNIT_SSH_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJ_FOR_UNIT) $(UNIT_SSH_OBJ) $(LDLIBS) $(SSH_LIBS) -lcmocka

# The ssh backend's link: a program of its own, so that only it loads libssh2.
# It also creates the fly backend's machines (libcurl).
LINK_OBJ := build/obj/cmd/ssh_link/main.o $(SSH_OBJ) $(FLY_HTTP_SRC:%.c=build/obj/%.o) \
            $(addprefix build/obj/lib/,util.o wire.o login.o job.o files.o files_dest.o paths.o progress.o \
                                       fly_machine.o fly_pace.o duration.o)
LINK_LIBS = $(SSH_LIBS) $(CURL_LIBS) $(CJSON_LIBS)
flame-ssh-link: $(LINK_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $(LINK_OBJ) $(LINK_LIBS)

PROBE_OBJ := build/obj/lib/ssh_transport.o build/obj/lib/util.o build/obj/lib/login.o
SAN_LINK_OBJ := $(LINK_OBJ:build/obj/%=build/san/%)
build/san/flame-ssh-link: $(SAN_LINK_OBJ)
	$(SAN_CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $(SAN_LINK_OBJ) $(LINK_LIBS)

build/tools/ssh-probe: tests/tools/ssh_probe.c $(PROBE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SSH2_CFLAGS) -o $@ $< $(PROBE_OBJ) $(SSH_LIBS)

# The Fly Machines API client (libcurl) and its test driver.
FLY_PROBE_OBJ := $(addprefix build/obj/lib/,fly_http.o fly_machine.o fly_pace.o util.o)
build/obj/lib/fly_http.o build/san/lib/fly_http.o: ALL_CFLAGS += $(CURL_CFLAGS)
build/tools/fly-probe: tests/tools/fly_probe.c $(FLY_PROBE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CURL_CFLAGS) -o $@ $< $(FLY_PROBE_OBJ) $(CURL_LIBS) $(LDLIBS)
# the sanitizer pass of the tests drives this one (tests/t/t3010-fly-client.sh)
SAN_FLY_PROBE_OBJ := $(FLY_PROBE_OBJ:build/obj/%=build/san/%)
build/san/tools/fly-probe: tests/tools/fly_probe.c $(SAN_FLY_PROBE_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(CURL_CFLAGS) -o $@ $< $(SAN_FLY_PROBE_OBJ) $(CURL_LIBS) $(LDLIBS)

san: build/san/flame build/san/flame-ssh-link

# Idempotent: $(call apt_install,PACKAGES) installs those not installed yet.
apt_install = @if dpkg -s $(1) >/dev/null 2>&1; then echo "$@: all installed"; else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1); fi

# every Debian package that the build, tests, docs, lint, benchmarks and image need
deps:
	$(call apt_install,$(DEPS))

# only what building flame needs (the Fly image's build stage uses this)
deps-build:
	$(call apt_install,$(DEPS_BUILD))

check: flame flame-ssh-link build/san/flame build/san/flame-ssh-link $(UNIT_BIN) $(TOOLS)
	@tests/run.sh --flame $(CURDIR)/flame --san-flame $(CURDIR)/build/san/flame $(UNIT_BIN)

bench: flame
	bench/run-all.sh

install: flame flame-ssh-link
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
	  $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 flame $(DESTDIR)$(BINDIR)/flame
	install -m 0755 flame-ssh-link $(DESTDIR)$(BINDIR)/flame-ssh-link
	install -m 0644 man/flame.1 $(DESTDIR)$(MANDIR)/man1/flame.1
	install -m 0644 completions/flame.bash $(DESTDIR)$(BASHCOMPDIR)/flame
	install -m 0644 completions/_flame $(DESTDIR)$(ZSHCOMPDIR)/_flame
	install -m 0644 completions/flame.fish $(DESTDIR)$(FISHCOMPDIR)/flame.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/flame $(DESTDIR)$(BINDIR)/flame-ssh-link $(DESTDIR)$(MANDIR)/man1/flame.1 \
	  $(DESTDIR)$(BASHCOMPDIR)/flame $(DESTDIR)$(ZSHCOMPDIR)/_flame $(DESTDIR)$(FISHCOMPDIR)/flame.fish

clean:
	rm -rf build flame flame-ssh-link

include tests/lint/lint.mk
include tests/fuzz/fuzz.mk
include examples/fly/image.mk
