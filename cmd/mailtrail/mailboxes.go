package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/migrations"
	"github.com/mailtrail/mailtrail/timeline"
)

// cmdMailboxes shows each mailbox's sync state (the JSON of GET
// /api/v1/mailboxes) or asks the daemon to retry one now.
func cmdMailboxes(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		args = []string{"list"}
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	switch {
	case args[0] == "list" && len(args) == 1:
	case args[0] == "retry" && len(args) == 2:
		if _, ok := cfg.Rep(args[1]); !ok {
			return fmt.Errorf("no rep %s in the config", args[1])
		}
	default:
		return errors.New("usage: mailboxes [list | retry REP]")
	}
	if _, _, err := migrations.Apply(ctx, cfg.Database.URL); err != nil {
		return err
	}
	store, err := timeline.Open(ctx, cfg.Database.URL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer store.Close()
	if args[0] == "retry" {
		err := timeline.RetryMailbox(ctx, store.Pool, args[1])
		if errors.Is(err, timeline.ErrNotFound) {
			return fmt.Errorf("mailbox %s has never been synced: nothing to retry", args[1])
		}
		if err != nil {
			return err
		}
		fmt.Printf("retry of %s requested: a running daemon tries it within seconds\n", args[1])
		return nil
	}
	ms, err := timeline.MailboxReports(ctx, store.Pool, repEmails(cfg))
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []timeline.MailboxReport{}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(map[string]any{"mailboxes": ms})
}

// repEmails lists the configured reps' addresses.
func repEmails(cfg *config.Config) []string {
	out := make([]string, 0, len(cfg.Reps))
	for _, r := range cfg.Reps {
		out = append(out, r.Email)
	}
	return out
}
