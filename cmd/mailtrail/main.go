// Command mailtrail captures sales reps' mail into customer timelines.
//
// Usage: mailtrail [--config FILE] COMMAND [ARGS]
// See `mailtrail help` for the commands.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mailtrail/mailtrail/config"
)

type command struct {
	name  string
	usage string
	run   func(ctx context.Context, env *env, args []string) error
}

var commands = []command{
	{"migrate", "migrate: apply the database schema", cmdMigrate},
	{"customers", "customers import [--dry-run] FILE: import customers from a CSV or XLSX (name,domains,emails,grade,owner,phone,country)\n  customers merge KEEP OTHER: merge customer OTHER into KEEP (moves contacts, domains, events; OTHER redirects to KEEP)\n  customers duplicates: scan for duplicate customers and list the candidate pairs as JSON lines", cmdCustomers},
	{"rematch", "rematch: match every stored message again against the current customers and config", cmdRematch},
	{"sync", "sync --once: one pass over every configured mailbox", cmdSync},
	{"export", "export events: every timeline event as JSON lines on stdout", cmdExport},
	{"status", "status: sync state and totals as JSON", cmdStatus},
	{"serve", "serve: sync loops, search indexer and HTTP API until SIGTERM/SIGINT", cmdServe},
	{"reindex", "reindex: rebuild the Meilisearch index from PostgreSQL", cmdReindex},
	{"mailboxes", "mailboxes [list | retry REP]: each mailbox's sync state as JSON; retry a parked or backing-off mailbox now", cmdMailboxes},
	{"import", "import --rep EMAIL [--json] PATH...: historic mail from .eml files, Maildir folders and mbox files into a rep's mailbox", cmdImport},
	{"verify", "verify [--rep EMAIL] [--json]: compare each synced folder on the server with what is stored; non-zero exit on a gap", cmdVerify},
	{"reclassify", "reclassify: re-run the rules over stored messages (corrections stay), thread old mail; report as JSON", cmdReclassify},
	{"demo", "demo: local PostgreSQL, Meilisearch and a demo IMAP server with sample mail, then serve (make run)", cmdDemo},
	{"tokens", "tokens create --role admin|manager|rep [--rep EMAIL] [--name NAME] | list | revoke NAME|ID: API tokens (the value is shown once, stored hashed)", cmdTokens},
	{"handover", "handover --rep EMAIL [--format md|html|json] [--out FILE] [--months N]: report of a departing rep; with --to EMAIL [--map ID=EMAIL] [--apply]: move their customers (dry run without --apply)", cmdHandover},
}

// env is what every command gets: the config path and a logger. The config
// is loaded by the commands that need it, so that `demo` can build its own.
type env struct {
	configPath string
	log        *slog.Logger
}

func (e *env) config() (*config.Config, error) {
	if e.configPath == "" {
		return nil, fmt.Errorf("no config: pass --config FILE or set MAILTRAIL_CONFIG")
	}
	return config.Load(e.configPath)
}

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("mailtrail", flag.ContinueOnError)
	configPath := fs.String("config", os.Getenv("MAILTRAIL_CONFIG"), "config file (YAML); or MAILTRAIL_CONFIG")
	verbose := fs.Bool("verbose", false, "debug logging")
	fs.Usage = usage
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	args := fs.Args()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" {
		usage()
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands {
		if c.name == args[0] {
			if err := c.run(ctx, &env{configPath: *configPath, log: log}, args[1:]); err != nil {
				fmt.Fprintf(os.Stderr, "mailtrail %s: %v\n", c.name, err)
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "mailtrail: unknown command %q\n", args[0])
	usage()
	return 2
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: mailtrail [--config FILE] [--verbose] COMMAND [ARGS]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintln(os.Stderr, "  "+c.usage)
	}
}
