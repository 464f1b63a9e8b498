package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/logctx"
	"github.com/ferry-ci/ferry/internal/store"
)

// DatabaseFlags selects the database.
type DatabaseFlags struct {
	Database string `name:"database" env:"FERRY_DATABASE" default:"sqlite:ferry.db" help:"sqlite:PATH or postgres://user:pass@host/db."`
}

func (f DatabaseFlags) validate() error {
	if !strings.HasPrefix(f.Database, "sqlite:") && !strings.HasPrefix(f.Database, "postgres://") &&
		!strings.HasPrefix(f.Database, "postgresql://") {
		return settingError("database", "FERRY_DATABASE", "must be sqlite:PATH or postgres://…, got %q", redactURL(f.Database))
	}
	if f.Database == "sqlite:" {
		return settingError("database", "FERRY_DATABASE", "sqlite: needs a file path, e.g. sqlite:ferry.db")
	}
	return nil
}

// open connects and brings both schemas (ferry's and River's) up to date.
func (f DatabaseFlags) open(ctx context.Context, log *slog.Logger) (*store.DB, int64, error) {
	db, err := store.Open(ctx, f.Database)
	if err != nil {
		return nil, 0, fmt.Errorf("database %s: %w", redactURL(f.Database), err)
	}
	// Replicas starting together migrate one at a time; the others wait
	// and find the schema current.
	var v int64
	err = db.Exclusively(ctx, func() error {
		if v, err = db.Migrate(ctx); err != nil {
			return err
		}
		return jobs.Migrate(ctx, db)
	})
	if err != nil {
		db.Close()
		return nil, 0, err
	}
	log.InfoContext(ctx, "database ready", "database", redactURL(f.Database), "schema_version", v)
	return db, v, nil
}

// redactURL hides a password in a database URL before it is shown.
func redactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	return u.Redacted()
}

func (c *CLI) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, settingError("log-level", "FERRY_LOG_LEVEL", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text":
		return slog.New(logctx.NewHandler(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(logctx.NewHandler(slog.NewJSONHandler(w, opts))), nil
	}
	return nil, settingError("log-format", "FERRY_LOG_FORMAT", "must be text or json, got %q", c.LogFormat)
}

func validateListen(addr, flag, env string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return settingError(flag, env, "must be HOST:PORT, got %q", addr)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, "/ ") {
		return settingError(flag, env, "bad host in %q", addr)
	}
	return nil
}

// minSecret is the shortest webhook secret serve accepts: anything shorter
// can be guessed offline from one captured signed delivery.
const minSecret = 16

// secretSetting names a webhook secret's two settings: the value, and a
// file holding it (the flag and variable with -file / _FILE).
type secretSetting struct{ flag, env string }

// The current webhook secret, and the previous one during a rotation.
func currentSecret() secretSetting { return secretSetting{"webhook-secret", "FERRY_WEBHOOK_SECRET"} }
func previousSecret() secretSetting {
	return secretSetting{"webhook-secret-previous", "FERRY_WEBHOOK_SECRET_PREVIOUS"}
}

// read returns the secret from exactly one of the value or the file (nil
// when neither is set); a secret file may end with a newline.
func (s secretSetting) read(value, file string) ([]byte, error) {
	switch {
	case value != "" && file != "":
		return nil, settingError(s.flag, s.env, "set either it or --%s-file (%s_FILE), not both", s.flag, s.env)
	case value != "":
		return []byte(value), nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, settingError(s.flag+"-file", s.env+"_FILE", "cannot read: %v", err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return nil, settingError(s.flag+"-file", s.env+"_FILE", "%s is empty", file)
		}
		return []byte(v), nil
	}
	return nil, nil
}

// checkLength refuses a short secret, naming where it came from but never
// showing it.
func (s secretSetting) checkLength(secret []byte, fromFile bool) error {
	if len(secret) >= minSecret {
		return nil
	}
	flag, env := s.flag, s.env
	if fromFile {
		flag, env = flag+"-file", env+"_FILE"
	}
	return settingError(flag, env, "the secret must be at least %d bytes, got %d (e.g. openssl rand -hex 32)", minSecret, len(secret))
}

// checkSecretLength refuses a short webhook secret.
func checkSecretLength(secret []byte, fromFile bool) error {
	return currentSecret().checkLength(secret, fromFile)
}

