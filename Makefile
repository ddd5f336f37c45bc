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
# Headers are named from lib/ ("warmer/state.h") or from the top
# ("backends/backend.h"), so an include says which folder it reaches into.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ilib -I. $(CJSON_CFLAGS)
LDLIBS   = $(CJSON_LIBS)

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# Programs are linked by folder (ARCHITECTURE.md): each program is its own
# objects plus the archives of the lib/ folders it runs, then lib/'s pure
# modules (lib.a).  An archive gives a program only the modules it reaches.
#   flame       cmd/*.c backends/*.c   lib/warmer lib/agent lib/map lib
#   flame-link  cmd/link/*.c           lib/link lib/fly lib/ssh lib
# lib/ssh links libssh2 and lib/fly libcurl: only flame-link loads them
# (each costs a process ~6-7 ms of start-up, bench/README.md).
LIB_DIRS   := lib lib/warmer lib/agent lib/map lib/link lib/fly lib/ssh
FLAME_SRC  := $(wildcard cmd/*.c backends/*.c)
FLAME_DIRS := lib/warmer lib/agent lib/map lib
LINK_SRC   := $(wildcard cmd/link/*.c)
LINK_DIRS  := lib/link lib/fly lib/ssh lib
# what unit tests and fuzzers may reach: every folder but the link's
UNIT_DIRS  := lib/warmer lib/agent lib/map lib/link lib/fly lib/ssh lib
LIB_SRC    := $(wildcard $(addsuffix /*.c,$(LIB_DIRS)))
SRC        := $(FLAME_SRC) $(LINK_SRC) $(LIB_SRC)
HDR        := $(wildcard lib/*.h lib/*/*.h backends/*.h cmd/*.h)

# $(call objs,VARIANT,SOURCES) and $(call archives,VARIANT,FOLDERS)
objs      = $(patsubst %.c,build/$1/%.o,$2)
archives  = $(patsubst %,build/$1/%.a,$2)

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CC   ?= clang

SSH_LIBS  = $(SSH2_LIBS) $(CRYPTO_LIBS) -lpthread
LINK_LIBS = $(SSH_LIBS) $(CURL_LIBS) $(CJSON_LIBS)
TOOLS    := build/tools/ssh-probe build/tools/fly-probe build/san/tools/fly-probe

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/unit/%)
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
DEPS_BENCH := parallel hyperfine time jq ffmpeg
# make image (examples/fly/image.mk)
DEPS_IMAGE := buildah debootstrap
DEPS := $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_DOCS) $(DEPS_LINT) $(DEPS_BENCH) $(DEPS_IMAGE)

.PHONY: all deps deps-build check san bench install uninstall clean

all: flame flame-link

build/obj/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFLAME_VERSION='"$(VERSION)"' -c -o $@ $<

build/san/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(ALL_CFLAGS) $(SAN_FLAGS) -O1 -DFLAME_VERSION='"$(VERSION)"' -c -o $@ $<

# the libcurl client's own include path
build/obj/lib/fly/%.o build/san/lib/fly/%.o: ALL_CFLAGS += $(CURL_CFLAGS)
build/obj/lib/ssh/%.o build/san/lib/ssh/%.o: ALL_CFLAGS += $(SSH2_CFLAGS)

# One archive per lib/ folder and build variant: build/obj/lib/warmer.a, ...
define folder_archive
build/$1/$2.a: $$(call objs,$1,$$(wildcard $2/*.c))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach v,obj san,$(foreach d,$(LIB_DIRS),$(eval $(call folder_archive,$v,$d))))

flame: $(call objs,obj,$(FLAME_SRC)) $(call archives,obj,$(FLAME_DIRS))
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

build/san/flame: $(call objs,san,$(FLAME_SRC)) $(call archives,san,$(FLAME_DIRS))
	$(SAN_CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

# The link to remote runners (ssh hosts and Fly Machines): a program of its
# own, so that only it loads libssh2 and libcurl.
flame-link: $(call objs,obj,$(LINK_SRC)) $(call archives,obj,$(LINK_DIRS))
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LINK_LIBS)

build/san/flame-link: $(call objs,san,$(LINK_SRC)) $(call archives,san,$(LINK_DIRS))
	$(SAN_CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LINK_LIBS)

build/unit/%: tests/unit/%.c $(call archives,obj,$(UNIT_DIRS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFLAME_VERSION='"$(VERSION)"' -o $@ $^ $(LDLIBS) $(SSH_LIBS) $(CURL_LIBS) -lcmocka

build/tools/ssh-probe: tests/tools/ssh_probe.c $(call archives,obj,lib/ssh lib)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SSH2_CFLAGS) -o $@ $^ $(SSH_LIBS)

# The Fly Machines API client (libcurl) and its test driver; the sanitizer
# pass of the tests drives the second (tests/t/t3010-fly-client.sh).
build/tools/fly-probe: tests/tools/fly_probe.c $(call archives,obj,lib/fly lib)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CURL_CFLAGS) -o $@ $^ $(CURL_LIBS) $(LDLIBS)
build/san/tools/fly-probe: tests/tools/fly_probe.c $(call archives,san,lib/fly lib)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(CURL_CFLAGS) -o $@ $^ $(CURL_LIBS) $(LDLIBS)

san: build/san/flame build/san/flame-link

# Idempotent: $(call apt_install,PACKAGES) installs those not installed yet.
apt_install = @if dpkg -s $(1) >/dev/null 2>&1; then echo "$@: all installed"; else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1); fi

# every Debian package that the build, tests, docs, lint, benchmarks and image need
deps:
	$(call apt_install,$(DEPS))

# only what building flame needs (the Fly image's build stage uses this)
deps-build:
	$(call apt_install,$(DEPS_BUILD))

# The previous release (0.1.0, protocol 1), built from git for the
# version-skew test (tests/t/t2080-version-skew.sh): its flame and its link.
PREV_RELEASE := 03917f154f115723b329afa37994786c304baa7f
PREV_DIR     := build/prev-release
$(PREV_DIR)/flame:
	@git cat-file -e $(PREV_RELEASE)^{commit} 2>/dev/null || { echo "make: the previous release \
	  ($(PREV_RELEASE), tag v0.1.0) is not in this clone's history: clone without --depth" >&2; exit 1; }
	rm -rf $(PREV_DIR) && mkdir -p $(PREV_DIR)/src
	git archive $(PREV_RELEASE) | tar -x -C $(PREV_DIR)/src
	$(MAKE) -C $(PREV_DIR)/src flame flame-ssh-link
	cp $(PREV_DIR)/src/flame-ssh-link $(PREV_DIR)/
	cp $(PREV_DIR)/src/flame $(PREV_DIR)/flame

check: flame flame-link build/san/flame build/san/flame-link $(UNIT_BIN) $(TOOLS) $(PREV_DIR)/flame
	@tests/run.sh --flame $(CURDIR)/flame --san-flame $(CURDIR)/build/san/flame $(UNIT_BIN)

bench: flame
	bench/run-all.sh

install: flame flame-link
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
	  $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 flame $(DESTDIR)$(BINDIR)/flame
	install -m 0755 flame-link $(DESTDIR)$(BINDIR)/flame-link
	install -m 0644 man/flame.1 $(DESTDIR)$(MANDIR)/man1/flame.1
	install -m 0644 completions/flame.bash $(DESTDIR)$(BASHCOMPDIR)/flame
	install -m 0644 completions/_flame $(DESTDIR)$(ZSHCOMPDIR)/_flame
	install -m 0644 completions/flame.fish $(DESTDIR)$(FISHCOMPDIR)/flame.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/flame $(DESTDIR)$(BINDIR)/flame-link $(DESTDIR)$(BINDIR)/flame-ssh-link $(DESTDIR)$(MANDIR)/man1/flame.1 \
	  $(DESTDIR)$(BASHCOMPDIR)/flame $(DESTDIR)$(ZSHCOMPDIR)/_flame $(DESTDIR)$(FISHCOMPDIR)/flame.fish

clean:
	rm -rf build flame flame-link

include tests/lint/lint.mk
include tests/fuzz/fuzz.mk
include examples/fly/image.mk
