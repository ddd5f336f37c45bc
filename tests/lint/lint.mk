# tests/lint/lint.mk — `make lint` and `make format`, included by the Makefile.
#
# make lint    cppcheck and clang's static analyzer over the C code,
#              shellcheck over every shell script, mandoc -T lint on the man
#              page, and the C code against .clang-format; every check runs
#              and prints its findings, and any finding fails the target
#              (tests/lint/lint.sh says what each check covers)
# make format  rewrites the C files with clang-format -i
# make lint-CHECK runs one check: lint-cppcheck, lint-analyze, lint-shell,
#              lint-man, lint-format
#
# Debian packages: cppcheck clang (clang --analyze) clang-format shellcheck mandoc.

LINT_CHECKS := cppcheck analyze shell man format

.PHONY: lint format $(LINT_CHECKS:%=lint-%)

lint:
	@tests/lint/lint.sh all

$(LINT_CHECKS:%=lint-%):
	@tests/lint/lint.sh $(@:lint-%=%)

format:
	@tests/lint/lint.sh format-fix
