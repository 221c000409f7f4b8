# User programs (docs/userspace-programs.md), included from the top Makefile.
#
# Every user/NAME.c, or every user/NAME/*.c for a program split over several files, and every
# benchmark user/bench/NAME.c, becomes $(BUILD)/user/bin/NAME: a static musl binary that runs
# on Augur and natively on Linux.
# user/lib/*.c is a small library linked into all of them. The initrd gets them from the
# staging folder $(BUILD)/user/root: sbin/init, and bin/NAME for every other program.
#
#   make user             build every user program
#   make user-host-test   run usertests and vmtests natively on this Linux host (the tests'
#                         own test)

USER_CC     := musl-gcc
USER_CFLAGS := -static -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iuser/lib -MMD -MP
USER_OBJ    := $(BUILD)/user/obj
USER_BIN    := $(BUILD)/user/bin
USER_ROOT   := $(BUILD)/user/root
USER_LIB    := $(BUILD)/user/libu.a

# Programs that live in /sbin instead of /bin.
USER_SBIN   := init
# Folders of user/ that are not programs. bench/ holds one benchmark program per file.
USER_NOT_PROGRAMS := lib rootfs bench

USER_DIRS   := $(filter-out $(USER_NOT_PROGRAMS),$(patsubst user/%/,%,$(sort $(dir $(wildcard user/*/*.c)))))
USER_BENCH  := $(patsubst user/bench/%.c,%,$(sort $(wildcard user/bench/*.c)))
USER_PROGS  := $(patsubst user/%.c,%,$(sort $(wildcard user/*.c))) $(USER_DIRS) $(USER_BENCH)
USER_BINS   := $(addprefix $(USER_BIN)/,$(USER_PROGS))
USER_STAGED := $(foreach p,$(USER_PROGS),$(USER_ROOT)/$(if $(filter $(p),$(USER_SBIN)),sbin,bin)/$(p))

# The objects of program $(1): user/$(1).c or user/bench/$(1).c alone, or everything in
# user/$(1)/.
user_objs = $(if $(wildcard user/$(1).c),$(USER_OBJ)/$(1).o,\
	$(if $(wildcard user/bench/$(1).c),$(USER_OBJ)/bench/$(1).o,\
	$(patsubst user/%.c,$(USER_OBJ)/%.o,$(sort $(wildcard user/$(1)/*.c)))))

.PHONY: user user-host-test
user: $(USER_STAGED)

$(USER_OBJ)/%.o: user/%.c
	@mkdir -p $(dir $@)
	@echo "  MUSLCC  $<"
	$(Q)$(USER_CC) $(USER_CFLAGS) -c $< -o $@

$(USER_LIB): $(patsubst user/%.c,$(USER_OBJ)/%.o,$(sort $(wildcard user/lib/*.c)))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

define user_prog_rule
$(USER_BIN)/$(1): $(call user_objs,$(1)) $(USER_LIB)
	@mkdir -p $$(dir $$@)
	@echo "  MUSLLD  $$@"
	$$(Q)$$(USER_CC) -static -o $$@ $(call user_objs,$(1)) $(USER_LIB)
endef
$(foreach p,$(USER_PROGS),$(eval $(call user_prog_rule,$(p))))

$(USER_ROOT)/bin/%: $(USER_BIN)/%
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(USER_ROOT)/sbin/%: $(USER_BIN)/%
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(BUILD)/initrd.cpio: $(USER_STAGED)

# usertests and vmtests must pass on Linux too: that is how we know the tests themselves are
# right. (vmtests' leak check only reports there: Linux's counts include every process.)
user-host-test: $(USER_BIN)/usertests $(USER_BIN)/vmtests
	$(USER_BIN)/usertests
	$(USER_BIN)/vmtests
