package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

// importBatchBytes bounds the raw bytes held by one import batch, on top
// of the sync batch size in messages.
const importBatchBytes = 32 << 20

// ImportSummary counts what an import did.
type ImportSummary struct {
	Files     int     `json:"files"`          // mail files read (an mbox, an .eml, a Maildir message)
	Messages  int     `json:"messages"`       // messages found in them
	New       int     `json:"new"`            // stored for the first time
	Known     int     `json:"already_known"`  // already stored (synced over IMAP, imported before)
	Flagged   int     `json:"flagged"`        // stored with problems: malformed, or over the size limit
	NewEvents int     `json:"new_events"`     // added to customer timelines
	Skipped   int     `json:"skipped_files"`  // files under a directory that hold no mail
	Errors    []error `json:"-"`              // unreadable input, each naming the file
	Failed    int     `json:"errors"`         // len(Errors)
	Took      string  `json:"took,omitempty"` // wall time
}

// ImportError is input that could not be read: the file and, inside an
// mbox, the message's index and byte offset.
type ImportError struct {
	Path   string
	Index  int   // 1-based message index in an mbox; 0 for a whole file
	Offset int64 // byte offset of the message's "From " line
	Err    error
}

func (e *ImportError) Error() string {
	if e.Index > 0 {
		return fmt.Sprintf("%s: message %d at byte %d: %v", e.Path, e.Index, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *ImportError) Unwrap() error { return e.Err }

// Importer brings historic mail from files into a rep's mailbox through
// the same pipeline as IMAP sync.
type Importer struct {
	pipe  *Pipeline
	store *timeline.Store
	log   *slog.Logger
}

// NewImporter wires an importer.
func NewImporter(pipe *Pipeline, store *timeline.Store, log *slog.Logger) *Importer {
	return &Importer{pipe: pipe, store: store, log: log}
}

// importItem is one message read from a file, waiting for its batch.
type importItem struct {
	raw       []byte
	size      int64 // in the file; more than len(raw) when truncated
	truncated bool
	source    string
	position  int64
}

// importRun is the state of one Import call.
type importRun struct {
	im        *Importer
	ctx       context.Context
	rep       string // normalized
	batch     []importItem
	bytes     int
	sum       ImportSummary
	lastLog   time.Time
	batchSize int
}

// Import reads every message under paths (see walkMail) as mail found in
// rep's mailbox: in Sent when the rep or one of their aliases sent it,
// else in INBOX. It is idempotent: a message already stored (fetched over
// IMAP, imported before) adds no message and no event. Input that cannot
// be read is listed in the summary's Errors, each naming the file, and
// the rest is imported; the returned error is for what stops the whole
// import (the database, a cancelled context).
func (im *Importer) Import(ctx context.Context, rep string, paths []string) (ImportSummary, error) {
	start := time.Now()
	norm, ok := matcher.Normalize(rep)
	if !ok {
		return ImportSummary{}, fmt.Errorf("--rep %q is not an email address", rep)
	}
	if owner, ok := im.pipe.repOf[norm]; ok {
		norm = owner // an alias imports into its rep's mailbox
	} else {
		im.log.Warn("rep is not in the config: only mail from this very address counts as sent", "rep", norm)
	}
	if err := im.pipe.Reload(ctx); err != nil {
		return ImportSummary{}, err
	}
	abs, err := absPaths(paths)
	if err != nil {
		return ImportSummary{}, err
	}
	r := &importRun{im: im, ctx: ctx, rep: norm, lastLog: time.Now(), batchSize: im.pipe.cfg.Sync.BatchSize}
	if r.batchSize <= 0 {
		r.batchSize = 100
	}
	for _, p := range abs {
		err := walkMail(p, r.file, func(string) { r.sum.Skipped++ }, func(path string, err error) {
			r.fail(&ImportError{Path: path, Err: stripPath(err, path)})
		})
		if err != nil {
			return r.sum, err
		}
	}
	if err := r.flush(); err != nil {
		return r.sum, err
	}
	if _, err := timeline.FlushPendingLinks(ctx, im.store); err != nil {
		return r.sum, err
	}
	r.sum.Failed = len(r.sum.Errors)
	r.sum.Took = time.Since(start).Round(time.Millisecond).String()
	return r.sum, nil
}

func (r *importRun) fail(err error) {
	r.im.log.Debug("import: unreadable input", "err", err)
	r.sum.Errors = append(r.sum.Errors, err)
}

// file reads one mail file into batches. What cannot be read is recorded
// and the walk goes on; the error returned stops the import (the
// database failed, the context ended).
func (r *importRun) file(path string, kind fileKind) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	r.sum.Files++
	var err error
	switch kind {
	case oneMail:
		err = r.eml(path)
	case mboxFile:
		err = r.mbox(path)
	}
	var ie *ImportError
	if errors.As(err, &ie) {
		r.fail(err)
		return nil
	}
	return err
}

// limit is the largest message read whole; a larger one is imported
// with its headers and a note.
func (r *importRun) limit() int { return MaxMessageSize }

func (r *importRun) eml(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &ImportError{Path: path, Err: stripPath(err, path)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return &ImportError{Path: path, Err: stripPath(err, path)}
	}
	limit := r.limit()
	raw, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return &ImportError{Path: path, Err: fmt.Errorf("read: %w", stripPath(err, path))}
	}
	item := importItem{raw: raw, size: st.Size(), source: path, position: 1}
	if len(raw) > limit {
		item.raw, item.truncated = raw[:limit], true
	}
	if len(bytes.TrimSpace(item.raw)) == 0 {
		return &ImportError{Path: path, Err: errors.New("empty message")}
	}
	return r.add(item)
}

