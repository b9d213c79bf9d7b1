package services

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is the unprivileged identity a server runs as.
type account struct {
	Name, Group string
	UID, GID    int
}

// credential returns the SysProcAttr credential for a, or nil when we
// already are that user (no switch needed, and non-root cannot switch).
func (a account) credential() *syscall.Credential {
	if os.Geteuid() == a.UID {
		return nil
	}
	return &syscall.Credential{Uid: uint32(a.UID), Gid: uint32(a.GID), NoSetGroups: true}
}

// serverAccount returns who runs servers that refuse root (PostgreSQL) and
// owns Dovecot's maildirs: ourselves when not root; as root the `postgres`
// system user if Debian's package made it, else a `mailtrail` system user
// created here.
func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		return currentAccount()
	}
	if a, err := lookupAccount("postgres"); err == nil {
		return a, nil
	}
	if a, err := lookupAccount("mailtrail"); err == nil {
		return a, nil
	}
	out, err := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "mailtrail").CombinedOutput()
	if err != nil {
		return account{}, fmt.Errorf("create system user mailtrail: %v: %s", err, out)
	}
	return lookupAccount("mailtrail")
}

func currentAccount() (account, error) {
	u, err := user.Current()
	if err != nil {
		return account{}, err
	}
	return accountOf(u)
}

func lookupAccount(name string) (account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return account{}, err
	}
	return accountOf(u)
}

func accountOf(u *user.User) (account, error) {
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return account{}, fmt.Errorf("user %s: non-numeric uid/gid %q/%q", u.Username, u.Uid, u.Gid)
	}
	a := account{Name: u.Username, Group: u.Username, UID: uid, GID: gid}
	if g, err := user.LookupGroupId(u.Gid); err == nil {
		a.Group = g.Name
	}
	return a, nil
}

// handOver makes dir (created if needed) owned by a and checks that a can
// reach it: a 0700 parent, like the one t.TempDir makes, would otherwise
// surface later as an obscure "permission denied" from the server.
func handOver(dir string, a account) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return nil
	}
	if err := reachable(dir, a); err != nil {
		return err
	}
	if st, err := os.Stat(dir); err == nil && int(st.Sys().(*syscall.Stat_t).Uid) == a.UID {
		return nil // handed over on an earlier run
	}
	return filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, a.UID, a.GID)
	})
}

// reachable reports the first parent of dir that a cannot search.
func reachable(dir string, a account) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		sys := st.Sys().(*syscall.Stat_t)
		if st.Mode()&0o001 == 0 && int(sys.Uid) != a.UID {
			return fmt.Errorf("%s is not searchable by user %s (mode %v): put the data under a directory with o+x parents",
				p, a.Name, st.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// relocatedRoot is where, as root, a server's data goes when the server's
// account cannot reach the directory asked for.
var relocatedRoot = "/var/lib/mailtrail"

// relocate returns where a server running as a keeps the data asked for
// at dir. As root in a clone under /root (0700 on Debian), the postgres
// user cannot get in: the data then lives under /var/lib/mailtrail, in a
// directory named after dir's path, and dir becomes a link to it, so that
// `make run` works from any clone and finds its cluster again next time.
// A dir that already holds a cluster is never moved.
func relocate(dir string, a account) (string, error) {
	if os.Geteuid() != 0 {
		return dir, nil
	}
	if target, err := filepath.EvalSymlinks(dir); err == nil && target != dir {
		return target, nil // linked on an earlier run
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	unreachable := reachable(dir, a)
	if unreachable == nil {
		return dir, nil
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", unreachable
	}
	sum := sha256.Sum256([]byte(dir))
	target := filepath.Join(relocatedRoot, hex.EncodeToString(sum[:6])+"-"+filepath.Base(dir))
	if err := os.MkdirAll(target, 0o755); err != nil {
		return "", err
	}
	if err := reachable(target, a); err != nil {
		return "", fmt.Errorf("%w (and %v)", unreachable, err)
	}
	os.Remove(dir) // an empty directory, or nothing
	if err := os.Symlink(target, dir); err != nil {
		return "", fmt.Errorf("link %s to %s: %w", dir, target, err)
	}
	return target, nil
}
