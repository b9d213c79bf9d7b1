# The two commands a newcomer needs: `make run` and `make test`.
GO ?= go

.PHONY: run test build deps bench eval

build:
	$(GO) build -o bin/mailtrail ./cmd/mailtrail

deps:
	bash scripts/install-deps.sh test

# Local PostgreSQL + Meilisearch under ./.mailtrail, a demo IMAP server with
# two reps' sample mail, and the daemon. Ctrl-C stops everything.
# MAILTRAIL_DEMO_LISTEN moves the API off 127.0.0.1:8080.
run: build
	bash scripts/install-deps.sh run
	./bin/mailtrail demo

# Every test, against real PostgreSQL, Meilisearch and Dovecot that the
# harness starts on loopback.
test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Regenerate docs/handover.png: the dev corpus synced, one rep's handover
# report opened in headless Chromium (README, "When a rep leaves").
.PHONY: screenshot
screenshot: deps
	UPDATE_SCREENSHOT=1 $(GO) test -count=1 -run 'TestHandoverDevCorpus/chromium' ./internal/eval/
