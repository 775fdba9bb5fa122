# Hutch: every set-up step a fresh Debian machine needs, then build, test, demo.
#   make demo   install system libraries, build in release, run the main job on the embedded example
#   make test   install system libraries, run the whole test suite (release, with testability)
#   make soak   100000 seeded fault-plan runs of the cluster simulator (HUTCH_SIM_RUNS, HUTCH_SIM_FIRST)
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

DEB_PACKAGES := libzmq3-dev libopenblas-dev zlib1g-dev libsodium-dev pkg-config
SWIFT_RELEASE := swift build -c release
HUTCH := .build/release/hutch
DEMO_OUT ?= demo-out

.PHONY: deps build test soak demo clean

# Installs the Debian -dev packages that are missing; idempotent and non-interactive.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT_RELEASE)

test: deps
	swift test -c release -Xswiftc -enable-testing --disable-swift-testing

# The simulator's seeded fault plans, many more than `make test` runs (5000). A failing seed prints
# itself; HUTCH_SIM_SEED=S ... --filter SimulationSeedTests/testOneSeed reruns it with its log.
HUTCH_SIM_RUNS ?= 100000
HUTCH_SIM_FIRST ?= 1
soak: deps
	HUTCH_SIM_RUNS=$(HUTCH_SIM_RUNS) HUTCH_SIM_FIRST=$(HUTCH_SIM_FIRST) swift test -c release -Xswiftc -enable-testing \
	  --disable-swift-testing --filter SimulationSeedTests/testSeededFaultPlans

# The main job on the embedded example (Examples/): a coordinator and 2 local worker processes over
# ZeroMQ compute the traces, solve a 4-bit-average plan and quantize the layers in parallel.
demo: build
	@rm -rf $(DEMO_OUT)
	$(HUTCH) inspect Examples/digits_resnet.onnx
	$(HUTCH) run --workers 2 --avg-bits 4 --out $(DEMO_OUT)
	$(HUTCH) plan --sensitivity $(DEMO_OUT)/sensitivity.json --avg-bits 4 --out $(DEMO_OUT)/plan-local.json \
	  --frontier $(DEMO_OUT)/frontier.json --svg $(DEMO_OUT)/frontier.svg
	@cmp $(DEMO_OUT)/plan.json $(DEMO_OUT)/plan-local.json && echo "the cluster's plan.json equals the single-process hutch plan"
	@echo "outputs in $(DEMO_OUT)/:"; ls -l $(DEMO_OUT)

clean:
	rm -rf .build $(DEMO_OUT)
