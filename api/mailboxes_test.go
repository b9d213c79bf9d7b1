package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/api"
	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/timeline"
)

// GET /api/v1/mailboxes shows each mailbox's state with its folders and
// backlog and the last error in words; POST .../retry unparks a mailbox.
func TestMailboxes(t *testing.T) {
	ctx := context.Background()
	url := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const amy, bob = "amy@ourco.example", "bob@ourco.example"
	for _, rep := range []string{amy, bob} {
		if err := timeline.EnsureMailbox(ctx, store.Pool, rep, "imap.qq.com", rep); err != nil {
			t.Fatal(err)
		}
	}
	if err := timeline.RecordSyncOK(ctx, store.Pool, amy); err != nil {
		t.Fatal(err)
	}
	if err := timeline.PutCursor(ctx, store.Pool, timeline.Cursor{Rep: amy, Folder: "INBOX", Role: "inbox", UIDValidity: 7,
		LastUID: 40, BackfillUID: 20, ServerMessages: 12}); err != nil {
		t.Fatal(err)
	}
	if err := timeline.PutCursor(ctx, store.Pool, timeline.Cursor{Rep: bob, Folder: "Sent", Role: "sent", UIDValidity: 3, LastUID: 5}); err != nil {
		t.Fatal(err)
	}
	if err := timeline.RecordSyncError(ctx, store.Pool, bob, "IMAP login refused for bob at imap.qq.com:993: NO [AUTHENTICATIONFAILED]",
		"IMAP login refused: check the authorization code (授权码) for QQ mail", 1, time.Time{}, true, "hash"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(store, nil, map[string]string{"admin-token-123": "admin"}, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	defer srv.Close()
	call := func(method, path, token string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	get := func() map[string]map[string]any {
		code, body := call("GET", "/api/v1/mailboxes", "admin-token-123")
		if code != http.StatusOK {
			t.Fatalf("GET mailboxes: %d %v", code, body)
		}
		out := map[string]map[string]any{}
		for _, m := range body["mailboxes"].([]any) {
			mm := m.(map[string]any)
			out[mm["rep"].(string)] = mm
		}
		return out
	}
	if code, _ := call("GET", "/api/v1/mailboxes", ""); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", code)
	}
	ms := get()
	a, b := ms[amy], ms[bob]
	if a["state"] != "ok" || a["backlog"] != float64(12) || a["last_ok_at"] == nil || len(a["folders"].([]any)) != 1 {
		t.Errorf("amy = %v", a)
	}
	if f := a["folders"].([]any)[0].(map[string]any); f["folder"] != "INBOX" || f["backfill_done"] != false || f["backlog"] != float64(12) {
		t.Errorf("amy's INBOX = %v", f)
	}
	if b["state"] != "parked" || !strings.Contains(b["advice"].(string), "授权码") || b["parked_reason"] == nil || b["imap_host"] != "imap.qq.com" {
		t.Errorf("bob = %v", b)
	}
	// Paged by one, each page carries its own mailbox's folders.
	cursor := ""
	for _, want := range []string{amy + " INBOX", bob + " Sent"} {
		code, body := call("GET", "/api/v1/mailboxes?limit=1&cursor="+cursor, "admin-token-123")
		page, _ := body["mailboxes"].([]any)
		cursor, _ = body["next_cursor"].(string)
		if code != http.StatusOK || len(page) != 1 {
			t.Fatalf("page of one: %d %v", code, body)
		}
		m := page[0].(map[string]any)
		var got []string
		for _, f := range m["folders"].([]any) {
			got = append(got, m["rep"].(string)+" "+f.(map[string]any)["folder"].(string))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("page of one: folders %v, want %s", got, want)
		}
	}
	if code, _ := call("POST", "/api/v1/mailboxes/nobody@ourco.example/retry", "admin-token-123"); code != http.StatusNotFound {
		t.Errorf("retry of an unknown mailbox: %d", code)
	}
	if code, body := call("POST", "/api/v1/mailboxes/"+bob+"/retry", "admin-token-123"); code != http.StatusAccepted {
		t.Errorf("retry: %d %v", code, body)
	}
	if b := get()[bob]; b["state"] == "parked" || b["parked_at"] != nil {
		t.Errorf("after retry bob = %v", b)
	}
}
