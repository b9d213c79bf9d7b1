package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reclassify prints its report as JSON and changes nothing on a fresh
// capture; export carries the thread, the inquiry's quote link and the
// quote's details; a bad followup key is named.
func TestCLIReclassifyAndExportLinks(t *testing.T) {
	c := newCLI(t, freePort(t))
	c.mustRun("migrate")
	csv := filepath.Join(t.TempDir(), "customers.csv")
	os.WriteFile(csv, []byte("name,domains,emails,grade,owner,phone,country\nPacifico SA,pacifico.mx,,B,bob@ourco.example,,Mexico\n"), 0o600)
	c.mustRun("customers", "import", csv)
	c.appendMail("bob@ourco.example", "INBOX", "From: Juan <compras@pacifico.mx>\nTo: bob@ourco.example\nSubject: RFQ LED high bay 150W\nDate: Tue, 3 Mar 2026 09:00:00 -0600\nMessage-ID: <rfq-1@pacifico.mx>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nPlease quote 600 pcs LED high bay 150W, FOB Ningbo.\nJuan\n")
	c.appendMail("bob@ourco.example", "Sent", "From: Bob <bob@ourco.example>\nTo: compras@pacifico.mx\nSubject: Re: RFQ LED high bay 150W\nIn-Reply-To: <rfq-1@pacifico.mx>\nDate: Wed, 4 Mar 2026 09:00:00 +0800\nMessage-ID: <q-8@ourco.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nDear Juan,\nPlease find our quotation QT-2026-0042: LED high bay 150W USD 26.48/pc FOB Ningbo.\nTotal: USD 15,888.00\nBest regards, Bob\n")
	c.mustRun("sync", "--once")

	var rep struct {
		Messages    int            `json:"messages"`
		KindChanged int            `json:"kind_changed"`
		Threaded    int            `json:"threaded"`
		Changes     map[string]int `json:"changes"`
		Feedback    []any          `json:"feedback"`
	}
	if err := json.Unmarshal([]byte(c.mustRun("reclassify")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Messages != 2 || rep.KindChanged != 0 || rep.Threaded != 0 || len(rep.Feedback) != 0 {
		t.Fatalf("reclassify report %+v", rep)
	}

	byID := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(c.mustRun("export", "events")))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		byID[e["message_id"].(string)] = e
	}
	inq, q := byID["rfq-1@pacifico.mx"], byID["q-8@ourco.example"]
	if inq["kind"] != "inquiry" || q["kind"] != "quote" || inq["thread_id"] == nil || inq["thread_id"] != q["thread_id"] {
		t.Fatalf("export: inquiry %v, quote %v", inq, q)
	}
	if inq["quote_event_id"] != q["event_id"] || inq["replied_at"] == nil {
		t.Fatalf("inquiry not linked to its quote: %v", inq)
	}
	if q["quote_ref"] != "QT-2026-0042" || q["currency"] != "USD" || q["amount"] != 15888.0 || q["kind_manual"] != nil {
		t.Fatalf("quote details: %v", q)
	}

	b, _ := os.ReadFile(c.config)
	os.WriteFile(c.config, append(b, []byte("followup: {timezone: Mars/Olympus, cadence: {F: 24h}}\n")...), 0o600)
	_, errs, code := c.run("status")
	if code == 0 || !strings.Contains(errs, "followup.timezone") || !strings.Contains(errs, "followup.cadence.F") {
		t.Errorf("bad followup config: exit %d, stderr %q", code, errs)
	}
}
