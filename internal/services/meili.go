package services

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// MeiliVersion is the Meilisearch release scripts/install-deps.sh installs.
const MeiliVersion = "1.21.0"

// Meili is a running Meilisearch server on 127.0.0.1.
type Meili struct {
	Dir       string // service directory: database in Dir/data.ms, log in Dir/meili.log
	URL       string // e.g. http://127.0.0.1:PORT
	MasterKey string // kept in Dir/master-key so a reused Dir keeps its key

	proc *proc
}

// MeiliBinary returns the Meilisearch binary: $MAILTRAIL_MEILI_BIN if set,
// else where scripts/install-deps.sh puts it,
// ${XDG_CACHE_HOME:-$HOME/.cache}/mailtrail/meilisearch-VERSION/meilisearch.
func MeiliBinary() (string, error) {
	if p := os.Getenv("MAILTRAIL_MEILI_BIN"); p != "" {
		return findBinary("meilisearch ($MAILTRAIL_MEILI_BIN)", p)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("meilisearch: %w", err)
	}
	return findBinary("meilisearch", filepath.Join(cache, "mailtrail", "meilisearch-"+MeiliVersion, "meilisearch"))
}

// StartMeili runs Meilisearch with its database under dir (reused if
// present) and waits until GET /health answers. Indexing memory is capped
// at 512 MiB: uncapped, 1.21 peaks near 1.8 GB. ctx bounds start-up only.
func StartMeili(ctx context.Context, dir string, log *slog.Logger) (*Meili, error) {
	log = discardIfNil(log)
	begin := time.Now()
	bin, err := MeiliBinary()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	key, err := readOrCreate(filepath.Join(dir, "master-key"), 24) // Meilisearch wants >= 16 bytes
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // a free port can be taken before meilisearch binds it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		m, err := startMeiliOn(ctx, bin, dir, key, port)
		if err == nil {
			log.Info("meilisearch started", "dir", dir, "url", m.URL, "took", time.Since(begin).Round(time.Millisecond))
			return m, nil
		}
		if lastErr = err; !portInUse(err) {
			break
		}
	}
	return nil, lastErr
}

func startMeiliOn(ctx context.Context, bin, dir, key string, port int) (*Meili, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin,
		"--no-analytics",
		"--db-path", filepath.Join(dir, "data.ms"),
		"--dump-dir", filepath.Join(dir, "dumps"),
		"--snapshot-dir", filepath.Join(dir, "snapshots"),
		"--http-addr", addr,
		"--max-indexing-memory", "512MiB",
	)
	cmd.Dir = dir
	// Same as --master-key, but kept out of `ps` output.
	cmd.Env = append(os.Environ(), "MEILI_MASTER_KEY="+key)
	pr, err := startProc("meilisearch", cmd, filepath.Join(dir, "meili.log"), nil)
	if err != nil {
		return nil, err
	}
	m := &Meili{Dir: dir, URL: "http://" + addr, MasterKey: key, proc: pr}
	if err := pr.waitReady(ctx, m.health); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Meili) health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /health: %s", resp.Status)
	}
	return nil
}

// Stop sends SIGTERM and waits for the server to exit.
func (m *Meili) Stop() error {
	return m.proc.terminate(syscall.SIGTERM, 30*time.Second, false)
}

// readOrCreate returns the secret kept in path, first writing a random one
// of n bytes (hex) if there is none, so a reused directory keeps it.
func readOrCreate(path string, n int) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	s := hex.EncodeToString(randomBytes(n))
	return s, os.WriteFile(path, []byte(s+"\n"), 0o600)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return b
}
