package githubsim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// authenticate checks credentials like GitHub: /app/… needs an RS256 JWT
// signed with the App's key, issued by the App, unexpired and at most 10
// minutes long; everything else needs an unexpired installation token.
func (s *Sim) authenticate(c *call) (response, bool) {
	if c.route.Operation.OperationID == "apps/create-from-manifest" {
		return response{}, true // the one-time code is the credential
	}
	if strings.HasPrefix(c.r.URL.Path, "/app/") || c.r.URL.Path == "/app" {
		if err := s.checkJWT(bearer(c.r)); err != nil {
			s.t.Logf("githubsim: %s %s: bad App JWT: %v", c.r.Method, c.r.URL.Path, err)
			return errorResponse(http.StatusUnauthorized, "A JSON web token could not be decoded"), false
		}
		c.credential = "app"
		return response{}, true
	}
	tok, ok := s.tokens[bearer(c.r)]
	if !ok || !s.now().Before(tok.expires) {
		return errorResponse(http.StatusUnauthorized, "Bad credentials"), false
	}
	c.installation = tok.installation
	c.credential = "installation:" + strconv.FormatInt(tok.installation, 10)
	return response{}, true
}

func (s *Sim) checkJWT(raw string) error {
	if raw == "" {
		return fmt.Errorf("no bearer token")
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &s.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.now), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithLeeway(time.Minute))
	if err != nil {
		return err
	}
	if claims.Issuer != strconv.FormatInt(s.cfg.AppID, 10) {
		return fmt.Errorf("issuer %q is not App %d", claims.Issuer, s.cfg.AppID)
	}
	if claims.IssuedAt != nil && claims.ExpiresAt.Sub(claims.IssuedAt.Time) > 10*time.Minute {
		return fmt.Errorf("expiry more than 10 minutes after issue")
	}
	return nil
}

func (s *Sim) issueToken(installation int64) (string, time.Time) {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	t := "ghs_" + hex.EncodeToString(b)
	exp := s.now().Add(s.cfg.TokenTTL).Truncate(time.Second)
	s.tokens[t] = token{installation: installation, expires: exp}
	s.tokensIssued++
	return t, exp
}
