package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mailtrail/mailtrail/ingest"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestProgressBars(t *testing.T) {
	var out bytes.Buffer
	clk := &fakeClock{time.Unix(1000, 0)}
	p := &progress{out: &out, tty: true, width: 100, now: clk.now, start: clk.t, boxes: map[string]*boxProgress{}}
	clk.t = clk.t.Add(2 * time.Second)
	p.update(ingest.Progress{Rep: "amy@ourco.example", Folder: "INBOX", Messages: 100, Bytes: 3 << 20, Remaining: 300})
	first := out.String()
	want := "\r\x1b[2Kamy@ourco.example [########-------------------------]" +
		" 100/400  3.0 MB  50 msg/s 1.5 MB/s  0:06 left\n" // 99 columns of 100
	if first != want {
		t.Errorf("first draw:\n%q\nwant\n%q", first, want)
	}
	// A log line goes above the bars, which are drawn again below it.
	out.Reset()
	p.Write([]byte("time=x level=INFO msg=\"mailbox synced\"\n"))
	if got := out.String(); !strings.HasPrefix(got, "\x1b[1A\r\x1b[2Ktime=x level=INFO msg=\"mailbox synced\"\n\r\x1b[2Kamy@ourco.example [") {
		t.Errorf("log line over the bars: %q", got)
	}
	// A second mailbox adds a line; the last batch says done.
	out.Reset()
	clk.t = clk.t.Add(6 * time.Second)
	p.update(ingest.Progress{Rep: "bob@ourco.example", Folder: "INBOX", Messages: 10, Bytes: 1000, Remaining: 0})
	got := out.String()
	if !strings.HasPrefix(got, "\x1b[1A") || strings.Count(got, "\n") != 2 || !strings.Contains(got, "bob@ourco.example ["+strings.Repeat("#", 42)+"] 10/10") ||
		!strings.Contains(got, "done\n") {
		t.Errorf("two mailboxes:\n%q", got)
	}
}

func TestProgressLogLines(t *testing.T) {
	var out bytes.Buffer
	clk := &fakeClock{time.Unix(1000, 0)}
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	p := &progress{out: io.Discard, now: clk.now, start: clk.t, boxes: map[string]*boxProgress{}, every: 5 * time.Second, log: log}
	for i := range 10 { // a batch a second: a line every 5 s, and one at the end
		clk.t = clk.t.Add(time.Second)
		p.update(ingest.Progress{Rep: "amy@ourco.example", Folder: "INBOX", Messages: 100, Bytes: 1 << 20, Remaining: 900 - 100*i})
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		`level=INFO msg="sync progress" rep=amy@ourco.example folder=INBOX messages=100 left=900 bytes="1.0 MB" per_second="100 msg, 1.0 MB" eta=0:09`,
		`level=INFO msg="sync progress" rep=amy@ourco.example folder=INBOX messages=600 left=400 bytes="6.0 MB" per_second="100 msg, 1.0 MB" eta=0:04`,
		`level=INFO msg="sync progress" rep=amy@ourco.example folder=INBOX messages=1000 left=0 bytes="10.0 MB" per_second="100 msg, 1.0 MB" eta=0:00`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// openPTY returns a pseudo-terminal's master and slave ends.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// sync --once draws bars on a terminal and logs plain lines elsewhere.
func TestCLISyncProgress(t *testing.T) {
	c := newCLI(t, freePort(t))
	for i := range 3 {
		c.appendMail("amy@ourco.example", "INBOX", "From: li.wei@acme-buyer.de\nTo: amy@ourco.example\nSubject: RFQ "+strconv.Itoa(i)+
			"\nMessage-ID: <p-"+strconv.Itoa(i)+"@acme-buyer.de>\n\nPlease quote.\n")
	}
	master, slave := openPTY(t)
	defer master.Close()
	cmd := exec.Command(c.bin, "--config", c.config, "sync", "--once")
	cmd.Stderr = slave
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&screen, master); close(done) }()
	if err := cmd.Run(); err != nil {
		t.Fatalf("sync on a terminal: %v\n%s", err, screen.String())
	}
	slave.Close()
	<-done // the master reads EIO once the last slave is closed
	if s := screen.String(); !strings.Contains(s, "\x1b[2Kamy@ourco.example [###") || !strings.Contains(s, " 3/3 ") || !strings.Contains(s, "done") {
		t.Errorf("no progress bar on the terminal:\n%q", s)
	}

	c.appendMail("bob@ourco.example", "INBOX", "From: li.wei@acme-buyer.de\nTo: bob@ourco.example\nSubject: RFQ\nMessage-ID: <p-bob@acme-buyer.de>\n\nPlease quote.\n")
	_, errs, code := c.run("sync", "--once")
	if code != 0 || !strings.Contains(errs, `msg="sync progress" rep=bob@ourco.example folder=INBOX messages=1 left=0`) || strings.Contains(errs, "\x1b[") {
		t.Errorf("sync to a pipe: exit %d, stderr:\n%s", code, errs)
	}
}
