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
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/api"
	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/migrations"
	"github.com/mailtrail/mailtrail/timeline"
)

const tokensUsage = `usage: tokens create --role admin|manager|rep [--rep EMAIL] [--name NAME]
       tokens list [--json]
       tokens revoke NAME|ID
       tokens revoke --rep EMAIL   (every token of a rep)`

// openStore opens the database of the config (see openDB).
func openStore(ctx context.Context, e *env) (*timeline.Store, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	return openDB(ctx, cfg.Database.URL)
}

// openDB applies migrations, so that a fresh install can create its first
// token right away, and opens the database.
func openDB(ctx context.Context, url string) (*timeline.Store, error) {
	if _, _, err := migrations.Apply(ctx, url); err != nil {
		return nil, err
	}
	store, err := timeline.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return store, nil
}

func cmdTokens(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New(tokensUsage)
	}
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("tokens create", flag.ContinueOnError)
		role := fs.String("role", "", "admin, manager or rep")
		rep := fs.String("rep", "", "the rep's email (role rep only)")
		name := fs.String("name", "", "a unique name (default: the rep's email, or ROLE-<random>)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return errors.New(tokensUsage)
		}
		if !api.ValidRole(*role) {
			return fmt.Errorf("--role: %q is not admin, manager or rep", *role)
		}
		r := ""
		switch {
		case *role == api.RoleRep && *rep == "":
			return errors.New("--rep: required with --role rep")
		case *role != api.RoleRep && *rep != "":
			return errors.New("--rep: only with --role rep")
		case *rep != "":
			n, ok := matcher.Normalize(*rep)
			if !ok {
				return fmt.Errorf("--rep: %q is not an e-mail address", *rep)
			}
			r = n
		}
		n := strings.TrimSpace(*name)
		if n == "" {
			n = r
		}
		if n == "" {
			tok, _ := api.NewToken()
			n = *role + "-" + tok[len(api.TokenPrefix):len(api.TokenPrefix)+6]
		}
		if utf8.RuneCountInString(n) > 100 || strings.ContainsFunc(n, unicode.IsControl) {
			return errors.New("--name: at most 100 characters, no control characters")
		}
		cfg, err := e.config()
		if err != nil {
			return err
		}
		store, err := openDB(ctx, cfg.Database.URL)
		if err != nil {
			return err
		}
		defer store.Close()
		if _, ok := cfg.Rep(r); r != "" && !ok {
			fmt.Fprintf(os.Stderr, "warning: %s is not a rep in the config file; the token sees only customers owned by or in mail with that address\n", r)
		}
		tok, hash := api.NewToken()
		t, err := timeline.CreateToken(ctx, store.Pool, n, *role, r, hash[:])
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "created token %q (id %d, role %s%s); it is shown once, store it now:\n", t.Name, t.ID, t.Role, repSuffix(t.Rep))
		fmt.Println(tok)
		return nil
	case "list":
		fs := flag.NewFlagSet("tokens list", flag.ContinueOnError)
		asJSON := fs.Bool("json", false, "JSON lines instead of a table")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		store, err := openStore(ctx, e)
		if err != nil {
			return err
		}
		defer store.Close()
		ts, err := timeline.Tokens(ctx, store.Pool)
		if err != nil {
			return err
		}
		return printTokens(os.Stdout, ts, *asJSON)
	case "revoke":
		if len(args) == 3 && args[1] == "--rep" {
			store, err := openStore(ctx, e)
			if err != nil {
				return err
			}
			defer store.Close()
			ts, err := timeline.RevokeRepTokens(ctx, store.Pool, args[2])
			if err != nil {
				return err
			}
			for _, t := range ts {
				fmt.Printf("revoked token %q (id %d, role %s%s)\n", t.Name, t.ID, t.Role, repSuffix(t.Rep))
			}
			fmt.Printf("%d token%s of %s revoked\n", len(ts), plural(len(ts)), args[2])
			return nil
		}
		if len(args) != 2 {
			return errors.New(tokensUsage)
		}
		store, err := openStore(ctx, e)
		if err != nil {
			return err
		}
		defer store.Close()
		t, err := timeline.RevokeToken(ctx, store.Pool, args[1])
		if errors.Is(err, timeline.ErrNotFound) {
			return fmt.Errorf("no token named %q (see `tokens list`)", args[1])
		}
		if err != nil {
			return err
		}
		fmt.Printf("revoked token %q (id %d, role %s%s)\n", t.Name, t.ID, t.Role, repSuffix(t.Rep))
		return nil
	}
	return errors.New(tokensUsage)
}

func repSuffix(rep string) string {
	if rep == "" {
		return ""
	}
	return " for " + rep
}

func printTokens(w io.Writer, ts []timeline.Token, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, t := range ts {
			if err := enc.Encode(t); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tREP\tCREATED\tLAST USED")
	for _, t := range ts {
		last := "never"
		if t.LastUsedAt != nil {
			last = t.LastUsedAt.UTC().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, cmpOr(t.Rep, "-"),
			t.CreatedAt.UTC().Format(time.DateTime), last)
	}
	return tw.Flush()
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// osUser names who ran a command, for the audit trail.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return cmpOr(os.Getenv("USER"), "cli")
}
