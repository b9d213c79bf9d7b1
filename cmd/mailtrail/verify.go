package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/timeline"
)

// cmdVerify is the completeness check, run by hand: it exits non-zero
// when a message on a server is missing in mailtrail, as fsck does.
func cmdVerify(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	only := fs.String("rep", "", "check only this rep's mailbox")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if *only != "" {
		r, ok := cfg.Rep(*only)
		if !ok {
			return fmt.Errorf("--rep %s: no such rep in the config", *only)
		}
		cfg.Reps = []config.Rep{r}
	}
	store, err := timeline.Open(ctx, cfg.Database.URL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer store.Close()
	results, checkErr := ingest.NewVerifier(cfg, store, e.log).VerifyAll(ctx)
	var gaps, folders int64
	for _, r := range results {
		gaps += r.Gaps
		if r.Gaps > 0 {
			folders++
		}
	}
	if *asJSON {
		out := struct {
			Folders []timeline.VerifyResult `json:"folders"`
			Gaps    int64                   `json:"gaps"`
			Errors  []string                `json:"errors"`
		}{Folders: results, Gaps: gaps, Errors: []string{}}
		if out.Folders == nil {
			out.Folders = []timeline.VerifyResult{}
		}
		if checkErr != nil {
			out.Errors = strings.Split(checkErr.Error(), "\n")
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			fmt.Printf("%s %s: %d on the server, %d stored, %d missing, %d pending, %d gone from the server",
				r.Rep, r.Folder, r.ServerMessages, r.Stored, r.Gaps, r.Pending, r.Gone)
			if len(r.GapUIDs) > 0 {
				fmt.Printf("; missing UIDs %s", uidList(r.GapUIDs, 20))
			}
			if r.Error != "" {
				fmt.Printf("; %s", r.Error)
			}
			fmt.Println()
		}
	}
	switch {
	case checkErr != nil && gaps > 0:
		return fmt.Errorf("%d messages missing in %d folders; and %w", gaps, folders, checkErr)
	case checkErr != nil:
		return checkErr
	case gaps > 0:
		return fmt.Errorf("%d messages missing in %d folders: run `mailtrail sync --once` and check again; if they stay missing, report it", gaps, folders)
	}
	return nil
}

func uidList(uids []int64, n int) string {
	var b strings.Builder
	for i, u := range uids {
		if i == n {
			fmt.Fprintf(&b, ", ... (%d more)", len(uids)-n)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, u)
	}
	return b.String()
}
