# Builds, runs and tests the microkernel.
#
#   make run     boot in QEMU, serial console on this terminal (Ctrl-A X quits);
#                the FAT disk build/disk.img is made on first use and kept
#   make test    host unit tests, the in-QEMU test boot on a fresh fixture
#                disk, then the host's check of that disk; prints a summary
#   make build   loader, kernel and initrd into build/
#   make bench   the IPC benchmark: table, target/bench/ipc.json and ipc.svg
#                (MODE=wall for emulated nanoseconds instead of instructions)
#   make iso     BIOS+UEFI ISO with Limine (needs LIMINE_DIR=...); make run-iso
#   make clippy / fmt / clean
#
# `run`, `test` and `bench` set up a fresh Debian machine first
# (tools/deps.sh): the QEMU/xorriso/mtools/Python packages and Rust's
# x86_64-unknown-none target.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

TARGET := x86_64-unknown-none
CARGO_TARGET_DIR ?= target
OUT := $(CARGO_TARGET_DIR)/$(TARGET)/release
BUILD ?= build

# Crates tested on the host with `cargo test`.
HOST_CRATES := abi kernel-core runner mkhostile fsfixture fs-proto libipc fatcore blk-proto virtio-blk-core
# Programs whose logic is a library tested on the host; their binary is
# userspace-only, so only the library and its tests build there (clippy's
# --all-targets would try the binary and fail).
HOST_LIB_CRATES := fs shell
# Userspace programs, each put in the initrd under its package name. By
# default every crate in servers/, userland/ and userland/examples/ (package
# name = directory name); set it to choose, e.g. `make run USER_CRATES="init console"`.
USER_CRATES ?= $(notdir $(patsubst %/Cargo.toml,%,$(wildcard servers/*/Cargo.toml userland/*/Cargo.toml \
	userland/examples/*/Cargo.toml)))

# tools/mkhostile turns this valid program into the hostile-* ELF images
# that utest's loader tests spawn; they go into the initrd beside it.
HOSTILE_FROM ?= hello

# The kernel's command line for `make run`; a comma must be written `,,`.
KERNEL_ARGS ?=
# The test boot: the kernel's command line and the runner's time limit (s).
TEST_KERNEL_ARGS ?= test
TEST_TIMEOUT ?= 120

QEMU := qemu-system-x86_64
QEMU_MACHINE := -machine q35 -cpu max -m 256M -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
QEMU_CONSOLE := -nographic -serial mon:stdio
QEMU_HEADLESS := -display none -serial stdio -monitor none
RUNNER := $(CARGO_TARGET_DIR)/debug/qemu-runner

# The FAT disk the fs server serves, attached as a virtio-blk device. `make
# run` uses DISK, made on first use (FAT32 with a README) and kept between
# runs. The test boot uses TEST_DISK, made afresh each time from the fixture
# (tools/fsfixture: many files, long names, nested directories, a multi-MiB
# file and a manifest of their hashes), and checked on the host after QEMU
# has exited (fsck.fat -n, and what fstest wrote, byte for byte).
DISK ?= $(BUILD)/disk.img
TEST_DISK := $(BUILD)/test-disk.img
FSFIXTURE := $(CARGO_TARGET_DIR)/debug/fsfixture
qemu_disk = -drive file=$(1),if=none,id=d0,format=raw -device virtio-blk-pci,drive=d0

LIMINE_FILES := limine-bios.sys limine-bios-cd.bin limine-uefi-cd.bin BOOTX64.EFI
ISO_ROOT := $(BUILD)/iso_root

.PHONY: all deps build runner initrd run test test-host test-qemu \
	fsfixture test-disk test-fscheck test-shell bench iso run-iso clippy fmt clean

all: build

deps:
	@bash tools/deps.sh

build:
	@bash tools/deps.sh --rust-only
	cargo build --release -p boot --target $(TARGET)
	cargo build --release -p kernel --target $(TARGET)
	$(if $(USER_CRATES),cargo build --release --target $(TARGET) $(addprefix -p ,$(USER_CRATES)))
	@mkdir -p $(BUILD)
	cp $(OUT)/boot $(BUILD)/boot.elf
	cp $(OUT)/kernel $(BUILD)/kernel.elf
	@$(MAKE) --no-print-directory initrd

# The initrd: a ustar archive of build/initrd/, which holds each userspace
# binary under its package name, the hostile-* images and a README (so it is
# never empty).
initrd:
	@rm -rf $(BUILD)/initrd && mkdir -p $(BUILD)/initrd
	@for crate in $(USER_CRATES); do cp $(OUT)/$$crate $(BUILD)/initrd/$$crate; done
	$(if $(and $(filter $(HOSTILE_FROM),$(USER_CRATES)),$(wildcard tools/mkhostile/Cargo.toml)),\
		cargo run --quiet -p mkhostile -- $(OUT)/$(HOSTILE_FROM) $(BUILD)/initrd)
	@printf 'The initrd, made by `make build`.\n' > $(BUILD)/initrd/README
	tar --format=ustar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
		-cf $(BUILD)/initrd.tar -C $(BUILD)/initrd $$(ls $(BUILD)/initrd)

runner:
	cargo build -p runner

# `shutdown` leaves QEMU through isa-debug-exit with status 33 (init's
# status 0; see tools/runner/src/judge.rs): that, like quitting QEMU, is a
# normal end of `make run`; anything else is passed on.
run: deps build $(DISK)
	@status=0; $(QEMU) $(QEMU_MACHINE) $(QEMU_CONSOLE) -kernel $(BUILD)/boot.elf \
		-initrd "$(strip $(BUILD)/kernel.elf $(KERNEL_ARGS)),$(BUILD)/initrd.tar" \
		$(call qemu_disk,$(DISK)) || status=$$?; \
	case $$status in 0|33) ;; *) echo "make run: QEMU ended with status $$status" >&2; exit $$status ;; esac

fsfixture:
	cargo build --quiet -p fsfixture

# Made once; delete it to start afresh.
$(DISK):
	@mkdir -p $(dir $@)
	@$(MAKE) --no-print-directory fsfixture
	$(FSFIXTURE) mkdisk $@

# Every part runs even if an earlier one fails; the summary counts them all.
test: deps
	@mkdir -p $(BUILD) && rm -f $(BUILD)/host-tests.log $(BUILD)/qemu-tests.log $(BUILD)/fscheck.log \
		$(BUILD)/shell-tests.log
	@start=$$SECONDS; host=0; qemu=0; disk=0; shell=0; \
	$(MAKE) --no-print-directory test-host || host=$$?; \
	$(MAKE) --no-print-directory test-qemu || qemu=$$?; \
	$(MAKE) --no-print-directory test-fscheck || disk=$$?; \
	$(MAKE) --no-print-directory test-shell || shell=$$?; \
	bash tools/test-summary.sh $(BUILD)/host-tests.log $$host $(BUILD)/qemu-tests.log $$qemu \
		$(BUILD)/fscheck.log $$disk $(BUILD)/shell-tests.log $$shell; \
	echo "make test: $$((SECONDS - start)) s"; \
	[ $$host -eq 0 ] && [ $$qemu -eq 0 ] && [ $$disk -eq 0 ] && [ $$shell -eq 0 ]

# One test thread: libipc's executor finds the running executor through a
# process-wide pointer (one executor per process, as in the OS), so tests
# that each run an executor must not overlap.
test-host:
	@mkdir -p $(BUILD)
	{ status=0; \
	cargo test --no-fail-fast $(addprefix -p ,$(HOST_CRATES)) -- --test-threads=1 || status=$$?; \
	cargo test --no-fail-fast --lib $(addprefix -p ,$(HOST_LIB_CRATES)) -- --test-threads=1 || status=$$?; \
	exit $$status; } 2>&1 | tee $(BUILD)/host-tests.log

test-qemu: build runner test-disk
	$(RUNNER) --timeout $(TEST_TIMEOUT) --log $(BUILD)/qemu-tests.log --expect-tests -- \
		$(QEMU) $(QEMU_MACHINE) $(QEMU_HEADLESS) -kernel $(BUILD)/boot.elf \
		-initrd "$(strip $(BUILD)/kernel.elf $(TEST_KERNEL_ARGS)),$(BUILD)/initrd.tar" \
		$(call qemu_disk,$(TEST_DISK))

# A fresh test disk from the fixture, for each test boot.
test-disk: fsfixture
	@mkdir -p $(BUILD)
	$(FSFIXTURE) mkimage $(TEST_DISK)

# After the test boot: the disk is clean for fsck.fat -n and holds what
# fstest wrote, byte for byte (read back with mtools).
test-fscheck: fsfixture
	@mkdir -p $(BUILD)
	$(FSFIXTURE) check $(TEST_DISK) 2>&1 | tee $(BUILD)/fscheck.log

# The shell's expect-style test: the normal boot (as `make run`, headless)
# on a fresh scratch disk; tools/shelltest.py waits for the prompt, types
# commands, checks what each prints, ends with `shutdown` and checks that
# QEMU powered off, then checks the disk on the host (fsck.fat, and the
# file the shell wrote). Closing line: `shelltest: N passed, N failed`.
SHELL_DISK := $(BUILD)/shell-disk.img
SHELLTEST_TIMEOUT ?= 60
test-shell: deps build fsfixture
	@rm -f $(SHELL_DISK)
	$(FSFIXTURE) mkdisk $(SHELL_DISK)
	python3 tools/shelltest.py --timeout $(SHELLTEST_TIMEOUT) --log $(BUILD)/shell-serial.log \
		--check-disk $(SHELL_DISK) -- \
		$(QEMU) $(QEMU_MACHINE) $(QEMU_HEADLESS) -kernel $(BUILD)/boot.elf \
		-initrd "$(strip $(BUILD)/kernel.elf $(KERNEL_ARGS)),$(BUILD)/initrd.tar" \
		$(call qemu_disk,$(SHELL_DISK)) 2>&1 | tee $(BUILD)/shell-tests.log

# The IPC benchmark (docs/benchmarks.md): the normal build, booted headless
# on one vCPU with `bench` on the kernel command line, so init starts no
# server and runs `ipcbench bench`. tools/bench.py enforces BENCH_TIMEOUT,
# reads ipcbench's BENCH lines, writes $(BENCH_DIR)/ipc.json and ipc.svg,
# compares the medians with the previous run and prints the table; it fails
# if ipcbench did. MODE=icount (the default) runs QEMU with -icount shift=0:
# the guest TSC counts guest instructions, so the figures are instructions,
# comparable between machines; sleep=off keeps the guest's idle moments from
# following the host's clock, so two runs print the same figures. MODE=wall
# runs without icount and reports emulated nanoseconds.
MODE ?= icount
BENCH_DIR ?= target/bench
BENCH_TIMEOUT ?= 600
ifneq ($(filter bench,$(MAKECMDGOALS)),)
  ifeq ($(filter icount wall,$(MODE)),)
    $(error make bench: MODE must be icount (the default) or wall, not '$(MODE)')
  endif
endif
comma := ,
BENCH_ICOUNT := $(if $(filter icount,$(MODE)),-icount shift=0$(comma)sleep=off)
BENCH_ARGS := bench$(if $(filter wall,$(MODE)), mode=wall)
bench: deps build
	python3 tools/bench.py --mode $(MODE) --timeout $(BENCH_TIMEOUT) --out $(BENCH_DIR) \
		--log $(BUILD)/bench-serial.log -- \
		$(QEMU) $(QEMU_MACHINE) $(BENCH_ICOUNT) $(QEMU_HEADLESS) -kernel $(BUILD)/boot.elf \
		-initrd "$(BUILD)/kernel.elf $(BENCH_ARGS),$(BUILD)/initrd.tar"

# A BIOS+UEFI ISO booted by real Limine. LIMINE_DIR holds Limine's binary
# release: the files in LIMINE_FILES and the `limine` tool (or limine.c).
# It is checked before anything is built.
ifneq ($(filter iso run-iso,$(MAKECMDGOALS)),)
  ifeq ($(LIMINE_DIR),)
    $(error make iso: set LIMINE_DIR to a directory with Limine's binaries: \
      $(LIMINE_FILES) and the limine tool or limine.c)
  endif
  LIMINE_MISSING := $(filter-out $(notdir $(wildcard $(addprefix $(LIMINE_DIR)/,$(LIMINE_FILES)))),\
    $(LIMINE_FILES))
  ifneq ($(LIMINE_MISSING),)
    $(error make iso: missing from LIMINE_DIR=$(LIMINE_DIR): $(LIMINE_MISSING))
  endif
  ifeq ($(wildcard $(LIMINE_DIR)/limine $(LIMINE_DIR)/limine.c),)
    $(error make iso: LIMINE_DIR=$(LIMINE_DIR) has neither the limine tool nor limine.c)
  endif
endif

iso: deps build
	@if [ -x "$(LIMINE_DIR)/limine" ]; then cp "$(LIMINE_DIR)/limine" $(BUILD)/limine; \
	else cc -std=c99 -O2 -o $(BUILD)/limine "$(LIMINE_DIR)/limine.c"; fi
	rm -rf $(ISO_ROOT)
	mkdir -p $(ISO_ROOT)/boot/limine $(ISO_ROOT)/EFI/BOOT
	cp $(BUILD)/kernel.elf $(ISO_ROOT)/boot/kernel
	cp $(BUILD)/initrd.tar $(ISO_ROOT)/boot/initrd.tar
	cp limine.cfg $(ISO_ROOT)/boot/limine/limine.conf
	cp $(addprefix "$(LIMINE_DIR)"/,limine-bios.sys limine-bios-cd.bin limine-uefi-cd.bin) \
		$(ISO_ROOT)/boot/limine/
	cp "$(LIMINE_DIR)/BOOTX64.EFI" $(ISO_ROOT)/EFI/BOOT/
	xorriso -as mkisofs -R -r -J -b boot/limine/limine-bios-cd.bin \
		-no-emul-boot -boot-load-size 4 -boot-info-table -hfsplus \
		-apm-block-size 2048 --efi-boot boot/limine/limine-uefi-cd.bin \
		-efi-boot-part --efi-boot-image --protective-msdos-label \
		$(ISO_ROOT) -o $(BUILD)/os.iso
	$(BUILD)/limine bios-install $(BUILD)/os.iso

run-iso: iso $(DISK)
	@status=0; $(QEMU) $(QEMU_MACHINE) $(QEMU_CONSOLE) -cdrom $(BUILD)/os.iso $(call qemu_disk,$(DISK)) \
		|| status=$$?; \
	case $$status in 0|33) ;; *) echo "make run-iso: QEMU ended with status $$status" >&2; exit $$status ;; esac

clippy:
	cargo clippy -p boot -p kernel $(if $(wildcard libipc/Cargo.toml),-p libipc) \
		$(addprefix -p ,$(USER_CRATES)) \
		--target $(TARGET) -- -D warnings
	cargo clippy --all-targets $(addprefix -p ,$(HOST_CRATES)) -- -D warnings
	cargo clippy --lib --tests $(addprefix -p ,$(HOST_LIB_CRATES)) -- -D warnings

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf $(BUILD)
