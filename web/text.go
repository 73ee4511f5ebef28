package web

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// LocalPath reports whether s is a path on this site that is safe as a
// redirect target: it starts with one "/" (browsers read "//host" and
// "/\\host" as another host), has no scheme or host, and no control
// characters.
func LocalPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return false
	}
	if strings.ContainsAny(s, "\r\n\t\x00") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == ""
}

// HumanDuration says d the way a page tells someone how long to wait,
// rounded up: "1 second", "2 minutes", "3 hours".
func HumanDuration(d time.Duration) string {
	switch {
	case d <= time.Minute:
		s := int((d + time.Second - 1) / time.Second)
		return plural(s, "second")
	case d < time.Hour:
		return plural(int((d+time.Minute-1)/time.Minute), "minute")
	default:
		return plural(int((d+time.Hour-1)/time.Hour), "hour")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
