package github

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/gofri/go-github-ratelimit/v2/github_ratelimit/github_primary_ratelimit"
	gh "github.com/google/go-github/v60/github"
)

// Kind classifies a GitHub error for the caller's retry decision.
type Kind int

// Kinds of errors.
const (
	KindOther        Kind = iota
	KindNotFound          // 404: gone, or never visible to this installation
	KindForbidden         // 403 without a rate limit: missing permission
	KindUnauthorized      // 401: credentials rejected even after renewal
	KindValidation        // 422: GitHub refused the request's content
	KindRateLimited       // primary or secondary limit: retry after RetryAfter
	KindTransient         // 5xx or network: retry with backoff
)

var kindNames = map[Kind]string{KindOther: "other", KindNotFound: "not found", KindForbidden: "forbidden",
	KindUnauthorized: "unauthorized", KindValidation: "validation", KindRateLimited: "rate limited", KindTransient: "transient"}

func (k Kind) String() string { return kindNames[k] }

// Classify tells what kind of failure err is.
func Classify(err error) Kind {
	var (
		rle   *gh.RateLimitError
		abuse *gh.AbuseRateLimitError
		prim  *github_primary_ratelimit.RateLimitReachedError
		er    *gh.ErrorResponse
		hte   *ghinstallation.HTTPError
		ne    net.Error
	)
	switch {
	case err == nil:
		return KindOther
	case errors.As(err, &rle), errors.As(err, &abuse), errors.As(err, &prim):
		return KindRateLimited
	case errors.As(err, &er) && er.Response != nil:
		return kindOfStatus(er.Response.StatusCode)
	case errors.As(err, &hte) && hte.Response != nil:
		return kindOfStatus(hte.Response.StatusCode)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne):
		return KindTransient
	}
	return KindOther
}

func kindOfStatus(code int) Kind {
	switch {
	case code == http.StatusNotFound, code == http.StatusGone:
		return KindNotFound
	case code == http.StatusUnauthorized:
		return KindUnauthorized
	case code == http.StatusForbidden:
		return KindForbidden
	case code == http.StatusUnprocessableEntity:
		return KindValidation
	case code == http.StatusTooManyRequests:
		return KindRateLimited
	case code >= 500:
		return KindTransient
	}
	return KindOther
}

// Retryable tells whether trying again later can succeed.
func Retryable(err error) bool {
	k := Classify(err)
	return k == KindRateLimited || k == KindTransient || k == KindOther
}

// RetryAfter is how long to wait before retrying a rate-limited call (0 if
// unknown or not rate-limited).
func RetryAfter(err error, now time.Time) time.Duration {
	var (
		rle   *gh.RateLimitError
		abuse *gh.AbuseRateLimitError
		prim  *github_primary_ratelimit.RateLimitReachedError
	)
	switch {
	case errors.As(err, &rle):
		return rle.Rate.Reset.Sub(now)
	case errors.As(err, &abuse) && abuse.RetryAfter != nil:
		return *abuse.RetryAfter
	case errors.As(err, &prim) && prim.ResetTime != nil:
		return prim.ResetTime.Sub(now)
	}
	return 0
}
