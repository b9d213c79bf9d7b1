// Package search keeps a Meilisearch index of timeline events for full-text
// search and queries it. PostgreSQL is the source of truth: the ingest
// pipeline writes a search_outbox row in the same transaction as each event
// change, the indexer (Run) moves those rows into Meilisearch, and Rebuild
// recreates the whole index from the events. Nothing in Meilisearch is
// needed to rebuild it.
package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/meilisearch/meilisearch-go"
)

// Index is one Meilisearch index of timeline events and the database it is
// fed from. It is safe for concurrent use.
type Index struct {
	pool  *pgxpool.Pool
	meili meilisearch.ServiceManager
	index meilisearch.IndexManager
	name  string
	log   *slog.Logger

	// Tunables, set by New; tests in this package shorten them.
	batchSize   int           // outbox rows per DrainOnce
	requestDocs int           // documents per addition request
	poll        time.Duration // idle wait between DrainOnce calls in Run
	backoffMin  time.Duration // first retry delay after a failure
	backoffMax  time.Duration // cap on the retry delay
	taskTimeout time.Duration // how long to wait for one Meilisearch task
}

// validName is Meilisearch's rule for index uids.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,400}$`)

// New returns an Index named index on the Meilisearch server at url, using
// key as the API key (empty for a server without a master key). It does not
// contact Meilisearch, so a daemon can start while the server is down: Run
// waits for it. log may be nil.
//
// The HTTP client is built here rather than taken from meilisearch-go,
// because the library's default asks for gzip, and the server's chunked gzip
// answers stall about 40 ms on a delayed ACK; and its built-in retry re-sends
// POSTs with an empty body, so retries are off and the outbox retries instead.
func New(pool *pgxpool.Pool, url, key, index string, log *slog.Logger) (*Index, error) {
	if pool == nil {
		return nil, errors.New("search: nil pool")
	}
	if url == "" {
		return nil, errors.New("search: empty Meilisearch URL")
	}
	if !validName.MatchString(index) {
		return nil, fmt.Errorf("search: invalid index name %q (want 1-400 of A-Z a-z 0-9 _ -)", index)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		DisableCompression:    true,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}
	// Timeout is the backstop for a caller without a deadline; it must
	// leave room to upload a full batch (batchSize documents of up to
	// maxBody each).
	client := &http.Client{Transport: transport, Timeout: 2 * time.Minute}
	m := meilisearch.New(url,
		meilisearch.WithCustomClient(client),
		meilisearch.WithAPIKey(key),
		meilisearch.DisableRetries(),
	)
	return &Index{
		pool:        pool,
		meili:       m,
		index:       m.Index(index),
		name:        index,
		log:         log.With("index", index),
		batchSize:   2000,
		requestDocs: 500,
		poll:        500 * time.Millisecond,
		backoffMin:  500 * time.Millisecond,
		backoffMax:  30 * time.Second,
		taskTimeout: 2 * time.Minute,
	}, nil
}

// Name returns the Meilisearch index uid.
func (ix *Index) Name() string { return ix.name }

// Searchable attributes, most telling first (Meilisearch's "attribute"
// ranking rule prefers matches in earlier ones). "zh" is the hidden
// traditional-to-simplified folded text (see chinese.go): searched, never
// shown.
var (
	searchable = []string{"subject", "body", "attachments", "from", "to", "customer_name", "zh"}
	filterable = []string{"customer_id", "rep", "kind", "direction", "occurred_at"}
	sortable   = []string{"occurred_at"}
)

