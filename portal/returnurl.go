package portal

import (
	"net/url"
	"strings"
)

// returnTarget returns target if it is a safe place to send the browser
// after sign-in, and "/" otherwise. Local absolute paths are safe; "//host"
// and "/\host" are not (browsers read both as another host), nor is any
// scheme, unless AllowReturn accepts the target.
func (h *Handler) returnTarget(target string) string {
	if target == "" {
		return "/"
	}
	if isLocalPath(target) {
		return target
	}
	if h.AllowReturn != nil && h.AllowReturn(target) {
		return target
	}
	return "/"
}

func isLocalPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return false
	}
	if strings.ContainsAny(s, "\r\n\t\x00") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == ""
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
