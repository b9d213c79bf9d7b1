package ingest

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/mailtrail/mailtrail/config"
)

// Folder roles.
const (
	RoleInbox   = "inbox"
	RoleSent    = "sent"
	RoleArchive = "archive"
	RoleOther   = "other"
)

// Folder is a folder to sync and its role.
type Folder struct {
	Name string // decoded from modified UTF-7 (RFC 3501 5.1.3) by go-imap
	Role string
}

// listed is one folder of a LIST answer, with its STATUS when the server
// returned it (LIST-STATUS, RFC 5819).
type listed struct {
	name   string
	attrs  []imap.MailboxAttr
	status *imap.StatusData
}

// sentNames are localized names of the sent folder, tried when no folder
// carries the \Sent special-use attribute (RFC 6154).
var sentNames = []string{
	"Sent", "Sent Messages", "Sent Items", "Sent Mail", "[Gmail]/Sent Mail",
	"已发送", "已发送邮件", "已傳送郵件", "寄件備份", "Gesendet", "Gesendete Objekte",
	"Отправленные", "Enviados", "Elementos enviados", "Itens Enviados",
	"Envoyés", "Éléments envoyés", "送信済み", "送信済みメール", "المرسلة",
	"INBOX.Sent", "INBOX/Sent",
}

// skippedNames are folders not read by default when the server marks no
// special-use: junk, trash, drafts and unsent mail, in the languages reps'
// mail clients use.
var skippedNames = []string{
	// junk
	"Junk", "Spam", "Junk E-mail", "Junk Email", "Junk Mail", "Bulk Mail", "垃圾邮件", "垃圾郵件", "垃圾箱",
	"病毒邮件", "病毒文件夹", "广告邮件", "Spamverdacht", "Courrier indésirable", "Correo no deseado",
	"Нежелательная почта", "Спам", "迷惑メール",
	// trash
	"Trash", "Deleted", "Deleted Items", "Deleted Messages", "Bin", "已删除", "已删除邮件", "已刪除", "已刪除郵件",
	"垃圾桶", "Papierkorb", "Gelöschte Elemente", "Corbeille", "Éléments supprimés", "Papelera",
	"Elementos eliminados", "Корзина", "Удаленные", "ゴミ箱", "Lixeira", "Itens Excluídos",
	// drafts and unsent
	"Drafts", "Draft", "草稿箱", "草稿", "草稿夹", "Entwürfe", "Brouillons", "Borradores", "Черновики", "下書き",
	"Rascunhos", "Outbox", "发件箱", "Sync Issues",
}

// skippedAttrs are special-use folders (RFC 6154) not read by default.
var skippedAttrs = []imap.MailboxAttr{imap.MailboxAttrJunk, imap.MailboxAttrTrash, imap.MailboxAttrDrafts}

// virtualAttrs mark folders that only show messages kept elsewhere
// (Gmail's All Mail, Starred, Important): reading them would fetch every
// message twice. They are read only when included by their exact name.
var virtualAttrs = []imap.MailboxAttr{imap.MailboxAttrAll, imap.MailboxAttrFlagged, imap.MailboxAttr(`\Important`)}

