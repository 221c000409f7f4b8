# Augur build. Everything lands in build/ (out of tree); `make -j` is safe; header
# dependencies come from -MMD so an edit rebuilds exactly what includes it.
#
#   make run     boot in QEMU (see README.md for SMP=, MEM=, FIRMWARE=, BOOT=, CMDLINE=, ...)
#   make test    host unit tests + boots under BIOS/UEFI, CD/USB, 1 and 4 CPUs, and of a DEBUG=1
#                kernel built in build/debug
#   make iso     build/augur.iso, a hybrid BIOS+UEFI image for CD or USB stick
#   make usb     build/augur-usb.img, the same image to write with dd (docs/usb.md)
#   make gdb     QEMU halted with a gdb stub, and gdb attached with symbols

VERSION   := 0.1.0
BUILD     := build
OBJ       := $(BUILD)/obj
GEN       := $(BUILD)/gen

# Quiet by default; `make V=1` shows every command.
ifeq ($(V),1)
Q :=
else
Q := @
endif

CC        := gcc
LD        := ld
NASM      := nasm
NM        := nm
PYTHON    := python3
HOSTCC    := gcc

# The PSF console font the framebuffer console is built from (Debian: console-setup-linux).
FONT_PSF  ?= /usr/share/consolefonts/Lat15-VGA16.psf.gz

