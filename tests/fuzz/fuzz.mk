# tests/fuzz/fuzz.mk — libFuzzer harnesses for every parser of outside input
# (tests/fuzz/README.md).  Included from the Makefile.
#
#   make fuzz                 each fuzzer for FUZZ_SECONDS (60) on a copy of its corpus
#   make fuzz-ci              each for 30 s
#   make build/fuzz/fuzz_wire just build one
#
# clang's libFuzzer runtime is Debian's libclang-rt-14-dev.

FUZZ_SECONDS ?= 60
FUZZ_NAMES := config config_fly duration state wire hello job fly_machine agent_conf template joblog
FUZZ_BIN   := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
# the library is built for coverage (fuzzer-no-link); the harness links the runtime
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB_FLAGS := -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_FLAGS     := -fsanitize=fuzzer $(FUZZ_SAN)
FUZZ_OBJ   := $(patsubst %.c,build/fuzz/obj/%.o,$(wildcard lib/*.c lib/warmer/*.c lib/agent/*.c lib/map/*.c))
FUZZ_LIB   := build/fuzz/libflame.a

build/fuzz/obj/%.o: %.c $(HDR)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(ALL_CFLAGS) $(FUZZ_LIB_FLAGS) -O1 -DFLAME_VERSION='"$(VERSION)"' -c -o $@ $<

# an archive, so that each harness links only the modules it reaches
$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $(FUZZ_OBJ)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	$(SAN_CC) $(ALL_CFLAGS) $(FUZZ_FLAGS) -O1 -o $@ $< $(FUZZ_LIB) $(LDLIBS)

.PHONY: fuzz fuzz-ci

fuzz: $(FUZZ_BIN)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-ci: $(FUZZ_BIN)
	@tests/fuzz/run.sh 30 $(FUZZ_NAMES)
