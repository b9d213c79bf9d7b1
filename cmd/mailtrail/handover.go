package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mailtrail/mailtrail/handover"
	"github.com/mailtrail/mailtrail/matcher"
)

// mapFlag collects repeated --map ID=EMAIL.
type mapFlag []string

func (m *mapFlag) String() string     { return strings.Join(*m, ",") }
func (m *mapFlag) Set(v string) error { *m = append(*m, v); return nil }

const handoverUsage = `usage: handover --rep EMAIL [--format md|html|json] [--out FILE] [--months N]
       handover --rep EMAIL --to EMAIL [--map CUSTOMER_ID=EMAIL ...] [--apply] [--format text|json] [--out FILE]`

// cmdHandover prints the handover report of a rep or, with --to or --map,
// moves the rep's customers. Every flag is checked, and --out opened,
// before anything is written: a bad flag never follows a transfer.
func cmdHandover(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("handover", flag.ContinueOnError)
	rep := fs.String("rep", "", "the departing rep's email (required)")
	format := fs.String("format", "", "report: md (default), html or json; transfer: text (default) or json")
	out := fs.String("out", "", "write the report, or the transfer's result, to FILE instead of stdout")
	months := fs.Int("months", 12, "the report's period, in months up to today")
	to := fs.String("to", "", "transfer: the new owner of every customer the rep owns, and of the unowned ones only the rep corresponded with")
	var mapping mapFlag
	fs.Var(&mapping, "map", "transfer: CUSTOMER_ID=EMAIL, a different new owner for one customer (repeatable)")
	apply := fs.Bool("apply", false, "transfer: really move ownership (without it: a dry run)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rep == "" || fs.NArg() > 0 {
		return errors.New(handoverUsage)
	}
	r, ok := matcher.Normalize(*rep)
	if !ok {
		return fmt.Errorf("--rep: %q is not an e-mail address", *rep)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	transfer := *to != "" || len(mapping) > 0
	var m map[int64]string
	if transfer {
		if *format != "" && *format != "text" && *format != handover.FormatJSON {
			return fmt.Errorf("--format: %q is not text or json for a transfer", *format)
		}
		if set["months"] {
			return errors.New("--months: only for the report; a transfer moves every customer the rep owns, whatever the period")
		}
		var err error
		if m, err = handover.ParseMapping(mapping); err != nil {
			return err
		}
	} else {
		if *apply {
			return errors.New("--apply: only with --to or --map (a transfer)")
		}
		*format = cmpOr(*format, handover.FormatMarkdown)
		if *format != handover.FormatMarkdown && *format != handover.FormatHTML && *format != handover.FormatJSON {
			return fmt.Errorf("--format: %q is not md, html or json", *format)
		}
		if *months < 1 || *months > handover.MaxMonths {
			return fmt.Errorf("--months: must be a whole number from 1 to %d", handover.MaxMonths)
		}
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	w, err := createOut(*out)
	if err != nil {
		return err
	}
	defer w.abort() // a no-op once committed
	store, err := openDB(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer store.Close()

	if !transfer {
		rpt, err := handover.Build(ctx, store.Pool, handover.Options{Rep: r, Months: *months, Cadence: cfg.Followup.Cadence})
		if err != nil {
			return err
		}
		if err := handover.Render(w, rpt, *format); err != nil {
			return err
		}
		if err := w.commit(); err != nil {
			return err
		}
		w.summary("%d customers, %d open inquiries, %d unanswered quotes, %d at risk",
			rpt.Summary.Customers, rpt.Summary.OpenInquiries, rpt.Summary.UnansweredQuotes, rpt.Summary.AtRisk)
		return nil
	}

	res, err := handover.Transfer(ctx, store, handover.TransferRequest{
		From: r, To: *to, Mapping: m, DryRun: !*apply, Via: "cli", Actor: osUser()})
	if err != nil {
		return err
	}
	for _, mv := range res.Moves {
		if _, ok := cfg.Rep(mv.To); !ok {
			res.Warnings = append(res.Warnings, mv.To+" is not a rep in the config file")
			break
		}
	}
	if *format == handover.FormatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = printTransfer(w, res)
	}
	if err == nil {
		err = w.commit()
	}
	if err != nil {
		if !res.DryRun && len(res.Moves) > 0 {
			return fmt.Errorf("the transfer is done (%d customers moved), but its result could not be written: %w", len(res.Moves), err)
		}
		return err
	}
	verb := "moved"
	if res.DryRun {
		verb = "would move"
	}
	w.summary("%s %d customer%s from %s", verb, len(res.Moves), plural(len(res.Moves)), res.Rep)
	return nil
}

func printTransfer(w io.Writer, res *handover.TransferResult) error {
	verb := "moved"
	if res.DryRun {
		verb = "would move"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CUSTOMER\tNAME\tGRADE\tFROM\tTO")
	for _, m := range res.Moves {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", m.CustomerID, m.Customer, cmpOr(m.Grade, "-"), cmpOr(m.From, "-"), m.To)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, k := range res.Kept {
		fmt.Fprintf(w, "kept: customer %d (%s) stays with %s\n", k.ID, k.Name, res.Rep)
	}
	for _, u := range res.LeftUnowned {
		if len(u.OtherReps) == 0 {
			fmt.Fprintf(w, "left unowned: customer %d (%s): only %s wrote to them; --to or --map moves them\n", u.ID, u.Name, res.Rep)
		} else {
			fmt.Fprintf(w, "left unowned: customer %d (%s): %s wrote to them too; --map %d=EMAIL moves them\n", u.ID, u.Name, strings.Join(u.OtherReps, ", "), u.ID)
		}
	}
	for _, warn := range res.Warnings {
		fmt.Fprintln(w, "warning: "+warn)
	}
	fmt.Fprintf(w, "%s %d customer%s from %s", verb, len(res.Moves), plural(len(res.Moves)), res.Rep)
	if res.DryRun {
		fmt.Fprint(w, " (dry run: nothing changed; add --apply to move them)")
	}
	_, err := fmt.Fprintln(w)
	return err
}
