package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Limits on reading metadata.
const (
	// MaxMetadataBytes is the largest metadata document accepted.
	MaxMetadataBytes = 1 << 20
	// DefaultTimeout bounds one fetch of a metadata URL.
	DefaultTimeout = 15 * time.Second
)

// Fetcher reads metadata documents from files and http(s) URLs.
type Fetcher struct {
	// Client fetches URLs; nil means one that refuses redirects from https
	// to plain http.
	Client *http.Client
	// Timeout bounds one fetch; zero means DefaultTimeout.
	Timeout time.Duration
}

// IsURL reports whether source names an http or https URL rather than a
// file.
func IsURL(source string) bool {
	s := strings.ToLower(source)
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// Fetch reads the document source names: a file, or an http(s) URL, which
// must answer 200. Anything over MaxMetadataBytes is refused.
func (f Fetcher) Fetch(ctx context.Context, source string) ([]byte, error) {
	if !IsURL(source) {
		return readFile(source)
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u, err := url.Parse(source)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("metadata URL %q is not valid", source)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", source, err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8")
	client := f.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", source, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: %s", source, resp.Status)
	}
	if resp.ContentLength > MaxMetadataBytes {
		return nil, fmt.Errorf("fetch %s: %w", source, errTooLarge)
	}
	doc, err := readLimited(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", source, err)
	}
	return doc, nil
}

var errTooLarge = fmt.Errorf("metadata is larger than %d bytes", MaxMetadataBytes)

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metadata file: %w", err)
	}
	defer f.Close()
	doc, err := readLimited(f)
	if err != nil {
		return nil, fmt.Errorf("metadata file %s: %w", path, err)
	}
	return doc, nil
}

// readLimited reads r to its end, failing past MaxMetadataBytes.
func readLimited(r io.Reader) ([]byte, error) {
	doc, err := io.ReadAll(io.LimitReader(r, MaxMetadataBytes+1))
	if err != nil {
		return nil, err
	}
	if len(doc) > MaxMetadataBytes {
		return nil, errTooLarge
	}
	return doc, nil
}

// defaultClient follows a few redirects, never from https to http, where
// the metadata could be changed on the way.
var defaultClient = &http.Client{
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refusing a redirect from https to %s", req.URL.Redacted())
		}
		return nil
	},
}
