package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/api"
	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/migrations"
	"github.com/mailtrail/mailtrail/search"
	"github.com/mailtrail/mailtrail/timeline"
)

// app is the wired daemon: store, search index, pipeline and syncer.
type app struct {
	cfg    *config.Config
	log    *slog.Logger
	store  *timeline.Store
	index  *search.Index
	pipe   *ingest.Pipeline
	syncer *ingest.Syncer
}

// rules are the built-in classification rules, or the admin's from
// classify.rules_file.
func rules(cfg *config.Config) (*classify.Rules, error) {
	if cfg.Classify.RulesFile == "" {
		return classify.Default(), nil
	}
	b, err := os.ReadFile(cfg.Classify.RulesFile)
	if err != nil {
		return nil, fmt.Errorf("classify.rules_file: %w", err)
	}
	r, err := classify.Load(b)
	if err != nil {
		return nil, fmt.Errorf("classify.rules_file %s: %w", cfg.Classify.RulesFile, err)
	}
	return r, nil
}

func open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*app, error) {
	rs, err := rules(cfg)
	if err != nil {
		return nil, err
	}
	if _, _, err := migrations.Apply(ctx, cfg.Database.URL); err != nil {
		return nil, err
	}
	store, err := timeline.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	index, err := search.New(store.Pool, cfg.Meilisearch.URL, cfg.Meilisearch.Key(), cfg.Meilisearch.Index, log)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("meilisearch: %w", err)
	}
	if err := index.Ensure(ctx); err != nil {
		// Search is derived: the daemon captures mail without it and the
		// indexer catches up when Meilisearch is back.
		log.Warn("meilisearch not ready; events wait in the outbox", "err", err)
	}
	pipe := ingest.NewPipeline(cfg, store, rs, log)
	return &app{cfg: cfg, log: log, store: store, index: index, pipe: pipe, syncer: ingest.NewSyncer(cfg, store, pipe, log)}, nil
}

func (a *app) close() { a.store.Close() }

func cmdServe(ctx context.Context, e *env, args []string) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return serve(ctx, cfg, e.log, nil)
}

// serve runs the sync loops, the indexer and the HTTP API until ctx ends.
// Shutdown order: HTTP first, then the loops finish the batch in hand.
// ready, when set, is called with the API's address once it listens.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, ready func(addr string)) error {
	a, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	srv := api.New(a.store, a.index, cfg.API.TokenValues(), log).WithPolicy(policyOf(cfg)).WithReps(repEmails(cfg)).WithFreeMail(a.pipe.FreeMail).NewHTTPServer(cfg.API.Listen)
	ln, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("api.listen: %w", err)
	}
	if len(cfg.API.Tokens) == 0 {
		log.Warn("api.tokens is empty: only tokens made by `mailtrail tokens create` are accepted")
	}
	// Not fatal: capture goes on; the token's holders get 401 until it is set.
	for _, unset := range cfg.API.UnsetTokens() {
		log.Error(unset + ": that token is refused")
	}
	loopCtx, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.syncer.Run(loopCtx) })
	wg.Go(func() { ingest.NewVerifier(cfg, a.store, log).Run(loopCtx, cfg.Sync.VerifyEvery()) })
	wg.Go(func() {
		if err := a.index.Run(loopCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("search indexer stopped", "err", err)
		}
	})
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	log.Info("serving", "api", "http://"+ln.Addr().String(), "reps", len(cfg.Reps))
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err = <-httpErr:
		log.Error("http server", "err", err)
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	stopLoops()
	wg.Wait()
	log.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
