package ingest

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"

	"github.com/mailtrail/mailtrail/config"
)

// configHash fingerprints what a rep's login depends on: the IMAP settings
// and the secret they point to (the environment variable's value, the
// file's content, the refresh token), so that fixing any of them unparks
// the mailbox. A password_command is not run for this: its arguments
// count, its output does not. The fingerprint is a salted PBKDF2, so that
// the database never holds something a weak password is easily guessed
// back from.
func configHash(rep config.Rep) string {
	im := rep.IMAP
	settings, _ := json.Marshal(im)
	var secret string
	switch {
	case im.OAuth != nil:
		cs, rt, err := im.OAuth.OAuthSecrets()
		secret = cs + "\x00" + rt
		if err != nil {
			secret = "error: " + err.Error()
		}
	case im.PasswordEnv != "":
		secret = os.Getenv(im.PasswordEnv)
	case im.PasswordFile != "":
		b, err := os.ReadFile(im.PasswordFile)
		secret = string(b)
		if err != nil {
			secret = "error: " + err.Error()
		}
	}
	salt := []byte("mailtrail config hash\x00" + strings.ToLower(rep.Email))
	key, err := pbkdf2.Key(sha256.New, string(settings)+"\x00"+secret, salt, 4096, 32)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(key)
}