// chooseFolders picks the folders to sync from a LIST answer: every
// selectable folder except junk, trash, drafts and virtual folders, found
// by special-use first and by localized name when the server marks none;
// then the rep's include and exclude lists. INBOX comes first, then the
// sent folders, then the rest by name.
func chooseFolders(list []listed, sel config.Folders) []Folder {
	hasSent := false
	for _, l := range list {
		if slices.Contains(l.attrs, imap.MailboxAttrSent) {
			hasSent = true
		}
	}
	var out []Folder
	for _, l := range list {
		if hasAttr(l.attrs, imap.MailboxAttrNoSelect) || hasAttr(l.attrs, imap.MailboxAttrNonExistent) {
			continue
		}
		role := roleOf(l, hasSent)
		virtual := hasAnyAttr(l.attrs, virtualAttrs)
		skipped := hasAnyAttr(l.attrs, skippedAttrs) || !hasSpecialUse(l.attrs) && nameIn(l.name, skippedNames)
		want := !virtual && !skipped
		if len(sel.Include) > 0 {
			want = false
			for _, p := range sel.Include {
				if virtual && !strings.EqualFold(p, l.name) {
					continue
				}
				if matchFolder(p, l) {
					want = true
					break
				}
			}
		}
		for _, p := range sel.Exclude {
			if matchFolder(p, l) {
				want = false
			}
		}
		if want {
			out = append(out, Folder{Name: l.name, Role: role})
		}
	}
	rank := map[string]int{RoleInbox: 0, RoleSent: 1, RoleArchive: 2, RoleOther: 3}
	sort.SliceStable(out, func(i, j int) bool {
		if rank[out[i].Role] != rank[out[j].Role] {
			return rank[out[i].Role] < rank[out[j].Role]
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func roleOf(l listed, hasSent bool) string {
	switch {
	case strings.EqualFold(l.name, "INBOX"):
		return RoleInbox
	case hasAttr(l.attrs, imap.MailboxAttrSent):
		return RoleSent
	case !hasSent && !hasSpecialUse(l.attrs) && nameIn(l.name, sentNames):
		return RoleSent
	case hasAttr(l.attrs, imap.MailboxAttrArchive):
		return RoleArchive
	}
	return RoleOther
}

// specialUse are the RFC 6154 attributes.
var specialUse = []imap.MailboxAttr{
	imap.MailboxAttrAll, imap.MailboxAttrArchive, imap.MailboxAttrDrafts, imap.MailboxAttrFlagged,
	imap.MailboxAttrJunk, imap.MailboxAttrSent, imap.MailboxAttrTrash, imap.MailboxAttr(`\Important`),
}

func hasSpecialUse(attrs []imap.MailboxAttr) bool { return hasAnyAttr(attrs, specialUse) }

func hasAttr(attrs []imap.MailboxAttr, a imap.MailboxAttr) bool {
	for _, x := range attrs {
		if strings.EqualFold(string(x), string(a)) {
			return true
		}
	}
	return false
}

func hasAnyAttr(attrs, any []imap.MailboxAttr) bool {
	for _, a := range any {
		if hasAttr(attrs, a) {
			return true
		}
	}
	return false
}

// nameIn reports whether a folder's name, or its last level
// ("INBOX.Junk", "[Gmail]/Spam"), is one of names, ignoring case.
func nameIn(name string, names []string) bool {
	last := name
	if i := strings.LastIndexAny(name, "/."); i >= 0 && i+1 < len(name) {
		last = name[i+1:]
	}
	for _, n := range names {
		if strings.EqualFold(name, n) || strings.EqualFold(last, n) {
			return true
		}
	}
	return false
}

// matchFolder matches a pattern of folders.include/exclude: `\Junk` and
// the like match a special-use attribute; anything else is a name where
// `*` matches any run of characters, compared ignoring case.
func matchFolder(pattern string, l listed) bool {
	if strings.HasPrefix(pattern, `\`) {
		return hasAttr(l.attrs, imap.MailboxAttr(pattern))
	}
	return glob(strings.ToLower(pattern), strings.ToLower(l.name))
}

// glob matches s against p where '*' matches any run of characters.
func glob(p, s string) bool {
	pr, sr := []rune(p), []rune(s)
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(sr) {
		switch {
		case i < len(pr) && pr[i] == '*':
			star, mark = i, j
			i++
		case i < len(pr) && pr[i] == sr[j]:
			i++
			j++
		case star >= 0:
			i = star + 1
			mark++
			j = mark
		default:
			return false
		}
	}
	for i < len(pr) && pr[i] == '*' {
		i++
	}
	return i == len(pr)
}

// listFolders reads the folder list with special-use attributes and, when
// the server has LIST-STATUS, every folder's STATUS in the same round trip.
func (sess *session) listFolders() ([]listed, error) {
	var opts *imap.ListOptions
	if sess.caps.Has(imap.CapListExtended) || sess.caps.Has(imap.CapIMAP4rev2) {
		opts = &imap.ListOptions{ReturnSpecialUse: sess.caps.Has(imap.CapSpecialUse)}
		if sess.caps.Has(imap.CapListStatus) {
			opts.ReturnStatus = statusItems
		}
	}
	data, err := sess.c.List("", "*", opts).Collect()
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	out := make([]listed, 0, len(data))
	for _, d := range data {
		out = append(out, listed{name: d.Mailbox, attrs: d.Attrs, status: d.Status})
	}
	return out, nil
}

var statusItems = &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true}
