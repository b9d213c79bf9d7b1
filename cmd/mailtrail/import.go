package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/mailtrail/mailtrail/ingest"
)

// cmdImport reads historic mail from files into a rep's mailbox.
func cmdImport(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	rep := fs.String("rep", "", "the rep whose mail this is (their email address)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rep == "" || fs.NArg() == 0 {
		return errors.New("usage: import --rep EMAIL PATH... (.eml files, Maildir folders, mbox files)")
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	a, err := open(ctx, cfg, e.log)
	if err != nil {
		return err
	}
	defer a.close()
	sum, err := ingest.NewImporter(a.pipe, a.store, e.log).Import(ctx, *rep, fs.Args())
	if err != nil {
		return err
	}
	if _, err := a.index.Drain(ctx); err != nil {
		e.log.Warn("search index not updated; the outbox keeps the events", "err", err)
	}
	for _, err := range sum.Errors {
		fmt.Fprintln(os.Stderr, err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		fmt.Printf("files %d, messages %d, new %d, already known %d, flagged %d, new events %d, skipped files %d, errors %d (%s)\n",
			sum.Files, sum.Messages, sum.New, sum.Known, sum.Flagged, sum.NewEvents, sum.Skipped, sum.Failed, sum.Took)
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d files or messages could not be read (listed above); the rest was imported", sum.Failed)
	}
	return nil
}
