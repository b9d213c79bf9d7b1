package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/timeline"
)

const customersUsage = `usage: customers import [--dry-run] FILE | customers merge KEEP OTHER | customers duplicates`

func cmdCustomers(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New(customersUsage)
	}
	switch args[0] {
	case "import":
		return cmdCustomersImport(ctx, e, args[1:])
	case "merge":
		return cmdCustomersMerge(ctx, e, args[1:])
	case "duplicates":
		return cmdCustomersDuplicates(ctx, e, args[1:])
	}
	return errors.New(customersUsage)
}

// openPipeline opens the app and a pipeline over its store, for the
// commands that change customers and then re-match mail.
func openPipeline(ctx context.Context, e *env) (*app, *ingest.Pipeline, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, nil, err
	}
	a, err := open(ctx, cfg, e.log)
	if err != nil {
		return nil, nil, err
	}
	return a, a.pipe, nil
}

// maintain re-matches what a change queued, scans for duplicates and
// indexes the changed events, so that search agrees when the command ends.
func (a *app) maintain(ctx context.Context, pipe *ingest.Pipeline, w io.Writer) error {
	m, err := pipe.Maintain(ctx)
	if err != nil {
		return err
	}
	if m.Rematch.Messages > 0 {
		fmt.Fprintf(w, "matched %d stored messages again: %d events added, %d removed, %d went on or off every timeline\n",
			m.Rematch.Messages, m.Rematch.Added, m.Rematch.Removed, m.Rematch.NoiseChanged)
		if m.Rematch.CustomersDropped > 0 {
			fmt.Fprintf(w, "removed %d customers created from mail that no mail belongs to any more\n", m.Rematch.CustomersDropped)
		}
	}
	if _, err := a.index.Drain(ctx); err != nil {
		a.log.Warn("search index not updated; the outbox keeps the events", "err", err)
	}
	return nil
}

func cmdCustomersImport(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("customers import", flag.ContinueOnError)
	dryRun := fs.Bool("dry-run", false, "show what would be created, updated, taken over and flagged; change nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: customers import [--dry-run] FILE (CSV or XLSX)")
	}
	name := fs.Arg(0)
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, warnings, err := timeline.ReadCustomerSheet(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, w := range warnings {
		fmt.Fprintf(os.Stderr, "%s: warning: %s\n", name, w)
	}
	a, pipe, err := openPipeline(ctx, e)
	if err != nil {
		return err
	}
	defer a.close()
	rep, err := a.store.ImportCustomers(ctx, rows, timeline.ImportOptions{
		Normalize: matcher.Normalize, Domain: matcher.CustomerDomain, FreeMail: pipe.FreeMail, DryRun: *dryRun, Source: filepath.Base(name),
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	printImport(os.Stdout, rep)
	for _, msg := range rep.Errors {
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, msg)
	}
	if *dryRun {
		fmt.Printf("dry run, nothing changed: created %d, updated %d, unchanged %d, rejected %d\n",
			rep.Created, rep.Updated, rep.Unchanged, len(rep.Errors))
	} else {
		fmt.Printf("created %d, updated %d, unchanged %d, rejected %d\n", rep.Created, rep.Updated, rep.Unchanged, len(rep.Errors))
		if err := a.maintain(ctx, pipe, os.Stdout); err != nil {
			return err
		}
	}
	if len(rep.Errors) > 0 {
		return fmt.Errorf("%d rows rejected", len(rep.Errors))
	}
	return nil
}

// printImport writes one line per row that did or would do something, the
// customers taken over, and the duplicate candidates among the imported.
func printImport(w io.Writer, rep timeline.ImportReport) {
	verb := map[string]string{timeline.RowCreated: "created", timeline.RowUpdated: "updated", timeline.RowUnchanged: "unchanged"}
	if rep.DryRun {
		verb = map[string]string{timeline.RowCreated: "would create", timeline.RowUpdated: "would update", timeline.RowUnchanged: "unchanged"}
	}
	for _, r := range rep.Rows {
		if r.Action == timeline.RowRejected || r.Action == timeline.RowUnchanged && !rep.DryRun && len(r.Notes) == 0 {
			continue
		}
		what := fmt.Sprintf("%q", r.Name)
		if r.Action != timeline.RowCreated {
			what = fmt.Sprintf("customer %d %q (matched by %s)", r.CustomerID, r.Name, r.MatchedBy)
		}
		fmt.Fprintf(w, "line %d: %s %s\n", r.Line, verb[r.Action], what)
		for _, c := range r.Changes {
			fmt.Fprintf(w, "    %s\n", c)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "    note: %s\n", n)
		}
	}
	for _, d := range rep.Duplicates {
		var why []string
		for _, r := range d.Reasons {
			why = append(why, r.Reason+" "+r.Detail)
		}
		fmt.Fprintf(w, "duplicate candidate: customer %d %q and customer %d %q, score %.2f: %s\n",
			d.A.ID, d.A.Name, d.B.ID, d.B.Name, d.Score, strings.Join(why, ", "))
	}
	if rep.Rematch > 0 {
		would := ""
		if rep.DryRun {
			would = "would be "
		}
		fmt.Fprintf(w, "%d stored messages %squeued to be matched again\n", rep.Rematch, would)
	}
}

func cmdCustomersMerge(ctx context.Context, e *env, args []string) error {
	if len(args) != 2 {
		return errors.New("usage: customers merge KEEP OTHER (customer ids: OTHER is merged into KEEP)")
	}
	var ids [2]int64
	for i, s := range args {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a customer id", s)
		}
		ids[i] = n
	}
	a, pipe, err := openPipeline(ctx, e)
	if err != nil {
		return err
	}
	defer a.close()
	by := "cli"
	if u, err := user.Current(); err == nil {
		by = "cli:" + u.Username
	}
	var m timeline.Merge
	err = a.store.InTxRetry(ctx, func(tx pgx.Tx) error {
		m, err = timeline.MergeCustomers(ctx, tx, ids[0], ids[1], by)
		return err
	})
	if errors.Is(err, timeline.ErrNotFound) {
		return fmt.Errorf("customer %d or %d does not exist", ids[0], ids[1])
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return err
	}
	return a.maintain(ctx, pipe, os.Stderr)
}

func cmdCustomersDuplicates(ctx context.Context, e *env, args []string) error {
	if len(args) != 0 {
		return errors.New("usage: customers duplicates")
	}
	a, pipe, err := openPipeline(ctx, e)
	if err != nil {
		return err
	}
	defer a.close()
	if _, err := pipe.ScanDuplicates(ctx); err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	var cur timeline.DuplicatesCursor
	for {
		page, err := timeline.Duplicates(ctx, a.store.Pool, cur, 500)
		if err != nil {
			return err
		}
		for _, d := range page {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
		if len(page) < 500 {
			return nil
		}
		last := page[len(page)-1]
		cur = timeline.DuplicatesCursor{Score: last.Score, A: last.A.ID, B: last.B.ID}
	}
}

func cmdRematch(ctx context.Context, e *env, args []string) error {
	if len(args) != 0 {
		return errors.New("usage: rematch")
	}
	a, pipe, err := openPipeline(ctx, e)
	if err != nil {
		return err
	}
	defer a.close()
	st, err := pipe.Rematch(ctx)
	if err != nil {
		return err
	}
	if err := a.maintain(ctx, pipe, io.Discard); err != nil { // the duplicate scan customers created here call for
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(st)
}