KERNEL_DIRS := arch/x86_64 kernel mm
KERNEL_C    := $(sort $(shell find $(KERNEL_DIRS) -name '*.c'))
KERNEL_ASM  := $(sort $(wildcard boot/*.asm) $(shell find $(KERNEL_DIRS) -name '*.asm'))
KERNEL_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(KERNEL_C)) \
               $(patsubst %.asm,$(OBJ)/%.asm.o,$(KERNEL_ASM)) \
               $(OBJ)/gen/font8x16.o $(OBJ)/gen/version.o

# Freestanding x86-64 kernel code: no red zone (interrupts push onto the stack below RSP),
# kernel code model (image in the top 2 GiB), no SSE/x87 (their registers are user state),
# frame pointers everywhere (the backtrace walks them), warnings are errors. Stack frames
# stay small and large ones probe every page, so an overflow always hits the guard page
# instead of jumping over it.
KCFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone -mcmodel=kernel \
           -mgeneral-regs-only -mno-sse -mno-sse2 -mno-mmx -mno-80387 \
           -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-shrink-wrap -fno-stack-protector \
           -fstack-clash-protection -Wframe-larger-than=2048 \
           -fno-strict-aliasing -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
           -fno-common -Wall -Wextra -Werror -Wno-unused-parameter -I. -I$(GEN) -MMD -MP
# `make DEBUG=1`: slab poisoning, red zones and double-free checks, and lock owner tracking
# with lock-up detection. Objects built either way land in the same build/, so switching
# needs `make clean` (or BUILD=build-debug). make test builds its own in $(DEBUG_BUILD).
ifeq ($(DEBUG),1)
KCFLAGS += -DSLAB_DEBUG -DLOCK_DEBUG
endif
KASFLAGS := -f elf64 -g -F dwarf -I.
KLDFLAGS := -n -nostdlib -T linker.ld -z max-page-size=0x1000 --no-warn-rwx-segments -z noexecstack

HOST_TESTS := $(sort $(wildcard tools/hosttest/test_*.c))
HOSTCFLAGS := -std=gnu11 -O1 -g -I. -Wall -Wextra -Werror -Wno-unused-parameter \
              -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: all kernel debug-kernel iso usb run test gdb host-test clean format deps vmbench spfbench
all: kernel iso

kernel: $(BUILD)/augur.elf

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(OBJ)/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) $(KASFLAGS) -MD $(@:.o=.d) -MP $< -o $@

$(OBJ)/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(GEN)/font8x16.c: tools/psf2c.py $(FONT_PSF)
	@mkdir -p $(dir $@)
	@echo "  FONT    $(FONT_PSF)"
	$(Q)$(PYTHON) tools/psf2c.py $(FONT_PSF) > $@.tmp && mv $@.tmp $@

# The version string changes with the commit; rewrite the file only when it differs so an
# unchanged tree relinks nothing.
$(GEN)/version.c: FORCE
	@mkdir -p $(dir $@)
	@v='const char augur_version[] = "$(VERSION)$(shell git rev-parse --short HEAD 2>/dev/null | sed 's/^/+/')";'; \
	 [ -f $@ ] && [ "$$(cat $@)" = "$$v" ] || echo "$$v" > $@
FORCE:

# Two-pass link for the symbol table: pass 1 links with an empty table, tools/mksyms.py
# turns its text symbols into build/gen/ksyms.c, pass 2 links that in. The table lives at the
# end of .rodata, after all code, so no function moves between the passes (mksyms --check).
$(GEN)/ksyms_empty.c: tools/mksyms.py
	@mkdir -p $(dir $@)
	$(Q)$(PYTHON) tools/mksyms.py --empty > $@

$(BUILD)/augur.pass1.elf: $(KERNEL_OBJS) $(OBJ)/gen/ksyms_empty.o linker.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(KLDFLAGS) -o $@ $(KERNEL_OBJS) $(OBJ)/gen/ksyms_empty.o

$(GEN)/ksyms.c: $(BUILD)/augur.pass1.elf tools/mksyms.py
	@echo "  KSYMS   $@"
	$(Q)$(NM) -n -S --defined-only $< | $(PYTHON) tools/mksyms.py > $@

$(BUILD)/augur.elf: $(KERNEL_OBJS) $(OBJ)/gen/ksyms.o linker.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(KLDFLAGS) -o $@ $(KERNEL_OBJS) $(OBJ)/gen/ksyms.o
	$(Q)$(NM) -n -S --defined-only $(BUILD)/augur.pass1.elf > $(BUILD)/pass1.syms
	$(Q)$(NM) -n -S --defined-only $@ | $(PYTHON) tools/mksyms.py --check $(BUILD)/pass1.syms
	$(Q)$(PYTHON) tools/check-mb2-header.py $@

# The initrd: user/rootfs plus built user programs plus EXTRA=DIR, as a cpio newc archive.
include user/user.mk
$(BUILD)/initrd.cpio: FORCE
	@mkdir -p $(BUILD)
	$(PYTHON) tools/mkinitrd.py -o $@ user/rootfs $(USER_ROOT) $(EXTRA)

# Host tools: make run/test/gdb/iso/usb/host-test check for them before building anything
# (a parse-time check, so it also comes first under make -j). As root tools/install-deps
# installs what is missing; otherwise it prints the sudo apt-get line and make stops.
DEPS_GOALS := run test gdb iso usb host-test all user user-host-test
ifneq ($(filter $(DEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
ifneq ($(NO_DEPS),1)
DEPS_STATUS := $(shell sh tools/install-deps >&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error missing host tools (see above); NO_DEPS=1 skips this check)
endif
endif
endif

deps:
	@sh tools/install-deps && echo "install-deps: all host tools present"

# Shell-quote a make value so a command line with spaces or quotes reaches the tools intact.
shq = '$(subst ','\'',$(1))'

iso: $(BUILD)/augur.elf $(BUILD)/initrd.cpio
	sh tools/mkiso -o $(BUILD)/augur.iso -k $(BUILD)/augur.elf -i $(BUILD)/initrd.cpio \
		-c $(call shq,$(CMDLINE))

usb: iso
	cp $(BUILD)/augur.iso $(BUILD)/augur-usb.img
	@echo "Write it with: sudo dd if=$(BUILD)/augur-usb.img of=/dev/sdX bs=4M conv=fsync status=progress"
	@echo "(find /dev/sdX with lsblk first; docs/usb.md explains how to do this safely)"

# tools/run.py reads the machine options from its environment (see its --help).
RUN_VARS = BUILD=$(call shq,$(BUILD)) SMP=$(call shq,$(SMP)) MEM=$(call shq,$(MEM)) \
           FIRMWARE=$(call shq,$(FIRMWARE)) BOOT=$(call shq,$(BOOT)) \
           ACCEL=$(call shq,$(ACCEL)) MACHINE=$(call shq,$(MACHINE)) GUI=$(call shq,$(GUI)) \
           CMDLINE=$(call shq,$(CMDLINE)) EXTRA=$(call shq,$(EXTRA)) \
           TIMEOUT=$(call shq,$(TIMEOUT)) QEMU_ARGS=$(call shq,$(QEMU_ARGS)) \
           JOBS=$(call shq,$(JOBS))

run: kernel $(BUILD)/initrd.cpio
	@$(RUN_VARS) $(PYTHON) tools/run.py

gdb: kernel $(BUILD)/initrd.cpio
	@$(RUN_VARS) $(PYTHON) tools/run.py --gdb

HOST_TEST_BINS := $(patsubst tools/hosttest/%.c,$(BUILD)/host/%,$(HOST_TESTS))

host-test: $(HOST_TEST_BINS)
	@$(RUN_VARS) $(PYTHON) tools/test.py --host-only

$(BUILD)/host/%: tools/hosttest/%.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -MMD -MP $< -o $@

# The DEBUG=1 kernel that make test boots too (tools/test.py, the debug-* boots): a use of a
# freed object reads poison there instead of data that still looks right. A make of its own,
# because objects do not record their flags: in a sub-folder of $(BUILD), so make clean takes
# it too, and only on request, so the normal build pays nothing for it. Its boots use the
# normal build's initrd: user programs do not depend on the kernel's debug flags.
# (tools/test.py knows the folder as BUILD/debug.)
DEBUG_BUILD := $(BUILD)/debug

debug-kernel:
	$(Q)$(MAKE) --no-print-directory DEBUG=1 BUILD=$(DEBUG_BUILD) kernel

# Host tests, then boots under BIOS and UEFI, CD and USB, 1 and 4 CPUs, and of the DEBUG=1
# kernel (tools/test.py). The last line of output is "N passed, N failed"; the status is
# non-zero on any failure.
test: kernel debug-kernel $(BUILD)/initrd.cpio $(HOST_TEST_BINS)
	@$(RUN_VARS) $(PYTHON) tools/test.py

# The VM benchmarks in one boot (tools/vmbench.py; docs/vm.md, "Benchmarks"). VMBENCH= gives
# vmbench's arguments, e.g. VMBENCH='-t 2 -m 16 fault munmap'.
vmbench: kernel $(BUILD)/initrd.cpio
	@$(RUN_VARS) $(PYTHON) tools/vmbench.py $(VMBENCH)

# Speculative against classic page faults, every mode of /proc/sys/vm/spf in one boot
# (tools/spfbench.py; docs/spf.md, "Benchmarks"). SPFBENCH= gives spfbench's arguments.
spfbench: kernel $(BUILD)/initrd.cpio
	@$(RUN_VARS) $(PYTHON) tools/spfbench.py $(SPFBENCH)

format:
	clang-format -i $(KERNEL_C) $(shell find $(KERNEL_DIRS) -name '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
