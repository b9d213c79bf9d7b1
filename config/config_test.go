package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestExampleConfigLoads(t *testing.T) {
	t.Setenv("MEILI_MASTER_KEY", "k")
	c, err := Load("../configs/mailtrail.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Reps[0].IMAP.TLS != "implicit" || c.Reps[0].IMAP.Port != 993 || c.Meilisearch.Index != "mailtrail" {
		t.Errorf("defaults not applied: %+v", c.Reps[0].IMAP)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	base := "database: {url: postgres://x}\nmeilisearch: {url: http://m}\n"
	for _, tc := range []struct{ yaml, want string }{
		{base + "api: {listn: x}\n", "field listn not found"},
		{base + "reps: [{email: a@b.c, imap: {host: h, tls: ssl, password: p}}]\n", "reps[0].imap.tls"},
		{base + "reps: [{email: a@b.c, imap: {host: h}}]\n", "reps[0].imap: set exactly one of password_env"},
		{base + "reps: [{email: not-an-address, imap: {host: h, password: p}}]\n", "reps[0].email"},
		{base + "matching: {auto_create: maybe}\n", "matching.auto_create"},
		{"meilisearch: {url: http://m}\n", "database.url"},
		{base + "sync: {batch_size: 5000}\n", "sync.batch_size"},
		{base + "api: {tokens: [{name: x}]}\n", "api.tokens[0]"},
	} {
		_, err := Parse([]byte(tc.yaml), "test.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.yaml, err, tc.want)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Setenv("MAILTRAIL_DATABASE_URL", "postgres://env")
	t.Setenv("MAILTRAIL_MEILI_URL", "http://env")
	t.Setenv("MAILTRAIL_MEILI_KEY", "envkey")
	c, err := Parse([]byte("database: {url: postgres://file}\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.URL != "postgres://env" || c.Meilisearch.URL != "http://env" || c.Meilisearch.Key() != "envkey" {
		t.Errorf("env not applied: %+v", c)
	}
}

func TestSecretFromFile(t *testing.T) {
	f := t.TempDir() + "/pw"
	os.WriteFile(f, []byte("s3cret\n"), 0o600)
	got, err := IMAP{PasswordFile: f}.Secret()
	if err != nil || got != "s3cret" {
		t.Fatalf("got %q, %v", got, err)
	}
	_, err = IMAP{PasswordEnv: "MAILTRAIL_TEST_UNSET_VAR"}.Secret()
	if err == nil || !strings.Contains(err.Error(), "MAILTRAIL_TEST_UNSET_VAR") {
		t.Errorf("error %v should name the variable", err)
	}
}

// A token_env whose variable is empty is named, so serve can say which
// token it refuses.
func TestUnsetTokensNameTheKey(t *testing.T) {
	t.Setenv("MT_TEST_TOKEN_SET", "s3cret-value")
	t.Setenv("MT_TEST_TOKEN_UNSET", "")
	a := API{Tokens: []Token{{Name: "ops", TokenEnv: "MT_TEST_TOKEN_SET"}, {Name: "crm", TokenEnv: "MT_TEST_TOKEN_UNSET"}, {Name: "x", Token: "inline"}}}
	got := a.UnsetTokens()
	if len(got) != 1 || !strings.Contains(got[0], "api.tokens[1].token_env") || !strings.Contains(got[0], "MT_TEST_TOKEN_UNSET") {
		t.Errorf("UnsetTokens = %q", got)
	}
	if v := a.TokenValues(); len(v) != 2 || v["s3cret-value"] != "ops" || v["inline"] != "x" {
		t.Errorf("TokenValues = %v", v)
	}
}

// Every key of Config appears in the example config, set or commented
// out: it is where an admin learns what can be set.
func TestExampleDocumentsEveryKey(t *testing.T) {
	example, err := os.ReadFile("../configs/mailtrail.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			key := regexp.MustCompile(`(?m)(^|[\s{,#])` + regexp.QuoteMeta(name) + `:`)
			if !key.Match(example) {
				t.Errorf("%s%s is not in configs/mailtrail.example.yaml", path, name)
			}
			walk(path+name+".", f.Type)
		}
	}
	walk("", reflect.TypeFor[Config]())
}

func TestFreeMailFile(t *testing.T) {
	base := "database: {url: postgres://x}\nmeilisearch: {url: http://m}\n"
	dir := t.TempDir()
	list := dir + "/freemail.txt"
	os.WriteFile(list, []byte("# our own list\nbuyers-mail.example\n\nQQ.com   # Tencent\n"), 0o600)
	c, err := Parse([]byte(base+"matching: {freemail_file: "+list+", freemail_add: [extra.example], freemail_remove: [qq.com]}\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	f := c.Matching.FreeMail()
	for d, want := range map[string]bool{
		"buyers-mail.example": true, "mx.buyers-mail.example": true, "extra.example": true,
		"qq.com":    false, // removed on top of the file
		"gmail.com": false, // the file replaces the embedded list
	} {
		if f.Contains(d) != want {
			t.Errorf("free-mail %s = %v, want %v", d, !want, want)
		}
	}
	if c, _ := Parse([]byte(base), "t"); !c.Matching.FreeMail().Contains("gmail.com") {
		t.Errorf("without a file the embedded list is not used")
	}

	bad := dir + "/bad.txt"
	os.WriteFile(bad, []byte("gmail.com\nnot a domain!\n"), 0o600)
	empty := dir + "/empty.txt"
	os.WriteFile(empty, []byte("# nothing yet\n"), 0o600)
	for file, want := range map[string]string{
		dir + "/missing.txt": "matching.freemail_file: " + dir + "/missing.txt: no such file",
		bad:                  "matching.freemail_file: " + bad + `: free-mail list line 2: "not" is not a domain`,
		empty:                "matching.freemail_file: " + empty + ": lists no domain",
	} {
		_, err := Parse([]byte(base+"matching: {freemail_file: "+file+"}\n"), "t")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", file, err, want)
		}
	}
}
