package portal

import (
	"net/url"

	"github.com/portcullis/portcullis/web"
)

// returnTarget returns target if it is a safe place to send the browser
// after sign-in, and "/" otherwise. Local absolute paths are safe; "//host"
// and "/\host" are not (browsers read both as another host), nor is any
// scheme, unless AllowReturn accepts the target.
func (h *Handler) returnTarget(target string) string {
	if target == "" {
		return "/"
	}
	if web.LocalPath(target) {
		return target
	}
	if h.AllowReturn != nil && h.AllowReturn(target) {
		return target
	}
	return "/"
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
