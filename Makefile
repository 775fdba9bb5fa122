# Hutch: every set-up step a fresh Debian machine needs, then build, test, demo.
#   make demo   install the system libraries (deps-demo), build in release, run the main job on the
#               embedded example
#   make test   install the system libraries and the test tools (deps-test), run the whole test
#               suite (release, with testability), the Deploy/ lint, the ssh launcher on this
#               host, the Slurm script under stand-ins and, as root, the multi-host test in
#               network namespaces
#   make soak   100000 seeded fault-plan runs of the cluster simulator (HUTCH_SIM_RUNS, HUTCH_SIM_FIRST)
#   make soak-resume  the real-process restart test (SIGKILL, SIGTERM, restart) 50 times (HUTCH_SOAK_RUNS)
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

# What the build and the demo link against, and what only the tests add: chromium renders
# report.html headless in one test; iproute2 python3-yaml shellcheck are for the Deploy tests.
DEB_BUILD := libzmq3-dev libopenblas-dev zlib1g-dev libsodium-dev pkg-config
DEB_TEST := $(DEB_BUILD) chromium iproute2 python3-yaml shellcheck
SWIFT_RELEASE := swift build -c release
HUTCH := .build/release/hutch
DEMO_OUT ?= demo-out

.PHONY: deps deps-demo deps-test build test soak soak-resume demo clean

# Installs the listed Debian packages that are missing; idempotent and non-interactive.
# Only the missing ones are named, with --no-upgrade, and `apt-get upgrade` is never run: installed
# packages keep their versions unless a missing package depends on a newer one (apt lists those).
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-upgrade $$missing; \
	fi
endef

deps-demo:
	$(call install_missing,$(DEB_BUILD))

deps-test:
	$(call install_missing,$(DEB_TEST))

deps: deps-test

build: deps-demo
	$(SWIFT_RELEASE)

# Deploy/test/multihost.sh needs root and a kernel that lets it make network namespaces and veth
# links (a container without CAP_SYS_ADMIN/CAP_NET_ADMIN does not); elsewhere it is not run, loudly.
NETNS_PROBE := hutch-probe-$$$$
test: deps-test
	swift test -c release -Xswiftc -enable-testing --disable-swift-testing
	HUTCH=$(HUTCH) Deploy/test/lint.sh
	HUTCH=$(HUTCH) Deploy/test/launcher.sh
	HUTCH=$(HUTCH) Deploy/test/slurm-sim.sh
	@if [ "$$(id -u)" -eq 0 ] && ip netns add $(NETNS_PROBE) 2>/dev/null \
	    && ip -n $(NETNS_PROBE) link add probe0 type veth peer name probe1 2>/dev/null; then \
	  ip netns del $(NETNS_PROBE); \
	  HUTCH=$(HUTCH) Deploy/test/multihost.sh; \
	else \
	  ip netns del $(NETNS_PROBE) 2>/dev/null; \
	  echo "!!! multi-host test NOT run: it needs root and network namespaces with veth links (run: sudo make test, or sudo Deploy/test/multihost.sh; in a container, --privileged) !!!"; \
	fi

# The simulator's seeded fault plans, many more than `make test` runs (5000). A failing seed prints
# itself; HUTCH_SIM_SEED=S ... --filter SimulationSeedTests/testOneSeed reruns it with its log.
HUTCH_SIM_RUNS ?= 100000
HUTCH_SIM_FIRST ?= 1
soak: deps-demo
	HUTCH_SIM_RUNS=$(HUTCH_SIM_RUNS) HUTCH_SIM_FIRST=$(HUTCH_SIM_FIRST) swift test -c release -Xswiftc -enable-testing \
	  --disable-swift-testing --filter SimulationSeedTests/testSeededFaultPlans

# Real processes: the coordinator killed, restarted, stopped by SIGTERM and restarted while two
# workers stay up; each run must end with both workers in the last coordinator and the outputs
# of an undisturbed run. Stops at the first failing run and prints it.
HUTCH_SOAK_RUNS ?= 50
soak-resume: deps-demo
	swift build -c release -Xswiftc -enable-testing --build-tests
	@for i in $$(seq 1 $(HUTCH_SOAK_RUNS)); do \
	  out=$$(swift test -c release -Xswiftc -enable-testing --disable-swift-testing --skip-build \
	    --filter ResumeCommandTests/testCoordinatorKilledThenTerminatedResumesWithTheSameWorkers 2>&1); \
	  if ! echo "$$out" | grep -q "Executed 1 test, with 0 failures"; then echo "$$out"; echo "soak-resume: run $$i of $(HUTCH_SOAK_RUNS) FAILED"; exit 1; fi; \
	  echo "soak-resume: run $$i of $(HUTCH_SOAK_RUNS) passed"; \
	done

# The main job on the embedded example (Examples/): a coordinator and 2 local worker processes over
# ZeroMQ compute the traces, solve a 4-bit-average plan and quantize the layers in parallel;
# `hutch report` then adds accuracy and size (float, uniform 8/4 bits, the plan) to report.html.
demo: build
	@rm -rf $(DEMO_OUT)
	$(HUTCH) inspect Examples/digits_resnet.onnx
	$(HUTCH) run --workers 2 --avg-bits 4 --out $(DEMO_OUT)
	$(HUTCH) plan --sensitivity $(DEMO_OUT)/sensitivity.json --avg-bits 4 --out $(DEMO_OUT)/plan-local.json \
	  --frontier $(DEMO_OUT)/frontier.json --svg $(DEMO_OUT)/frontier.svg
	@cmp $(DEMO_OUT)/plan.json $(DEMO_OUT)/plan-local.json && echo "the cluster's plan.json equals the single-process hutch plan"
	$(HUTCH) report $(DEMO_OUT)
	@echo "open $(DEMO_OUT)/report.html in a browser: traces, bit widths, frontier, accuracy (no network needed)"
	@echo "outputs in $(DEMO_OUT)/:"; ls -l $(DEMO_OUT)

clean:
	rm -rf .build $(DEMO_OUT)
