package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/mailtrail/mailtrail/migrations"
	"github.com/mailtrail/mailtrail/timeline"
)

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	from, to, err := migrations.Apply(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	e.log.Info("schema up to date", "from_version", from, "version", to)
	return nil
}

func cmdSync(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	once := fs.Bool("once", false, "one pass over every mailbox, then exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*once {
		return errors.New("usage: sync --once (the daemon is `serve`)")
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	log, prog := syncLogger(e)
	a, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	a.syncer.OnProgress = prog.update
	syncErr := a.syncer.SyncOnce(ctx)
	prog.finish()
	// Index what this pass captured, so a search right after finds it;
	// a Meilisearch outage loses nothing: the outbox keeps it for later.
	if _, err := a.index.Drain(ctx); err != nil {
		e.log.Warn("search index not updated; the outbox keeps the events", "err", err)
	}
	return syncErr
}

func cmdExport(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 || args[0] != "events" {
		return errors.New("usage: export events")
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	store, err := timeline.Open(ctx, cfg.Database.URL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer store.Close()
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := timeline.ExportEvents(ctx, store.Pool, func(x timeline.ExportEvent) error { return enc.Encode(x) }); err != nil {
		return err
	}
	return w.Flush()
}

func cmdStatus(ctx context.Context, e *env, args []string) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	store, err := timeline.Open(ctx, cfg.Database.URL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer store.Close()
	st, err := timeline.GetStatus(ctx, store.Pool)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(st)
}

func cmdReindex(ctx context.Context, e *env, args []string) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	a, err := open(ctx, cfg, e.log)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.index.Rebuild(ctx); err != nil {
		return err
	}
	n, err := a.index.Drain(ctx)
	e.log.Info("reindexed", "events", n)
	return err
}
