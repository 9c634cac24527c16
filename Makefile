# SPDX-License-Identifier: GPL-2.0
#
# bootpool: the menu.  `make help` lists the targets.
#
# The module is built out of tree as Documentation/kbuild/modules.rst
# describes, in a per-architecture copy of the sources under build/<name>/
# so that builds for different kernels never share object files:
#
#   make                  host kernel (/lib/modules/$(uname -r)/build), or
#                         Debian's amd64 headers when the host has none
#
# make builds, it never installs: without the headers it needs it says
# which command installs them (apt-get, or scripts/setup for the guests').
#   make ARCH=arm64       cross-build against Debian's arm64 headers
#   make ARCH=x86_64      build against Debian's amd64 headers
#   make KDIR=/path       build against any configured kernel tree
#   make ARCH=arm64 KSERIES=6.12
#                         build against Debian's 6.12 headers (the kernel
#                         matrix of make check), in build/arm64-6.12/

BOOTPOOL_CACHE ?= $(HOME)/.cache/bootpool
export BOOTPOOL_CACHE

SETUP_STAMP := $(BOOTPOOL_CACHE)/setup.stamp
KSFT_DIR := $(BOOTPOOL_CACHE)/ksft

# Kernel architecture name of this machine, as the guests are named.
HOST_ARCH := $(shell uname -m | sed -e 's/aarch64/arm64/')
HOST_KDIR := /lib/modules/$(shell uname -r)/build

# GUEST_ARCH: the architecture of the VM and of the selftest binaries.
GUEST_ARCH := $(if $(ARCH),$(ARCH),$(HOST_ARCH))

ifneq ($(filter-out x86_64 arm64,$(GUEST_ARCH)),)
$(error ARCH=$(GUEST_ARCH) is not supported; use ARCH=x86_64 or ARCH=arm64)
endif

# Which kernel tree to build against, and the build directory's name.
ifneq ($(KDIR),)
BUILD_NAME := kdir-$(GUEST_ARCH)
else ifeq ($(ARCH),)
ifneq ($(wildcard $(HOST_KDIR)/Makefile),)
KDIR := $(HOST_KDIR)
BUILD_NAME := host
endif
endif
# KSERIES: a series of the kernel matrix (scripts/setup fetches 6.12 from
# bookworm-security on Debian 12) instead of the host release's own kernel
# (6.1 on Debian 12; on Debian 13 it is 6.12, and KSERIES=6.12 names it).
KSERIES ?=
ifneq ($(KSERIES),)
ifeq ($(KDIR),)
KDIR := $(BOOTPOOL_CACHE)/$(KSERIES)/$(GUEST_ARCH)/build
BUILD_NAME := $(GUEST_ARCH)-$(KSERIES)
endif
endif
ifeq ($(KDIR),)
KDIR := $(BOOTPOOL_CACHE)/$(GUEST_ARCH)/build
BUILD_NAME := $(GUEST_ARCH)
endif

# What installs the headers $(KDIR) should hold, for `make` to print.
GUEST_HEADERS_HINT := scripts/setup (as root) installs Debian's $(GUEST_ARCH) \
$(or $(KSERIES),default kernel's) headers into $(BOOTPOOL_CACHE)
ifneq ($(filter kdir-%,$(BUILD_NAME)),)
KDIR_HINT := point KDIR at a configured kernel tree
else ifeq ($(ARCH)$(KSERIES),)
KDIR_HINT := apt-get install linux-headers-$(shell uname -r) (as root) installs \
the running kernel's; $(GUEST_HEADERS_HINT)
else
KDIR_HINT := $(GUEST_HEADERS_HINT)
endif

ifneq ($(GUEST_ARCH),$(HOST_ARCH))
CROSS_COMPILE ?= $(if $(filter arm64,$(GUEST_ARCH)),aarch64-linux-gnu-,x86_64-linux-gnu-)
endif

BUILD_DIR := $(CURDIR)/build/$(BUILD_NAME)
GUEST_BUILD := $(CURDIR)/build/$(GUEST_ARCH)

