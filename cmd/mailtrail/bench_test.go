package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/services"
	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/message"
)

// Benchmarks that take minutes and gigabytes; not part of `make test`:
//
//	go test -run '^$' -bench BenchmarkSyncVsMbsync -benchtime 1x -timeout 60m ./cmd/mailtrail/
//	go test -run '^$' -bench BenchmarkIdlePoll -benchtime 1x -timeout 30m ./cmd/mailtrail/
//
// MAILTRAIL_BENCH_MESSAGES changes the mailbox size (default 20000);
// MAILTRAIL_BENCH_PG=socket has the sync reach PostgreSQL through its Unix
// socket instead of TCP on loopback;
// MAILTRAIL_BENCH_CPUPROFILE=FILE runs the sync in the test process
// under the CPU profiler instead of as the binary (no memory figure then);
// MAILTRAIL_BENCH_PGLOG=FILE saves PostgreSQL's log of every statement
// of the sync with its duration, and with MAILTRAIL_BENCH_EXPLAIN_RATE
// (0 to 1) the plans of that share of them, as they ran (auto_explain).

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkSyncVsMbsync loads a mailbox of realistic mail into Dovecot
// (20,000 messages by default: INBOX and Sent, 2 KB to 5 MB, a quarter
// with attachments, generated deterministically), then fetches it with
// mbsync into a Maildir and syncs it with `mailtrail sync --once` (fetch,
// parse, match, classify, commit to PostgreSQL), both over TLS, and
// reports messages/s, MB/s, the binary's peak memory (maxrss) and the
// ratio of the two times (MAILTRAIL_BENCH_RUNS runs of each, default 2).
func BenchmarkSyncVsMbsync(b *testing.B) {
	n := envInt("MAILTRAIL_BENCH_MESSAGES", 20000)
	dc := testenv.Dovecot(b)
	user := testenv.User(b)
	const rep = "amy@ourco.example"
	gen := newMailGen(20000)
	start := time.Now()
	sent := n / 5
	bytes := writeMaildir(b, dc, user, "", n-sent, func() []byte { return gen.sized(rep, false, gen.benchSize()).Raw }, true)
	bytes += writeMaildir(b, dc, user, "Sent", sent, func() []byte { return gen.sized(rep, true, gen.benchSize()).Raw }, true)
	mb := float64(bytes) / (1 << 20)
	b.Logf("mailbox: %d messages, %.0f MB (INBOX %d, Sent %d), written in %v; the sync reaches PostgreSQL over %s", n, mb, n-sent, sent,
		time.Since(start).Round(time.Second), envOr("MAILTRAIL_BENCH_PG", "tcp"))

	// mbsync, twice into fresh Maildirs: the first run also warms
	// Dovecot's caches. The sync runs as often, each into a fresh
	// database, and each side's better run is the figure (the means are
	// reported too): on a machine of few cores every run varies by a tenth.
	runs := envInt("MAILTRAIL_BENCH_RUNS", 2)
	var mbsyncBest, mbsyncSum time.Duration
	for i := range runs {
		before := serviceCPU()
		d, own, settled := mbsync(b, dc, user, n)
		b.Logf("mbsync run %d: %v (%.0f msg/s, %.1f MB/s); CPU of mbsync %v, Dovecot %v; %v to write out dirty pages first", i+1, d.Round(time.Millisecond),
			float64(n)/d.Seconds(), mb/d.Seconds(), own, serviceCPU()["dovecot"].minus(before["dovecot"]), settled)
		if i == 0 || d < mbsyncBest {
			mbsyncBest = d
		}
		mbsyncSum += d
	}

	b.ResetTimer()
	var best, sum time.Duration
	var peak, bestCPU float64
	for i := range runs {
		r := benchSync(b, rep, user, n)
		b.Logf("mailtrail sync --once run %d: %v (%.0f msg/s, %.1f MB/s), peak RSS %.0f MB; CPU of mailtrail %v, %s; %v to write out dirty pages first",
			i+1, r.took.Round(time.Millisecond), float64(n)/r.took.Seconds(), mb/r.took.Seconds(), r.maxrssMB, r.cpu, r.services, r.settled)
		if i == 0 || r.took < best {
			best, bestCPU = r.took, r.cpu.total
		}
		sum += r.took
		peak = max(peak, r.maxrssMB)
	}
	b.StopTimer()
	if bestCPU > 0 {
		b.ReportMetric(bestCPU*1000/float64(n), "cpu_ms/msg")
	}
	b.ReportMetric(float64(n)/best.Seconds(), "msgs/s")
	b.ReportMetric(mb/best.Seconds(), "MB/s")
	b.ReportMetric(best.Seconds(), "sync_s")
	b.ReportMetric(mbsyncBest.Seconds(), "mbsync_s")
	b.ReportMetric(best.Seconds()/mbsyncBest.Seconds(), "ratio")
	b.ReportMetric(sum.Seconds()/mbsyncSum.Seconds(), "ratio_mean")
	if peak > 0 {
		b.ReportMetric(peak, "peak_MB")
	}
	b.Logf("mailtrail sync --once: best %v (%.0f msg/s, %.1f MB/s), peak RSS %.0f MB; mbsync best %v; ratio %.2f (of the means %.2f)",
		best.Round(time.Millisecond), float64(n)/best.Seconds(), mb/best.Seconds(), peak, mbsyncBest.Round(time.Millisecond),
		best.Seconds()/mbsyncBest.Seconds(), sum.Seconds()/mbsyncSum.Seconds())
}