// Ensure creates the index with primary key "id" if it does not exist and
// applies the settings, waiting until Meilisearch has done both. It is
// idempotent and cheap when nothing changed; changing searchable or
// filterable attributes makes Meilisearch reindex every document, which
// can take minutes on a large index (the wait is bounded by taskTimeout).
// An index created by hand with another primary key is reported as an
// error rather than silently used.
func (ix *Index) Ensure(ctx context.Context) error {
	info, err := ix.meili.CreateIndexWithContext(ctx, &meilisearch.IndexConfig{Uid: ix.name, PrimaryKey: "id"})
	if err != nil {
		return fmt.Errorf("create index %s: %w", ix.name, err)
	}
	if err := ix.wait(ctx, info.TaskUID); err != nil {
		var te *TaskError
		if !errors.As(err, &te) || te.Code != "index_already_exists" {
			return fmt.Errorf("create index %s: %w", ix.name, err)
		}
		pk, err := ix.index.FetchPrimaryKeyWithContext(ctx)
		if err != nil {
			return fmt.Errorf("primary key of index %s: %w", ix.name, err)
		}
		if pk != nil && *pk != "id" {
			return fmt.Errorf("index %s has primary key %q, want \"id\": delete it and run Rebuild", ix.name, *pk)
		}
	}
	info, err = ix.index.UpdateSettingsWithContext(ctx, &meilisearch.Settings{
		SearchableAttributes: searchable,
		FilterableAttributes: filterable,
		SortableAttributes:   sortable,
		// byAttribute: 2.5x faster indexing; we lose only word-distance
		// ranking inside one attribute, which matters little for mail.
		ProximityPrecision: meilisearch.ByAttribute,
	})
	if err != nil {
		return fmt.Errorf("update settings of index %s: %w", ix.name, err)
	}
	if err := ix.wait(ctx, info.TaskUID); err != nil {
		return fmt.Errorf("update settings of index %s: %w", ix.name, err)
	}
	// Facet search (searching within facet values) is unused and costs
	// indexing time on every string filterable. Settings cannot switch it
	// off: the library omits a false FacetSearch.
	if info, err = ix.index.UpdateFacetSearchWithContext(ctx, false); err != nil {
		return fmt.Errorf("disable facet search on index %s: %w", ix.name, err)
	}
	if err := ix.wait(ctx, info.TaskUID); err != nil {
		return fmt.Errorf("disable facet search on index %s: %w", ix.name, err)
	}
	return nil
}

// Backlog returns the number of outbox rows not yet in Meilisearch: the
// indexer's lag, for status pages and metrics. A row claimed by a batch in
// flight still counts.
func (ix *Index) Backlog(ctx context.Context) (int64, error) {
	var n int64
	if err := ix.pool.QueryRow(ctx, `SELECT count(*) FROM search_outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count search outbox: %w", err)
	}
	return n, nil
}

// TaskError is a Meilisearch task that ended in any state but succeeded:
// HTTP 202 only meant the work was enqueued.
type TaskError struct {
	UID     int64
	Type    string // e.g. documentAdditionOrUpdate
	Status  string // failed or canceled
	Code    string // e.g. index_already_exists, invalid_document_id
	Message string
}

func (e *TaskError) Error() string {
	return fmt.Sprintf("meilisearch task %d (%s) %s: %s (%s)", e.UID, e.Type, e.Status, e.Message, e.Code)
}

// wait polls task uid until it is done, and returns a *TaskError unless it
// succeeded. It polls every 5 ms at first, since small tasks finish in tens
// of milliseconds, then backs off to 100 ms so a long task costs few
// requests. The library's WaitForTask has a fixed interval only.
func (ix *Index) wait(ctx context.Context, uid int64) error {
	ctx, cancel := context.WithTimeout(ctx, ix.taskTimeout)
	defer cancel()
	interval := 5 * time.Millisecond
	for {
		t, err := ix.meili.GetTaskWithContext(ctx, uid)
		if err != nil {
			return fmt.Errorf("get task %d: %w", uid, err)
		}
		switch t.Status {
		case meilisearch.TaskStatusSucceeded:
			return nil
		case meilisearch.TaskStatusFailed, meilisearch.TaskStatusCanceled:
			return &TaskError{UID: uid, Type: string(t.Type), Status: string(t.Status), Code: t.Error.Code, Message: t.Error.Message}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for task %d: %w", uid, context.Cause(ctx))
		case <-time.After(interval):
		}
		interval = min(interval*2, 100*time.Millisecond)
	}
}