// secretsOnCommandLine names the secret flags typed on the command line,
// where other local users can read them (ps, /proc), rather than set
// through their variables: kong's parse path holds the flags parsed from
// the arguments, not those filled from the environment.
func secretsOnCommandLine(kctx *kong.Context) []string {
	var typed []string
	for _, p := range kctx.Path {
		if p.Flag == nil || p.Resolved {
			continue
		}
		if n := p.Flag.Name; n == currentSecret().flag || n == previousSecret().flag {
			typed = append(typed, n)
		}
	}
	return typed
}

// secretOnCommandLineWarning is what serve logs for a secret flag typed
// on the command line.
func secretOnCommandLineWarning(flag string) string {
	s := secretSetting{flag, "FERRY_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))}
	return fmt.Sprintf("--%s on the command line is visible to other local users (ps, /proc): prefer %s or --%s-file", s.flag, s.env, s.flag)
}

// readSecret returns the webhook secret from exactly one of the flag or
// the file; it is required.
func readSecret(value, file string) ([]byte, error) {
	secret, err := currentSecret().read(value, file)
	if err == nil && secret == nil {
		err = settingError("webhook-secret", "FERRY_WEBHOOK_SECRET", "required (or --webhook-secret-file / FERRY_WEBHOOK_SECRET_FILE): GitHub signs every delivery with it")
	}
	return secret, err
}

// readPreviousSecret returns the previous webhook secret, if one is set:
// as long as a current one (a short one is as guessable while it is
// accepted) and not the same (then the rotation has not begun: GitHub
// would sign with a secret ferry no longer has once the App's is changed).
func readPreviousSecret(value, file string, current []byte) ([]byte, error) {
	s := previousSecret()
	prev, err := s.read(value, file)
	if err != nil || prev == nil {
		return nil, err
	}
	if err := s.checkLength(prev, file != ""); err != nil {
		return nil, err
	}
	if string(prev) == string(current) {
		return nil, settingError(s.flag, s.env, "is the current secret: set the new secret as --webhook-secret and the old one here")
	}
	return prev, nil
}

// GitHubFlags are the App's credentials and API address.
type GitHubFlags struct {
	GitHubAppID          int64  `name:"github-app-id" env:"FERRY_GITHUB_APP_ID" help:"The GitHub App's id."`
	GitHubPrivateKeyFile string `name:"github-private-key-file" env:"FERRY_GITHUB_PRIVATE_KEY_FILE" help:"PEM file with the App's private key."`
	GitHubAPIURL         string `name:"github-api-url" env:"FERRY_GITHUB_API_URL" default:"https://api.github.com/" help:"GitHub REST API base URL (GitHub Enterprise: https://HOST/api/v3/)."`
	GitHubBotLogin       string `name:"github-bot-login" env:"FERRY_GITHUB_BOT_LOGIN" help:"The App's bot account (SLUG[bot]); when set, only its comments are taken for ferry's own, not any bot's."`
}

// validate checks the credentials: both or neither (ferry can record
// deliveries without calling GitHub, but never half-configured).
func (g *GitHubFlags) validate() error {
	u, err := url.Parse(g.GitHubAPIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return settingError("github-api-url", "FERRY_GITHUB_API_URL", "must be an http(s) URL, got %q", g.GitHubAPIURL)
	}
	// The App's tokens travel to this address: in clear text only to this
	// machine (a local simulator in tests).
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return settingError("github-api-url", "FERRY_GITHUB_API_URL", "http:// only for a loopback host, use https://; got %q", g.GitHubAPIURL)
	}
	if !strings.HasSuffix(g.GitHubAPIURL, "/") {
		g.GitHubAPIURL += "/"
	}
	switch {
	case g.GitHubAppID == 0 && g.GitHubPrivateKeyFile == "":
		return nil
	case g.GitHubAppID <= 0:
		return settingError("github-app-id", "FERRY_GITHUB_APP_ID", "required with --github-private-key-file, and positive")
	case g.GitHubPrivateKeyFile == "":
		return settingError("github-private-key-file", "FERRY_GITHUB_PRIVATE_KEY_FILE", "required with --github-app-id")
	}
	pemBytes, err := os.ReadFile(g.GitHubPrivateKeyFile)
	if err != nil {
		return settingError("github-private-key-file", "FERRY_GITHUB_PRIVATE_KEY_FILE", "cannot read: %v", err)
	}
	if err := checkRSAKey(pemBytes); err != nil {
		return settingError("github-private-key-file", "FERRY_GITHUB_PRIVATE_KEY_FILE", "%v", err)
	}
	return nil
}

// isLoopback: localhost, 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkRSAKey accepts the PKCS#1 keys GitHub issues (and PKCS#8).
func checkRSAKey(pemBytes []byte) error {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return fmt.Errorf("not a PEM file")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	return fmt.Errorf("not an RSA private key")
}