// benchDatabaseURL is how the sync reaches the database: over TCP on
// loopback (MAILTRAIL_BENCH_PG=tcp, the default), or through the
// cluster's Unix socket (socket), as a daemon on PostgreSQL's own host
// can.
func benchDatabaseURL(b *testing.B, dbURL string) string {
	switch v := envOr("MAILTRAIL_BENCH_PG", "tcp"); v {
	case "tcp":
		return dbURL
	case "socket":
		return testenv.SocketURL(b, dbURL)
	default:
		b.Fatalf("MAILTRAIL_BENCH_PG=%q: want tcp or socket", v)
		return ""
	}
}

// settle writes out what the page cache holds dirty before a timed run,
// so that no run pays for the writeback of what came before it: the
// mailbox written into Dovecot, an earlier run's Maildir or database.
// (It takes 20-160 ms, 2 s before mbsync's first run. The first runs of
// both sides stay the slower ones, so writeback is not why; this
// machine's memory is, see the README's note below its benchmarks.)
func settle() time.Duration {
	begin := time.Now()
	syscall.Sync()
	return time.Since(begin).Round(time.Millisecond)
}

// syncRun is what one run of the sync measured.
type syncRun struct {
	took     time.Duration
	maxrssMB float64       // 0 when run in the test process
	cpu      cpuUse        // likewise
	services string        // the CPU of the services meanwhile
	settled  time.Duration // settle before it
}

