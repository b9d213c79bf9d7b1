package ingest

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/mailtrail/mailtrail/config"
)

// xoauth2 is Google's and Microsoft's XOAUTH2 SASL mechanism, which
// go-sasl does not have: one initial response, and on failure a JSON
// challenge that the client answers with an empty response.
// https://developers.google.com/gmail/imap/xoauth2-protocol
type xoauth2 struct {
	user, token string
	failure     string // the server's JSON error (status and scope, no secret)
}

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

func (x *xoauth2) Next(challenge []byte) ([]byte, error) {
	x.failure = string(challenge)
	return []byte{}, nil
}

// oauthBearer wraps go-sasl's OAUTHBEARER client (RFC 7628) so that an
// error challenge is answered with the dummy response of 3.2.3, letting
// the server finish with a tagged NO instead of leaving the exchange open.
type oauthBearer struct {
	sasl.Client
	failure string
}

func (o *oauthBearer) Next(challenge []byte) ([]byte, error) {
	o.failure = string(challenge)
	return []byte{0x01}, nil
}

// login authenticates with the rep's mechanism. A refusal is permanent
// (*PermanentError) unless the server says it is busy or throttling.
func (s *Syncer) login(ctx context.Context, c *imapclient.Client, rep config.Rep) error {
	im := rep.IMAP
	addr := net.JoinHostPort(im.Host, strconv.Itoa(im.Port))
	refused := func(failure string) func(error) error {
		return func(err error) error {
			if failure != "" {
				err = fmt.Errorf("%w (%s)", err, failure)
			}
			return fmt.Errorf("IMAP login refused for %s at %s: %w", im.Username, addr, err)
		}
	}
	switch im.Auth {
	case "xoauth2", "oauthbearer":
		ts := s.tokenSource(rep)
		for attempt := 0; ; attempt++ {
			token, err := ts.token(ctx, attempt > 0)
			if err != nil {
				return err
			}
			var mech sasl.Client
			var failure *string
			if im.Auth == "xoauth2" {
				x := &xoauth2{user: im.Username, token: token}
				mech, failure = x, &x.failure
			} else {
				o := &oauthBearer{Client: sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{
					Username: im.Username, Token: token, Host: im.Host, Port: im.Port})}
				mech, failure = o, &o.failure
			}
			err = c.Authenticate(mech)
			if err == nil {
				return nil
			}
			err = classifyLogin(err, refused(*failure))
			// A cached token the server no longer takes (revoked, expired
			// early): refresh once before calling the login refused.
			if attempt == 0 && IsPermanent(err) && c.State() == imap.ConnStateNotAuthenticated {
				ts.invalidate()
				continue
			}
			return err
		}
	}
	password, err := im.Secret()
	if err != nil {
		return &PermanentError{err, KindSecret}
	}
	caps := c.Caps()
	if im.Auth == "plain" || caps.Has(imap.CapLoginDisabled) && caps.Has(imap.AuthCap(sasl.Plain)) {
		err = c.Authenticate(sasl.NewPlainClient("", im.Username, password))
	} else {
		err = c.Login(im.Username, password).Wait()
	}
	if err != nil {
		return classifyLogin(err, refused(""))
	}
	return nil
}

// tokenSource returns the rep's token source, made on first use.
func (s *Syncer) tokenSource(rep config.Rep) *tokenSource {
	s.tokensMu.Lock()
	defer s.tokensMu.Unlock()
	ts := s.tokens[rep.Email]
	if ts == nil || ts.cfg != *rep.IMAP.OAuth {
		ts = &tokenSource{rep: rep.Email, cfg: *rep.IMAP.OAuth, http: s.HTTPClient, log: s.log}
		s.tokens[rep.Email] = ts
	}
	return ts
}
