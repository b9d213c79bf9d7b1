package timeline_test

import (
	"testing"

	"github.com/mailtrail/mailtrail/timeline"
)

// TestRawWriter: a committed writer's rows are stored, an aborted one's
// are not, and rows whose message never committed are removed as orphans.
func TestRawWriter(t *testing.T) {
	f := newFx(t)
	f.one(mail{msgid: "raw@x", subject: "RFQ", at: day(1), customers: []int64{f.customer("Acme", "B", amy)}})
	rc, err := f.s.RawConn(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	count := func() (n int) {
		f.s.Pool.QueryRow(f.ctx, `SELECT count(*) FROM message_raw WHERE message_id >= 1000000`).Scan(&n)
		return n
	}
	w := rc.Start(f.ctx)
	w.Add(1000001, []byte("Subject: a\r\n\r\na\r\n"))
	w.Abort()
	if n := count(); n != 0 {
		t.Fatalf("aborted writer stored %d rows", n)
	}
	w = rc.Start(f.ctx)
	w.Add(1000001, []byte("Subject: a\r\n\r\na\r\n"))
	w.Add(1000002, []byte("Subject: b\r\n\r\nb\r\n"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("committed writer stored %d rows, want 2", n)
	}
	n, err := timeline.DeleteOrphanRaw(f.ctx, f.s.Pool)
	if err != nil || n != 2 {
		t.Fatalf("DeleteOrphanRaw removed %d (%v), want the 2 rows without a message", n, err)
	}
	var left int
	f.s.Pool.QueryRow(f.ctx, `SELECT count(*) FROM message_raw r JOIN messages m ON m.id = r.message_id WHERE m.message_id = 'raw@x'`).Scan(&left)
	if left != 1 {
		t.Errorf("the stored message's raw row is gone")
	}
}