func (r *importRun) mbox(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &ImportError{Path: path, Err: stripPath(err, path)}
	}
	defer f.Close()
	mr := newMboxReader(f, r.limit())
	for {
		m, err := mr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, errNotMbox) {
			return &ImportError{Path: path, Err: err}
		}
		if err != nil {
			// A read error mid-file: what came before is imported, the
			// rest of the file cannot be trusted.
			return &ImportError{Path: path, Err: stripPath(err, path)}
		}
		if len(bytes.TrimSpace(m.Raw)) == 0 {
			r.fail(&ImportError{Path: path, Index: m.Index, Offset: m.Offset, Err: errors.New("empty message")})
			continue
		}
		// The reader reuses nothing: m.Raw is this message's own buffer.
		if err := r.add(importItem{raw: m.Raw, size: m.Size, truncated: m.Truncated, source: path, position: int64(m.Index)}); err != nil {
			return err
		}
	}
}

// add queues a message and saves the batch when it is full.
func (r *importRun) add(it importItem) error {
	r.sum.Messages++
	r.batch = append(r.batch, it)
	r.bytes += len(it.raw)
	if len(r.batch) >= r.batchSize || r.bytes >= importBatchBytes {
		return r.flush()
	}
	return nil
}

// flush prepares the batch on every CPU and saves it in one transaction.
func (r *importRun) flush() error {
	if len(r.batch) == 0 {
		return nil
	}
	items := r.batch
	r.batch, r.bytes = nil, 0
	prepared := make([]*Prepared, len(items))
	folders := make([]string, len(items))
	parallel(len(items), func(i int) {
		prepared[i], folders[i] = r.prepare(&items[i])
	})
	var sum ImportSummary
	// store saves the batch; each, one message at a time (saveEach): the
	// way out of a batch that PostgreSQL refuses whatever the try.
	store := func(tx pgx.Tx, each bool) error {
		sum = ImportSummary{}
		locs := make([]*timeline.Location, len(prepared))
		var rs []timeline.SaveResult
		var err error
		if each {
			rs, err = r.im.pipe.saveEach(r.ctx, tx, prepared, locs)
		} else {
			rs, err = r.im.pipe.SaveOlder(r.ctx, tx, prepared, locs, nil)
		}
		if err != nil {
			return fmt.Errorf("%s messages %d-%d: %w", items[0].source, items[0].position, items[len(items)-1].position, err)
		}
		imports := make([]timeline.Import, len(rs))
		ids := make([]int64, len(rs))
		for i, res := range rs {
			ids[i] = res.MessageID
			imports[i] = timeline.Import{Rep: r.rep, Folder: folders[i], Source: items[i].source, Position: items[i].position}
		}
		if err := timeline.RecordImports(r.ctx, tx, ids, imports); err != nil {
			return err
		}
		for _, res := range rs {
			if res.Inserted {
				sum.New++
			} else {
				sum.Known++
			}
			sum.NewEvents += res.NewEvents
		}
		return nil
	}
	if err := storeOrEach(r.ctx, r.im.store, r.im.log, store, "rep", r.rep); err != nil {
		return err
	}
	for i, pr := range prepared {
		if pr.rec.Malformed || items[i].truncated {
			r.sum.Flagged++
		}
	}
	r.sum.New += sum.New
	r.sum.Known += sum.Known
	r.sum.NewEvents += sum.NewEvents
	if time.Since(r.lastLog) > 10*time.Second {
		r.lastLog = time.Now()
		r.im.log.Info("importing", "rep", r.rep, "files", r.sum.Files, "messages", r.sum.Messages,
			"new", r.sum.New, "already_known", r.sum.Known)
	}
	return nil
}

// prepare runs one message through the pipeline as found in the rep's
// Sent folder when the rep sent it, else in INBOX.
func (r *importRun) prepare(it *importItem) (*Prepared, string) {
	raw := toCRLF(it.raw)
	var note string
	if it.truncated {
		note = fmt.Sprintf("message of %d bytes exceeds the %d MB limit: only its headers were imported", it.size, r.limit()>>20)
		raw = append(headerBlock(raw), []byte("\r\n["+note+"]\r\n")...)
	}
	folder, role := "INBOX", "inbox"
	if r.sentByRep(raw) {
		folder, role = "Sent", "sent"
	}
	pr := r.im.pipe.Prepare(raw, r.rep, role)
	if it.truncated {
		pr.rec.Problems = append(pr.rec.Problems, note)
		pr.rec.Size = int(min(it.size, int64(^uint32(0)>>1)))
	}
	return pr, folder
}

// sentByRep reads the From header alone: the rep (or an alias) sent it.
func (r *importRun) sentByRep(raw []byte) bool {
	m := message.Parse(headerBlock(raw))
	for _, a := range m.From {
		if n, ok := matcher.Normalize(a.Email); ok && (n == r.rep || r.im.pipe.repOf[n] == r.rep) {
			return true
		}
	}
	return false
}

// headerBlock returns raw up to and including the blank line that ends
// the header (all of raw when there is none).
func headerBlock(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[: i+4 : i+4]
	}
	return raw[:len(raw):len(raw)]
}

// toCRLF turns bare LF line ends into CRLF, the form RFC 5322 mail takes
// on the wire and in IMAP, so that an imported copy stores the same bytes
// as the copy a server serves.
func toCRLF(b []byte) []byte {
	bare := bytes.Count(b, []byte("\n")) - bytes.Count(b, []byte("\r\n"))
	if bare == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+bare)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// stripPath removes the path from an os error, which ImportError adds.
func stripPath(err error, path string) error {
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return errors.New(strings.TrimPrefix(err.Error(), path+": "))
}