# The kbuild invocation; ARCH, CROSS_COMPILE and W= pass through.
KBUILD_ARGS := -C $(KDIR) M=$(BUILD_DIR) $(if $(ARCH),ARCH=$(ARCH)) \
	$(if $(CROSS_COMPILE),CROSS_COMPILE=$(CROSS_COMPILE)) $(if $(W),W=$(W))

# Sources copied into the build directory; kbuild output files are
# protected from rsync's --delete.
MODULE_SRCS := Kbuild module include
KBUILD_OUTPUTS := *.o *.ko *.mod *.mod.c .*.cmd *.a *.symvers modules.order \
	.tmp_versions *.s *.i *.lst *.d

# Selftests: static binaries for GUEST_ARCH, installed into a kselftest
# directory laid out as upstream's `make install` does.
SELFTEST_CC := $(CROSS_COMPILE)gcc
SELFTEST_OUT := $(GUEST_BUILD)/selftests
KSFT_INSTALL := $(GUEST_BUILD)/kselftest
# 32-bit programs on the 64-bit guest kernel (compat ioctl, mmap2()). For
# -m32, gcc-N-multilib without the gcc-multilib metapackage (which
# conflicts with the cross compilers) has no /usr/include/asm; x86's uapi
# asm headers serve both word sizes.
COMPAT_CC := $(if $(filter arm64,$(GUEST_ARCH)),arm-linux-gnueabihf-gcc,\
	gcc -m32 -idirafter /usr/include/x86_64-linux-gnu)
SELFTEST_ARGS := -C selftests CC=$(SELFTEST_CC) KSFT_DIR=$(KSFT_DIR) \
	OUTPUT=$(SELFTEST_OUT) COMPAT_CC="$(COMPAT_CC)"

# Hooks for stages added later (demo, bench, lint, check-debug): they
# build into $(GUEST_BUILD) and the VM picks up $(GUEST_BUILD)/userspace-demo/.
DEMO_DIR := userspace-demo
DEMO_OUT := $(GUEST_BUILD)/userspace-demo
VM_PREREQS := guest-modules selftests userspace-demo
# make demo runs in the arm64 guest unless ARCH says otherwise.
DEMO_ARCH := $(if $(ARCH),$(ARCH),arm64)
# Stages of scripts/check, in order (see scripts/check --help).
CHECK_STAGES ?=
export CHECK_STAGES

# Options of `make vm`, read by scripts/vm from the environment.
export RUN PAYLOAD ACCEL TIMEOUT MODPARAMS SMP MEM NUMA VM_LOG QUIET TCG_THREAD

.PHONY: all modules setup need-setup selftests emit_tests guest-modules vm check check-debug check-next clean help \
	lint install dkms-check \
	bench bench-build \
	userspace-demo demo demo-sweep demo-numa

all: modules ## Build bootpool.ko (and bootpool_test.ko) for ARCH (default)

