# ferry — build, run, test. `make run` and `make test` are the two commands
# the README starts with; .ci/run runs `make test` on a clean machine.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     := bin/ferry
DATA    := .ferry

.PHONY: build analyze run test lint bench calibrate fuzz clean

## build: a static binary (no cgo) in bin/ferry
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)' -o $(BIN) ./cmd/ferry

## analyze: build ferry and assess this repository's latest change (REPO=dir for another; ARGS for more flags)
analyze: build
	$(BIN) analyze --repo $(or $(REPO),.) $(ARGS)

## calibrate: replay the five fixture histories through the risk model
calibrate: build
	@for f in ../shared/fixtures/commits/*.jsonl; do echo "== $$(basename $$f .jsonl)"; $(BIN) calibrate --commits $$f; echo; done

## run: ferry serve on SQLite with a generated webhook secret (kept in .ferry/)
run: build
	@mkdir -p $(DATA) && chmod 700 $(DATA)
	@test -s $(DATA)/webhook-secret || (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > $(DATA)/webhook-secret)
	@echo "ferry: webhook secret in $(DATA)/webhook-secret, database $(DATA)/ferry.db"
	@echo "ferry: in another terminal, send it a signed test delivery:"
	@echo "  $(BIN) deliver --webhook-secret-file $(DATA)/webhook-secret --event installation internal/fixture/testdata/webhooks/installation/created.payload.json"
	$(BIN) serve --database sqlite:$(DATA)/ferry.db --webhook-secret-file $(DATA)/webhook-secret

## test: lint, then every test against SQLite, a real PostgreSQL, a real Kubernetes control plane and a real Prometheus,
## and every benchmark once against the same, so none rots unseen (-short: the largest inputs shrink)
## (started here unless FERRY_TEST_POSTGRES / FERRY_TEST_KUBECONFIG are set; the first cluster start builds it)
test: lint
	@pg="$${FERRY_TEST_POSTGRES:-}"; \
	if [ -z "$$pg" ]; then pg=$$(.ci/postgres start) || echo "make test: no PostgreSQL here; its tests will skip (CI installs it: .ci/run)" >&2; fi; \
	kc="$${FERRY_TEST_KUBECONFIG:-}"; \
	if [ -z "$$kc" ]; then kc=$$(.ci/kube start) || echo "make test: no test cluster; deploy tests will skip (see .ci/kube)" >&2; fi; \
	pr="$${FERRY_TEST_PROMETHEUS:-}"; \
	if [ -z "$$pr" ]; then pr=$$(.ci/prometheus start) || echo "make test: no Prometheus; analysis tests will skip (see .ci/prometheus)" >&2; fi; \
	export FERRY_TEST_POSTGRES="$$pg" FERRY_TEST_KUBECONFIG="$$kc" FERRY_TEST_PROMETHEUS="$$pr"; \
	$(GO) tool gotestsum --format testname -- -count=1 -timeout 30m ./... && \
	echo "make test: every benchmark once" && \
	$(GO) test -count=1 -short -run '^$$' -bench . -benchtime 1x -timeout 30m ./...

## lint: gofmt, go vet, staticcheck, exhaustive
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@# every switch over one of ferry's enums (strategies, step kinds, states, verdicts, kinds) names every value
	$(GO) tool exhaustive -typeignore '^(go.yaml.in|github.com/sergi|github.com/riverqueue)/' ./...

## bench: whole-system webhook throughput and ack latency (bare HMAC handler, SQLite, PostgreSQL with one and three
## replicas — PostgreSQL with fsync on, as production runs),
## PR opened → check run, comment and label published (p50/p99), merge → first canary step and ferry's
## overhead across a canary (real control plane), canary failing → automatic rollback complete (real Prometheus),
## the deploy analysis' power curve (synthetic canaries on the real Prometheus, ~8 min), and the Go benchmarks
bench: build
	@pg="$${FERRY_TEST_POSTGRES:-$$(.ci/postgres start)}"; \
	durable="$$(FERRY_PG_DURABLE=1 FERRY_PG_PORT=55439 FERRY_PG_DIR=/tmp/ferry-bench-pg .ci/postgres start)"; \
	$(GO) run ./cmd/ferrybench --ferry $(BIN) --postgres "$$durable" && \
	FERRY_TEST_POSTGRES="$$durable" $(GO) test -run '^$$' -bench PullRequestOpened -benchtime 300x ./cmd/ferry && \
	FERRY_TEST_KUBECONFIG="$${FERRY_TEST_KUBECONFIG:-$$(.ci/kube start)}" $(GO) test -run '^$$' -bench MergeToCanary -benchtime 20x ./cmd/ferry && \
	FERRY_TEST_KUBECONFIG="$${FERRY_TEST_KUBECONFIG:-$$(.ci/kube start)}" FERRY_TEST_PROMETHEUS="$${FERRY_TEST_PROMETHEUS:-$$(.ci/prometheus start)}" \
	$(GO) test -run '^$$' -bench Rollback -benchtime 10x ./internal/deployagent && \
	FERRY_TEST_PROMETHEUS="$${FERRY_TEST_PROMETHEUS:-$$(.ci/prometheus start)}" \
	$(GO) test -run '^$$' -bench PowerCurve -benchtime 12x -timeout 60m ./internal/deployagent
	$(GO) test -run '^$$' -skip PowerCurve -bench . -benchmem ./internal/...

## fuzz: fuzz the webhook edge for a minute
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzWebhook -fuzztime 60s ./internal/webhook

clean:
	rm -rf bin