// benchSync syncs rep's mailbox (n messages) into a fresh database with
// `mailtrail sync --once`, or in the test process under the CPU profiler
// (MAILTRAIL_BENCH_CPUPROFILE), and logs the services' CPU meanwhile.
func benchSync(b *testing.B, rep, user string, n int) syncRun {
	dbURL := testenv.MigratedPostgres(b)
	cfgPath := syncConfig(b, benchDatabaseURL(b, dbURL), [][2]string{{rep, user}}, "")
	pgLog := os.Getenv("MAILTRAIL_BENCH_PGLOG")
	if pgLog != "" {
		conn, err := pgx.Connect(context.Background(), dbURL)
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range []string{`LOAD 'auto_explain'`, `ALTER SYSTEM SET log_min_duration_statement = 0`, `ALTER SYSTEM SET log_parameter_max_length = 64`,
			`ALTER SYSTEM SET session_preload_libraries = 'auto_explain'`, `ALTER SYSTEM SET auto_explain.log_min_duration = 0`,
			`ALTER SYSTEM SET auto_explain.sample_rate = ` + envOr("MAILTRAIL_BENCH_EXPLAIN_RATE", "0"),
			`ALTER SYSTEM SET auto_explain.log_analyze = on`, `ALTER SYSTEM SET auto_explain.log_nested_statements = on`,
			`SELECT pg_reload_conf()`} {
			if _, err := conn.Exec(context.Background(), q); err != nil {
				b.Fatal(err)
			}
		}
		conn.Close(context.Background())
	}
	var r syncRun
	prof := os.Getenv("MAILTRAIL_BENCH_CPUPROFILE")
	var bin string
	if prof == "" {
		bin = buildBinary(b) // before settle: linking writes the binary
	}
	r.settled = settle()
	servicesBefore := serviceCPU()
	if prof != "" {
		r.took = syncInProcess(b, cfgPath, prof)
	} else {
		resetPeakRSS(b)
		cmd := exec.Command(bin, "--config", cfgPath, "sync", "--once")
		begin := time.Now()
		out, err := cmd.CombinedOutput()
		r.took = time.Since(begin)
		if err != nil {
			b.Fatalf("sync --once: %v\n%s", err, lastLines(string(out), 20))
		}
		r.maxrssMB = float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
		r.cpu = processCPU(cmd.ProcessState)
	}
	// Where the CPU went: on a machine with few cores, the services'
	// time competes with the sync's own.
	after := serviceCPU()
	r.services = fmt.Sprintf("PostgreSQL %v, Dovecot %v", after["postgres"].minus(servicesBefore["postgres"]), after["dovecot"].minus(servicesBefore["dovecot"]))
	if pgLog != "" {
		// The server's log, every statement with its duration, kept before
		// the harness removes the cluster.
		logs, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("mailtrail-testenv-%d-*", os.Getpid()), "postgres", "postgres.log"))
		for _, l := range logs {
			copyFile(b, l, pgLog) // streamed: see resetPeakRSS
		}
	}
	if stored := countRows(b, dbURL, `SELECT count(*) FROM message_locations`); stored != int64(n) {
		b.Errorf("stored %d locations, want %d", stored, n)
	}
	// The next run starts clean: no autovacuum of this run's tables, no
	// dirty pages of it left to write.
	testenv.DropDatabase(b, dbURL)
	return r
}

// resetPeakRSS resets this process's peak RSS. Go starts a command with
// vfork (CLONE_VM), and Linux records the peak RSS of the memory the child
// leaves at exec, this process's, in the child's: the sync's maxrss read
// 317 MB once this process had read a 170 MB PostgreSQL log, 148 MB
// otherwise.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("peak RSS not reset (%v): the sync's may read as this process's", err)
	}
}

// copyFile copies src to dst without holding it in memory.
func copyFile(b *testing.B, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		b.Error(err)
		return
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Error(err)
		return
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		b.Error(err)
	}
}

