package search_test

import (
	"context"
	"fmt"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mailtrail/mailtrail/search"
)

// The daemon's wiring: the indexer runs until the signal context ends,
// and searches go through the same Index. (Compiled, not run: it needs the
// servers.)
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	pool, err := pgxpool.New(ctx, "postgres://mailtrail@127.0.0.1/mailtrail")
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	ix, err := search.New(pool, "http://127.0.0.1:7700", "master-key", "events", slog.Default())
	if err != nil {
		panic(err)
	}
	done := make(chan error, 1)
	go func() { done <- ix.Run(ctx) }() // nil once ctx is cancelled

	hits, total, err := ix.Search(ctx, search.Query{Q: "报价", Rep: "anna@seller.example", Limit: 10})
	if err != nil {
		panic(err)
	}
	fmt.Println(total, "about this many; showing", len(hits))
	for _, h := range hits {
		fmt.Println(h.OccurredAt.Format("2006-01-02"), h.CustomerName, h.Subject, h.Snippet)
	}
	stop()
	<-done
}
