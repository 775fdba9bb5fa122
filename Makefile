# Hutch: every set-up step a fresh Debian machine needs, then build, test, demo.
#   make demo   install system libraries, build in release, run the main job on the embedded example
#   make test   install system libraries, run the whole test suite (release, with testability), the
#               Deploy/ lint, the ssh launcher on this host, the Slurm script under stand-ins and,
#               as root, the multi-host test
#               in network namespaces
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

# chromium: the test that renders report.html headless; iproute2 python3-yaml shellcheck: the Deploy tests
DEB_PACKAGES := libzmq3-dev libopenblas-dev zlib1g-dev libsodium-dev pkg-config chromium iproute2 python3-yaml shellcheck
SWIFT_RELEASE := swift build -c release
HUTCH := .build/release/hutch
DEMO_OUT ?= demo-out

.PHONY: deps build test demo clean

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

# Deploy/test/multihost.sh needs root for its network namespaces; without root it is not run, loudly.
test: deps
	swift test -c release -Xswiftc -enable-testing --disable-swift-testing
	HUTCH=$(HUTCH) Deploy/test/lint.sh
	HUTCH=$(HUTCH) Deploy/test/launcher.sh
	HUTCH=$(HUTCH) Deploy/test/slurm-sim.sh
	@if [ "$$(id -u)" -eq 0 ] && ip netns list > /dev/null 2>&1; then \
	  HUTCH=$(HUTCH) Deploy/test/multihost.sh; \
	else \
	  echo "!!! multi-host test NOT run: it needs root and 'ip netns' (run: sudo make test, or sudo Deploy/test/multihost.sh) !!!"; \
	fi

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