modules: ## Same as all
	@test -f Kbuild || { echo "make: no Kbuild file at the top level" >&2; exit 1; }
	@test -f $(KDIR)/Makefile || { echo "make: no kernel headers in $(KDIR)" >&2; \
		echo "make: $(KDIR_HINT)" >&2; exit 1; }
	@mkdir -p $(BUILD_DIR)
	@rsync -a --delete $(foreach p,$(KBUILD_OUTPUTS),--filter='P $(p)') \
		$(MODULE_SRCS) $(BUILD_DIR)/
	$(MAKE) $(KBUILD_ARGS) modules
	@ls $(BUILD_DIR)/*.ko 2>/dev/null | sed 's|^$(CURDIR)/|built: |'

setup: ## Install host packages, fetch guest kernels and headers (idempotent)
	scripts/setup

# What the guest targets need from make setup.  Only setup, check, check-*
# and install install anything; the others say which command would.
need-setup:
	@test -f $(SETUP_STAMP) || { echo "make: $(BOOTPOOL_CACHE) is not set up: \
make setup (as root) installs the host packages and fills it with the \
guest kernels, their headers and the kselftest runner" >&2; exit 1; }

# The VM always runs a Debian guest kernel: build against its headers.
guest-modules: need-setup
	+$(MAKE) ARCH=$(GUEST_ARCH) modules

selftests: need-setup userspace-demo ## Build and install the kselftests as static binaries for ARCH
	@test -f selftests/Makefile || { echo "make: no selftests/Makefile" >&2; exit 1; }
	@mkdir -p $(SELFTEST_OUT)
	$(MAKE) $(SELFTEST_ARGS) EXTRA_CFLAGS=-static
	rm -rf $(KSFT_INSTALL)
	mkdir -p $(KSFT_INSTALL)
	$(MAKE) $(SELFTEST_ARGS) INSTALL_PATH=$(KSFT_INSTALL) install
	$(MAKE) $(SELFTEST_ARGS) LIST=$(KSFT_INSTALL)/kselftest-list.txt list
	@! grep -nvE '^bootpool:[A-Za-z0-9_.-]+$$' $(KSFT_INSTALL)/kselftest-list.txt || \
		{ echo "make: $(KSFT_INSTALL)/kselftest-list.txt holds more than test names" >&2; exit 1; }
	cp -a $(KSFT_DIR)/run_kselftest.sh $(KSFT_DIR)/kselftest $(KSFT_DIR)/ftrace $(KSFT_INSTALL)/
	@echo "installed: $(KSFT_INSTALL) ($$(wc -l < $(KSFT_INSTALL)/kselftest-list.txt) tests)"

emit_tests: ## Print the kselftest names for ARCH, as kselftest-list.txt holds them
	@$(MAKE) -s --no-print-directory $(SELFTEST_ARGS) emit_tests

userspace-demo: need-setup ## Build the demo (static) for ARCH into build/<arch>/userspace-demo/
	$(MAKE) -C $(DEMO_DIR) CC=$(SELFTEST_CC) OUTPUT=$(DEMO_OUT)

demo: ## Replay every trace under each rule in the guest, print and plot what late saves (ARCH, default arm64) [N= ROUNDS= TRACE= RULES= PLACEMENTS= MODES=]
	+$(MAKE) --no-print-directory ARCH=$(DEMO_ARCH) guest-modules userspace-demo
	scripts/demo --arch $(DEMO_ARCH) --build build/$(DEMO_ARCH) $(if $(N),--n $(N)) \
		$(if $(ROUNDS),--rounds $(ROUNDS)) \
		$(if $(TRACE),--trace $(TRACE)) $(if $(RULES),--rules $(RULES)) \
		$(if $(PLACEMENTS),--placements $(PLACEMENTS)) $(if $(MODES),--modes $(MODES))

demo-numa: ## One Dionysos against one per node: bursts of 2N domains in a two-node guest under each rule, printed and plotted (ARCH, default arm64) [N= ROUNDS= TRACE= RULES=]
	+$(MAKE) --no-print-directory ARCH=$(DEMO_ARCH) guest-modules userspace-demo
	scripts/demo --numa --arch $(DEMO_ARCH) --build build/$(DEMO_ARCH) $(if $(N),--n $(N)) \
		$(if $(ROUNDS),--rounds $(ROUNDS)) \
		$(if $(TRACE),--trace $(TRACE)) $(if $(RULES),--rules $(RULES))

demo-sweep: ## Plot what late saves against the pool's size and the heap before the first larger request (ARCH, default arm64) [POOLS=16,...,1024 HEAP=0:512:32 TRACE=]
	+$(MAKE) --no-print-directory ARCH=$(DEMO_ARCH) guest-modules userspace-demo
	scripts/demo --sweep --arch $(DEMO_ARCH) --build build/$(DEMO_ARCH) \
		$(if $(POOLS),--pools $(POOLS)) $(if $(HEAP),--heap $(HEAP)) $(if $(TRACE),--trace $(TRACE))

vm: $(VM_PREREQS) ## Boot ARCH in QEMU with the module loaded [RUN='cmd'] [PAYLOAD=dir] [KSERIES=6.12] [NUMA=2]
ifneq ($(KSERIES),)
	rm -rf $(BUILD_DIR)/kselftest $(BUILD_DIR)/userspace-demo
	cp -a $(GUEST_BUILD)/kselftest $(GUEST_BUILD)/userspace-demo $(BUILD_DIR)/
	KERNEL=$(BOOTPOOL_CACHE)/$(KSERIES)/$(GUEST_ARCH)/vmlinuz \
		scripts/vm --arch $(GUEST_ARCH) --build $(BUILD_DIR)
else
	scripts/vm --arch $(GUEST_ARCH) --build $(GUEST_BUILD)
endif

# The benchmark's guest defaults to arm64, whatever the host.
BENCH_ARGS ?=
bench: ## Run the benchmark in the ARCH guest (default arm64) [BENCH_ARGS='-n 20000']
	+$(MAKE) ARCH=$(if $(ARCH),$(ARCH),arm64) bench-build
	scripts/bench --arch $(if $(ARCH),$(ARCH),arm64) -- $(BENCH_ARGS)

bench-build: $(VM_PREREQS)
	$(MAKE) -C bench CC=$(SELFTEST_CC) OUTPUT=$(GUEST_BUILD)/bench

check: ## Build both arches with W=1, run the kselftests in both guests, print the totals
	scripts/check

check-debug: ## Build (once) the arm64 and x86_64 debug kernels and the x86_64 KCSAN kernel and run KUnit, the kselftests, kmemleak and KCSAN there
	CHECK_DEBUG_BUILD=1 CHECK_STAGES="setup debug kcsan" scripts/check

check-next: ## Build in a Debian sid sysroot and run the kselftests on sid's newest kernel, both arches (not in check)
	scripts/next-sysroot
	CHECK_STAGES="setup next" scripts/check

lint: ## Run checkpatch --strict, sparse, kernel-doc and shellcheck (scripts/lint)
	scripts/lint

install: ## Build for KDIR (default: the running kernel) and install the module and udev rule [INSTALL_MOD_PATH= DESTDIR=]
	+$(MAKE) BOOTPOOL_NO_TEST=1 modules
	@# Distribution signing keys are not shipped with headers: install unsigned.
	$(MAKE) $(KBUILD_ARGS) BOOTPOOL_NO_TEST=1 CONFIG_MODULE_SIG_ALL= \
		$(if $(INSTALL_MOD_PATH),INSTALL_MOD_PATH=$(INSTALL_MOD_PATH)) modules_install
	install -D -m 0644 packaging/60-bootpool.rules \
		$(DESTDIR)/etc/udev/rules.d/60-bootpool.rules

dkms-check: ## Check that dkms add/build/install work against Debian's amd64 headers
	scripts/dkms-check

htmldocs: ## Render Documentation/ with Sphinx into build/htmldocs/html/ (warnings are errors)
	@command -v sphinx-build >/dev/null && \
		test -x $(BOOTPOOL_CACHE)/docs/scripts/kernel-doc || \
		{ echo "make: Sphinx or kernel-doc missing: scripts/setup --docs (as root) installs them" >&2; \
		exit 1; }
	$(MAKE) -C Documentation htmldocs BUILDDIR=$(CURDIR)/build/htmldocs

clean: ## Remove build/ (the download cache stays; see scripts/setup --help)
	rm -rf build

help: ## List the targets
	@echo 'bootpool targets (variables: ARCH=x86_64|arm64 KDIR= W=1 RUN= PAYLOAD= ACCEL= TIMEOUT= MODPARAMS=):'
	@sed -n 's/^\([a-z][a-z0-9-]*\):.*## \(.*\)/\1|\2/p' $(MAKEFILE_LIST) | \
		awk -F'|' '{ printf "  %-12s %s\n", $$1, $$2 }'
