package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/mailtrail/mailtrail/internal/demo"
	"github.com/mailtrail/mailtrail/internal/services"
	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/migrations"
	"github.com/mailtrail/mailtrail/timeline"
)

// cmdDemo is `make run`: PostgreSQL and Meilisearch under ./.mailtrail (or
// the servers named by MAILTRAIL_DATABASE_URL / MAILTRAIL_MEILI_URL), the
// demo IMAP server with two reps' sample mail, then serve. Ctrl-C stops
// everything it started.
func cmdDemo(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fs.String("dir", ".mailtrail", "where the local servers keep their data")
	listen := fs.String("listen", "", "API address (default $MAILTRAIL_DEMO_LISTEN, else 127.0.0.1:8080, else a free port)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := e.log
	if *listen == "" {
		*listen = os.Getenv("MAILTRAIL_DEMO_LISTEN")
	}
	if *listen == "" {
		// A newcomer's 8080 may be taken by something else: the demo then
		// takes any free port, and prints it like the other.
		*listen = "127.0.0.1:8080"
		if ln, err := net.Listen("tcp", *listen); err != nil {
			log.Info("127.0.0.1:8080 is taken: the demo API listens on a free port", "err", err)
			*listen = "127.0.0.1:0"
		} else {
			ln.Close()
		}
	}
	dbURL := os.Getenv("MAILTRAIL_DATABASE_URL")
	if dbURL == "" {
		pg, err := services.StartPostgres(ctx, filepath.Join(*dir, "postgres"), log)
		if err != nil {
			return fmt.Errorf("start PostgreSQL: %w", err)
		}
		defer pg.Stop()
		dbURL = pg.URL
	}
	meiliURL, meiliKey := os.Getenv("MAILTRAIL_MEILI_URL"), os.Getenv("MAILTRAIL_MEILI_KEY")
	if meiliURL == "" {
		m, err := services.StartMeili(ctx, filepath.Join(*dir, "meilisearch"), log)
		if err != nil {
			return fmt.Errorf("start Meilisearch: %w", err)
		}
		defer m.Stop()
		meiliURL, meiliKey = m.URL, m.MasterKey
	}
	imapSrv, err := demo.Start(log)
	if err != nil {
		return fmt.Errorf("start demo IMAP server: %w", err)
	}
	defer imapSrv.Close()
	token := randomToken()
	cfg, err := imapSrv.Config(dbURL, meiliURL, meiliKey, *listen, token)
	if err != nil {
		return err
	}
	if _, _, err := migrations.Apply(ctx, dbURL); err != nil {
		return err
	}
	store, err := timeline.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	csv, err := demo.CustomersCSV()
	if err != nil {
		return err
	}
	rep, err := store.ImportCustomersCSV(ctx, bytes.NewReader(csv), timeline.ImportOptions{Normalize: matcher.Normalize, Domain: matcher.CustomerDomain})
	var sample int64 // a customer with mail in both demo mailboxes, for the example
	if err == nil {
		err = store.Pool.QueryRow(ctx, `SELECT id FROM customers WHERE name LIKE 'Iluminaci%Pac%' ORDER BY id LIMIT 1`).Scan(&sample)
	}
	store.Close()
	if err != nil {
		return err
	}
	log.Info("demo customers imported", "created", rep.Created, "unchanged", rep.Unchanged)
	return serve(ctx, cfg, log, func(addr string) {
		fmt.Printf(`
mailtrail demo is running.
  API:   http://%[1]s
  token: %[2]s

Try (mail is captured within seconds):
  curl -s -H 'Authorization: Bearer %[2]s' 'http://%[1]s/api/v1/customers?q=Pacifico'
  curl -s -H 'Authorization: Bearer %[2]s' 'http://%[1]s/api/v1/customers/%[3]d/timeline?limit=5'
  curl -s -G -H 'Authorization: Bearer %[2]s' 'http://%[1]s/api/v1/search' --data-urlencode 'q=quotation LED panel'
  curl -s -G -H 'Authorization: Bearer %[2]s' 'http://%[1]s/api/v1/search' --data-urlencode 'q=报价'

Ctrl-C stops mailtrail and the servers it started.
`, addr, token, sample)
	})
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}