// mbsync fetches user's INBOX and Sent from Dovecot over TLS into a fresh
// Maildir, as `mbsync -a` with FSync off (the test PostgreSQL runs with
// fsync off too), checks that the n messages arrived, and returns how long
// it took, the CPU it used, and how long settle took before it.
func mbsync(b *testing.B, dc *services.Dovecot, user string, n int) (took time.Duration, cpu cpuUse, settled time.Duration) {
	b.Helper()
	dir := b.TempDir()
	ca := dc.CertFile
	// mbsync 1.4 checks DNS names only: the certificate has "localhost".
	_, port, _ := net.SplitHostPort(dc.TLSAddr)
	host := "localhost"
	rc := fmt.Sprintf(`FSync no

IMAPAccount bench
Host %s
Port %s
User %s
Pass %s
SSLType IMAPS
CertificateFile %s

IMAPStore remote
Account bench

MaildirStore local
Path %s/mail/
Inbox %s/mail/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX Sent
Create Near
Sync Pull
SyncState *
`, host, port, user, dc.Password, ca, dir, dir)
	os.WriteFile(filepath.Join(dir, "mbsyncrc"), []byte(rc), 0o600)
	os.MkdirAll(filepath.Join(dir, "mail"), 0o700)
	cmd := exec.Command("mbsync", "-q", "-c", filepath.Join(dir, "mbsyncrc"), "-a")
	settled = settle()
	begin := time.Now()
	out, err := cmd.CombinedOutput()
	took = time.Since(begin)
	if err != nil {
		b.Fatalf("mbsync: %v\n%s", err, out)
	}
	files := 0
	filepath.WalkDir(filepath.Join(dir, "mail"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (filepath.Base(filepath.Dir(p)) == "cur" || filepath.Base(filepath.Dir(p)) == "new") {
			files++
		}
		return nil
	})
	if files != n {
		b.Errorf("mbsync: %d messages in the Maildir, want %d", files, n)
	}
	os.RemoveAll(dir) // gigabytes: free them before the next run
	return took, processCPU(cmd.ProcessState), settled
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func countRows(b testing.TB, url, q string) int64 {
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	var n int64
	if err := pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// syncInProcess runs one sync pass in this process under the CPU profiler.
func syncInProcess(b *testing.B, cfgPath, prof string) time.Duration {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	a, err := open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer a.close()
	f, err := os.Create(prof)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	pprof.StartCPUProfile(f)
	start := time.Now()
	err = a.syncer.SyncOnce(ctx)
	took := time.Since(start)
	pprof.StopCPUProfile()
	if err != nil {
		b.Fatal(err)
	}
	return took
}

// BenchmarkIdlePoll measures one poll cycle over 500 mailboxes that have
// no new mail (each holds a few messages, synced before), over TLS: as
// the daemon polls (Poller: connections kept from one cycle to the next)
// and as `sync --once` does (a fresh connection per mailbox). Round trips
// are the syncer's own count; the IMAP commands are counted by a proxy
// on the plaintext port (TLS hides them) in a second, identical cycle.
func BenchmarkIdlePoll(b *testing.B) {
	n := envInt("MAILTRAIL_BENCH_MAILBOXES", 500)
	dc := testenv.Dovecot(b)
	gen := newMailGen(500)
	var reps [][2]string
	base := testenv.User(b)
	for i := range n {
		user := fmt.Sprintf("%s-%d", base, i)
		rep := fmt.Sprintf("rep%d@ourco.example", i)
		reps = append(reps, [2]string{rep, user})
		writeMaildir(b, dc, user, "", 2, func() []byte { return gen.next(rep, false, 0).Raw }, false)
		writeMaildir(b, dc, user, "Sent", 1, func() []byte { return gen.next(rep, true, 0).Raw }, false)
	}
	dbURL := testenv.MigratedPostgres(b)
	ctx := context.Background()
	// A cycle: time, the syncer's round trips, and (through the proxy)
	// commands and connections.
	type cycle struct {
		took            time.Duration
		roundTrips      int64
		commands, conns int64
		verbs           map[string]int
	}
	measure := func(a *app, poll func() error, px *countingProxy) cycle {
		rt := a.syncer.RoundTrips()
		var c0, n0 int64
		if px != nil {
			c0, n0 = px.commands.Load(), px.conns.Load()
			px.reset()
		}
		begin := time.Now()
		if err := poll(); err != nil {
			b.Fatal(err)
		}
		c := cycle{took: time.Since(begin), roundTrips: a.syncer.RoundTrips() - rt}
		if px != nil {
			c.commands, c.conns, c.verbs = px.commands.Load()-c0, px.conns.Load()-n0, px.byVerb()
		}
		return c
	}

	tlsApp := inProcess(b, syncConfig(b, dbURL, reps, ""))
	poller := tlsApp.syncer.NewPoller()
	defer poller.Close()
	first := measure(tlsApp, func() error { return poller.PollOnce(ctx) }, nil)
	b.Logf("first cycle (sync of %d mailboxes, %d messages): %v", n, 3*n, first.took.Round(time.Millisecond))
	if got := countRows(b, dbURL, `SELECT count(*) FROM message_locations`); got != int64(3*n) {
		b.Fatalf("stored %d locations, want %d", got, 3*n)
	}
	b.ResetTimer()
	kept := measure(tlsApp, func() error { return poller.PollOnce(ctx) }, nil)
	b.StopTimer()
	fresh := measure(tlsApp, func() error { return tlsApp.syncer.SyncOnce(ctx) }, nil)

	// The same two cycles through a counting proxy, in plaintext.
	px := newCountingProxy(b, dc.Addr)
	host, port, _ := net.SplitHostPort(px.addr)
	plain := syncConfig(b, dbURL, reps, "")
	cfgText, _ := os.ReadFile(plain)
	_, dport, _ := net.SplitHostPort(dc.TLSAddr)
	text := strings.ReplaceAll(string(cfgText), "port: "+dport+",", "port: "+port+", tls: none,")
	text = strings.ReplaceAll(text, "host: 127.0.0.1,", "host: "+host+",")
	os.WriteFile(plain, []byte(text), 0o600)
	plainApp := inProcess(b, plain)
	plainPoller := plainApp.syncer.NewPoller()
	defer plainPoller.Close()
	measure(plainApp, func() error { return plainPoller.PollOnce(ctx) }, px) // connects
	keptPlain := measure(plainApp, func() error { return plainPoller.PollOnce(ctx) }, px)
	freshPlain := measure(plainApp, func() error { return plainApp.syncer.SyncOnce(ctx) }, px)
	plainPoller.Close()
	px.close()

	per := func(v int64) float64 { return float64(v) / float64(n) }
	b.ReportMetric(kept.took.Seconds(), "cycle_s")
	b.ReportMetric(per(kept.roundTrips), "roundtrips/mailbox")
	b.ReportMetric(per(keptPlain.commands), "cmds/mailbox")
	b.ReportMetric(fresh.took.Seconds(), "fresh_cycle_s")
	b.ReportMetric(per(fresh.roundTrips), "fresh_roundtrips/mailbox")
	for _, c := range []struct {
		name       string
		tls, plain cycle
	}{{"kept connections (serve)", kept, keptPlain}, {"fresh connections (sync --once)", fresh, freshPlain}} {
		b.Logf("idle cycle over %d mailboxes, %s: %v over TLS (%.1f ms per mailbox), %d round trips (%.2f per mailbox); "+
			"in plaintext through the proxy: %d round trips, %d IMAP commands (%.2f per mailbox), %d new connections, %v",
			n, c.name, c.tls.took.Round(time.Millisecond), float64(c.tls.took.Microseconds())/1000/float64(n),
			c.tls.roundTrips, per(c.tls.roundTrips), c.plain.roundTrips, c.plain.commands, per(c.plain.commands), c.plain.conns, c.plain.verbs)
	}
}

// inProcess wires the app from a config file, in this process.
func inProcess(b *testing.B, path string) *app {
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	a, err := open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.close)
	return a
}

// BenchmarkPrepareCPU measures the CPU the pipeline's pure part (parse,
// match, classify) spends on the benchmark's mail, by CPU time rather
// than wall time so that a busy machine does not distort it; the split
// says how much of it is MIME parsing and how much classification.
func BenchmarkPrepareCPU(b *testing.B) {
	gen := newMailGen(20000)
	var raws [][]byte
	var total int64
	for range 400 {
		raw := []byte(strings.ReplaceAll(string(gen.sized("amy@ourco.example", false, gen.benchSize()).Raw), "\n", "\r\n"))
		raws = append(raws, raw)
		total += int64(len(raw))
	}
	cfg := &config.Config{Database: config.Database{URL: "postgres://unused"}, Meilisearch: config.Meilisearch{URL: "http://unused"},
		Company: config.Company{Name: "Our Co", Domains: []string{"ourco.example"}},
		Reps:    []config.Rep{{Email: "amy@ourco.example", IMAP: config.IMAP{Host: "x", Password: "x"}}}}
	if err := cfg.Finish(); err != nil {
		b.Fatal(err)
	}
	pipe := ingest.NewPipeline(cfg, nil, classify.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	var parseCPU, prepCPU time.Duration
	for range b.N {
		c0 := cpu()
		for _, raw := range raws {
			message.Parse(raw)
		}
		c1 := cpu()
		for _, raw := range raws {
			pipe.Prepare(raw, "amy@ourco.example", "inbox")
		}
		parseCPU += c1 - c0
		prepCPU += cpu() - c1
	}
	mb := float64(total) * float64(b.N) / (1 << 20)
	b.ReportMetric(mb/prepCPU.Seconds(), "MB/cpu-s")
	b.ReportMetric(float64(prepCPU.Microseconds())/1000/float64(len(raws)*b.N), "cpu-ms/msg")
	b.ReportMetric(parseCPU.Seconds()/prepCPU.Seconds()*100, "%parse")
	b.Logf("%d messages, %.1f MB: Prepare %.1f MB per CPU-second, %.2f CPU-ms per message; message.Parse alone is %.0f%% of it",
		len(raws), float64(total)/(1<<20), mb/prepCPU.Seconds(), float64(prepCPU.Microseconds())/1000/float64(len(raws)*b.N),
		parseCPU.Seconds()/prepCPU.Seconds()*100)
}
