package ingest

import (
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailtrail/mailtrail/config"
)

func lst(name string, attrs ...string) listed {
	l := listed{name: name}
	for _, a := range attrs {
		l.attrs = append(l.attrs, imap.MailboxAttr(a))
	}
	return l
}

func TestChooseFolders(t *testing.T) {
	gmail := []listed{
		lst("INBOX"), lst("[Gmail]", `\Noselect`), lst("[Gmail]/All Mail", `\All`), lst("[Gmail]/Drafts", `\Drafts`),
		lst("[Gmail]/Important", `\Important`), lst("[Gmail]/Sent Mail", `\Sent`), lst("[Gmail]/Spam", `\Junk`),
		lst("[Gmail]/Starred", `\Flagged`), lst("[Gmail]/Trash", `\Trash`), lst("Customers/Acme"),
	}
	qq := []listed{ // no special-use: localized names
		lst("INBOX"), lst("Sent Messages"), lst("Drafts"), lst("Deleted Messages"), lst("Junk"), lst("其他文件夹/客户A"),
	}
	netease := []listed{
		lst("INBOX"), lst("草稿箱"), lst("已发送"), lst("已删除"), lst("垃圾邮件"), lst("病毒邮件"), lst("广告邮件"), lst("客户/德国"),
	}
	outlook := []listed{
		lst("INBOX"), lst("Sent Items", `\Sent`), lst("Deleted Items", `\Trash`), lst("Junk Email", `\Junk`),
		lst("Outbox"), lst("Archive", `\Archive`), lst("Drafts", `\Drafts`),
	}
	for _, tc := range []struct {
		name string
		list []listed
		sel  config.Folders
		want string
	}{
		{"gmail", gmail, config.Folders{}, "[INBOX/inbox [Gmail]/Sent Mail/sent Customers/Acme/other]"},
		{"qq by name", qq, config.Folders{}, "[INBOX/inbox Sent Messages/sent 其他文件夹/客户A/other]"},
		{"163 by name", netease, config.Folders{}, "[INBOX/inbox 已发送/sent 客户/德国/other]"},
		{"outlook", outlook, config.Folders{}, "[INBOX/inbox Sent Items/sent Archive/archive]"},
		{"include names, globs and special-use", netease, config.Folders{Include: []string{"inbox", "客户/*", "垃圾邮件"}},
			"[INBOX/inbox 垃圾邮件/other 客户/德国/other]"},
		{"include special-use", gmail, config.Folders{Include: []string{"INBOX", `\Junk`}}, "[INBOX/inbox [Gmail]/Spam/other]"},
		{"exclude wins", outlook, config.Folders{Include: []string{"*"}, Exclude: []string{"arch*", "Outbox"}},
			"[INBOX/inbox Sent Items/sent Deleted Items/other Drafts/other Junk Email/other]"},
		{"a wildcard never reads All Mail", gmail, config.Folders{Include: []string{"*"}, Exclude: []string{`\Trash`, `\Junk`, `\Drafts`}},
			"[INBOX/inbox [Gmail]/Sent Mail/sent Customers/Acme/other]"},
		{"All Mail by its exact name", gmail, config.Folders{Include: []string{"[Gmail]/All Mail"}}, "[[Gmail]/All Mail/other]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range chooseFolders(tc.list, tc.sel) {
				got = append(got, f.Name+"/"+f.Role)
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("got  %v\nwant %s", got, tc.want)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "anything", true}, {"客户/*", "客户/德国", true}, {"客户/*", "客户", false}, {"a*c", "abbbc", true},
		{"a*c", "abbb", false}, {"*德国", "客户/德国", true}, {"inbox", "inbox", true}, {"in", "inbox", false},
	} {
		if got := glob(tc.p, tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

func TestBackoff(t *testing.T) {
	s := &Syncer{cfg: &config.Config{Sync: config.Sync{RetryMin: time.Second, RetryMax: 8 * time.Second}}}
	for _, tc := range []struct {
		n      int
		lo, hi time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second}, {2, time.Second, 2 * time.Second}, {3, 2 * time.Second, 4 * time.Second},
		{4, 4 * time.Second, 8 * time.Second}, {5, 4 * time.Second, 8 * time.Second}, {80, 4 * time.Second, 8 * time.Second},
	} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := s.backoff(tc.n)
			if d < tc.lo || d > tc.hi {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tc.n, d, tc.lo, tc.hi)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d) has no jitter", tc.n)
		}
	}
}
