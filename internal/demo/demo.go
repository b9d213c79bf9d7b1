// Package demo is what `make run` shows a newcomer: an in-process IMAP
// server (go-imap's imapserver + imapmemserver) holding two reps' sample
// export-sales mail, and the config that points mailtrail at it. The mail
// is a slice of the project's synthetic labelled corpus (Ningbo Lumiway
// Lighting, fictitious), so nothing real is shipped.
package demo

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"path"
	"sort"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/mailtrail/mailtrail/config"
)

//go:embed data
var data embed.FS

// Password is the demo IMAP server's password for every rep.
const Password = "demo-password"

// folderNames maps the embedded directories to IMAP folder names: Sophia's
// client is Chinese, so her sent folder is 已发送.
var folderNames = map[string]map[string]string{
	"amy.chen":   {"INBOX": "INBOX", "Sent": "Sent"},
	"sophia.liu": {"INBOX": "INBOX", "Sent": "已发送"},
}

// Reps are the demo reps, as in the corpus' company.json.
var Reps = []config.Rep{
	{Email: "amy.chen@lumiway-lighting.com", Name: "Amy Chen", Aliases: []string{"amy@nblumiway.cn"}},
	{Email: "sophia.liu@lumiway-lighting.com", Name: "Sophia Liu", Aliases: []string{"sophia@nblumiway.cn"}},
}

// CustomersCSV is the demo customer list.
func CustomersCSV() ([]byte, error) { return data.ReadFile("data/customers.csv") }

// Server is the running demo IMAP server.
type Server struct {
	Addr string
	srv  *imapserver.Server
	ln   net.Listener
}

// Start serves the demo mailboxes on a loopback port until Close.
func Start(log *slog.Logger) (*Server, error) {
	mem := imapmemserver.New()
	for _, rep := range Reps {
		dir := map[string]string{"amy.chen@lumiway-lighting.com": "amy.chen", "sophia.liu@lumiway-lighting.com": "sophia.liu"}[rep.Email]
		u := imapmemserver.NewUser(rep.Email, Password)
		for sub, name := range folderNames[dir] {
			if err := u.Create(name, nil); err != nil {
				return nil, err
			}
			files, err := fs.Glob(data, path.Join("data", dir, sub, "*.eml"))
			if err != nil {
				return nil, err
			}
			sort.Strings(files)
			for _, f := range files {
				b, err := data.ReadFile(f)
				if err != nil {
					return nil, err
				}
				if _, err := u.Append(name, literal{bytes.NewReader(b), int64(len(b))}, &imap.AppendOptions{}); err != nil {
					return nil, fmt.Errorf("load %s: %w", f, err)
				}
			}
		}
		mem.AddUser(u)
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true, // loopback only, in-process
		Logger:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln)
	return &Server{Addr: ln.Addr().String(), srv: srv, ln: ln}, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Config returns a config for the demo: the corpus company, suppliers and
// reps, reading from this server over plain IMAP on loopback.
func (s *Server) Config(dbURL, meiliURL, meiliKey, apiListen, token string) (*config.Config, error) {
	host, port, _ := net.SplitHostPort(s.Addr)
	var p int
	fmt.Sscan(port, &p)
	cfg := &config.Config{
		Database:    config.Database{URL: dbURL},
		Meilisearch: config.Meilisearch{URL: meiliURL, APIKey: meiliKey, Index: "mailtrail-demo"},
		Company:     config.Company{Name: "Ningbo Lumiway Lighting Co., Ltd.", Domains: []string{"lumiway-lighting.com", "nblumiway.cn"}},
		Suppliers: []config.Supplier{
			{Name: "Zhongshan Guzhen Huaguang Lighting Factory", Domains: []string{"hg-lighting.cn"}, Emails: []string{"lijingli@hg-lighting.cn"}},
			{Name: "Yuyao Ruixin Electronic Co., Ltd.", Domains: []string{"ruixin-elec.com"}, Emails: []string{"sales@ruixin-elec.com", "ruixin_wang@163.com"}},
			{Name: "Jiangmen Solarking Energy Technology Co., Ltd.", Domains: []string{"solarking-jm.com"}, Emails: []string{"zhao.lei@solarking-jm.com"}},
			{Name: "Dongguan Chuangyu Packaging Products Co.", Emails: []string{"2851734690@qq.com"}},
			{Name: "Changzhou Ledix Driver Co., Ltd.", Domains: []string{"ledix-driver.com"}, Emails: []string{"hu.ping@ledix-driver.com"}},
		},
		API: config.API{Listen: apiListen, Tokens: []config.Token{{Name: "demo", Token: token}}},
	}
	for _, r := range Reps {
		r.IMAP = config.IMAP{Host: host, Port: p, TLS: "none", Username: r.Email, Password: Password}
		cfg.Reps = append(cfg.Reps, r)
	}
	if err := cfg.Finish(); err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	return cfg, nil
}

type literal struct {
	*bytes.Reader
	size int64
}

func (l literal) Size() int64 { return l.size }
