package ingest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// sentNames are localized names of the sent folder, tried when no folder
// carries the \Sent special-use attribute (RFC 6154).
var sentNames = []string{
	"Sent", "Sent Messages", "Sent Items", "Sent Mail", "[Gmail]/Sent Mail",
	"已发送", "已发送邮件", "已傳送郵件", "寄件備份", "Gesendet", "Gesendete Objekte",
	"Отправленные", "Enviados", "Elementos enviados", "Itens Enviados",
	"Envoyés", "Éléments envoyés", "送信済み", "送信済みメール", "المرسلة",
	"INBOX.Sent", "INBOX/Sent",
}

// Folder is a folder to sync and its role.
type Folder struct {
	Name string // decoded from modified UTF-7
	Role string // "inbox" or "sent"
}

// findFolders returns INBOX and the sent folder: by special-use first,
// else by a localized name.
func findFolders(c *imapclient.Client) ([]Folder, error) {
	list, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	folders := []Folder{{Name: "INBOX", Role: "inbox"}}
	var sent string
	for _, l := range list {
		if slices.Contains(l.Attrs, imap.MailboxAttrSent) && !slices.Contains(l.Attrs, imap.MailboxAttrNoSelect) {
			sent = l.Mailbox
			break
		}
	}
	if sent == "" {
	names:
		for _, want := range sentNames {
			for _, l := range list {
				if strings.EqualFold(l.Mailbox, want) {
					sent = l.Mailbox
					break names
				}
			}
		}
	}
	if sent != "" {
		folders = append(folders, Folder{Name: sent, Role: "sent"})
	}
	return folders, nil
}
