package services

import (
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
			break
		}
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
