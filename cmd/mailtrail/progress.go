package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"golang.org/x/sys/unix"

	"github.com/mailtrail/mailtrail/ingest"
)

// progress shows how `sync --once` advances, per mailbox: on a terminal a
// bar per mailbox redrawn in place (messages, bytes, rate, time left),
// with log lines printed above the bars; elsewhere (a pipe, a log file,
// systemd) a plain log line per mailbox every few seconds.
type progress struct {
	mu       sync.Mutex
	out      io.Writer
	tty      bool
	width    int
	now      func() time.Time
	start    time.Time
	boxes    map[string]*boxProgress
	drawn    int // bar lines on screen
	lastDraw time.Time
	log      *slog.Logger // for the plain lines; nil on a terminal
	every    time.Duration
}

// boxProgress is one mailbox's progress.
type boxProgress struct {
	done      int
	bytes     int64
	remaining map[string]int // by folder: what its current run still plans
	lastLog   time.Time
}

// newProgress returns a progress display on stderr: bars when stderr is a
// terminal, else log lines through log.
func newProgress(log *slog.Logger) *progress {
	fd := os.Stderr.Fd()
	p := &progress{out: os.Stderr, tty: isatty.IsTerminal(fd), width: 100, now: time.Now,
		boxes: map[string]*boxProgress{}, every: 5 * time.Second, log: log}
	if ws, err := unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ); err == nil && ws.Col > 20 {
		p.width = int(ws.Col)
	}
	p.start = p.now()
	return p
}

// update takes one stored batch (Syncer.OnProgress).
func (p *progress) update(ev ingest.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.boxes[ev.Rep]
	if b == nil {
		b = &boxProgress{remaining: map[string]int{}}
		p.boxes[ev.Rep] = b
	}
	b.done += ev.Messages
	b.bytes += ev.Bytes
	b.remaining[ev.Folder] = ev.Remaining
	now := p.now()
	if p.tty {
		if now.Sub(p.lastDraw) >= 100*time.Millisecond || ev.Remaining == 0 {
			p.draw(now)
		}
		return
	}
	if p.log != nil && (now.Sub(b.lastLog) >= p.every || ev.Remaining == 0) {
		b.lastLog = now
		left, msgRate, byteRate, eta := p.rates(b, now)
		p.log.Info("sync progress", "rep", ev.Rep, "folder", ev.Folder, "messages", b.done, "left", left,
			"bytes", human(b.bytes), "per_second", fmt.Sprintf("%.0f msg, %s", msgRate, human(int64(byteRate))), "eta", clock(eta))
	}
}

// rates returns what is left and the speed since the start.
func (p *progress) rates(b *boxProgress, now time.Time) (left int, msgRate, byteRate float64, eta time.Duration) {
	for _, n := range b.remaining {
		left += n
	}
	secs := max(now.Sub(p.start).Seconds(), 0.001)
	msgRate, byteRate = float64(b.done)/secs, float64(b.bytes)/secs
	if msgRate > 0 {
		eta = time.Duration(float64(left) / msgRate * float64(time.Second))
	}
	return left, msgRate, byteRate, eta
}

// draw redraws the bars in place: up to the first bar, then one line each.
func (p *progress) draw(now time.Time) {
	p.lastDraw = now
	var buf bytes.Buffer
	if p.drawn > 0 {
		fmt.Fprintf(&buf, "\x1b[%dA", p.drawn)
	}
	reps := make([]string, 0, len(p.boxes))
	for r := range p.boxes {
		reps = append(reps, r)
	}
	slices.Sort(reps)
	for _, r := range reps {
		buf.WriteString("\r\x1b[2K")
		buf.WriteString(p.line(r, p.boxes[r], now))
		buf.WriteByte('\n')
	}
	p.drawn = len(reps)
	p.out.Write(buf.Bytes())
}

// line is one mailbox's bar:
// amy@ourco.example [########------]  1200/3000  45.2 MB  310 msg/s 2.1 MB/s  0:06 left
func (p *progress) line(rep string, b *boxProgress, now time.Time) string {
	left, msgRate, byteRate, eta := p.rates(b, now)
	total := b.done + left
	stats := fmt.Sprintf(" %d/%d  %s  %.0f msg/s %s/s  %s left", b.done, total, human(b.bytes), msgRate, human(int64(byteRate)), clock(eta))
	if left == 0 {
		stats = fmt.Sprintf(" %d/%d  %s  %.0f msg/s %s/s  done", b.done, total, human(b.bytes), msgRate, human(int64(byteRate)))
	}
	name := rep
	if len(name) > 28 {
		name = name[:27] + "…"
	}
	barWidth := p.width - len(name) - len(stats) - 4
	if barWidth < 5 {
		return truncate(name+stats, p.width-1)
	}
	filled := barWidth
	if total > 0 {
		filled = barWidth * b.done / total
	}
	return fmt.Sprintf("%s [%s%s]%s", name, strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), stats)
}

// Write prints log output above the bars, so that both stay readable.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty || p.drawn == 0 {
		return p.out.Write(b)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "\x1b[%dA", p.drawn)
	for _, line := range strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n") {
		buf.WriteString("\r\x1b[2K" + strings.TrimSuffix(line, "\n") + "\n")
	}
	p.out.Write(buf.Bytes())
	p.drawn = 0
	p.draw(p.now())
	return len(b), nil
}

// finish draws the final state of the bars.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && len(p.boxes) > 0 {
		p.draw(p.now())
	}
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:max(n, 0)]
}

// syncLogger returns the logger for `sync --once` and its progress
// display: on a terminal, log lines go through the display.
func syncLogger(e *env) (*slog.Logger, *progress) {
	p := newProgress(e.log)
	if !p.tty {
		return e.log, p
	}
	level := slog.LevelInfo
	if e.log.Enabled(context.Background(), slog.LevelDebug) {
		level = slog.LevelDebug
	}
	p.log = nil
	return slog.New(slog.NewTextHandler(p, &slog.HandlerOptions{Level: level})), p
}
