package catalog

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFetchFileAndURL(t *testing.T) {
	want := readTestdata(t, "sp.xml")
	got, err := Fetcher{}.Fetch(t.Context(), filepath.Join("testdata", "sp.xml"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("file: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metadata" {
			http.NotFound(w, r)
			return
		}
		w.Write(want)
	}))
	defer srv.Close()
	got, err = Fetcher{}.Fetch(t.Context(), srv.URL+"/metadata")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("URL: %v", err)
	}
	if _, err := (Fetcher{}).Fetch(t.Context(), srv.URL+"/gone"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	if _, err := (Fetcher{}).Fetch(t.Context(), filepath.Join(t.TempDir(), "missing.xml")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestFetchRefusesOversized(t *testing.T) {
	big := bytes.Repeat([]byte("x"), MaxMetadataBytes+1)
	path := filepath.Join(t.TempDir(), "big.xml")
	os.WriteFile(path, big, 0o600)
	if _, err := (Fetcher{}).Fetch(t.Context(), path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
	exact := filepath.Join(t.TempDir(), "exact.xml")
	os.WriteFile(exact, big[:MaxMetadataBytes], 0o600)
	if _, err := (Fetcher{}).Fetch(t.Context(), exact); err != nil {
		t.Errorf("file of exactly the limit: %v", err)
	}
	for name, h := range map[string]http.HandlerFunc{
		"declared": func(w http.ResponseWriter, r *http.Request) { w.Write(big) },
		"chunked": func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < len(big); i += 64 << 10 {
				w.Write(big[i:min(i+64<<10, len(big))])
				w.(http.Flusher).Flush()
			}
		},
	} {
		srv := httptest.NewServer(h)
		_, err := Fetcher{}.Fetch(t.Context(), srv.URL)
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFetchTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	_, err := Fetcher{Timeout: 100 * time.Millisecond}.Fetch(t.Context(), srv.URL)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("slow server: %v after %v", err, time.Since(start))
	}
}

func TestFetchRefusesDowngradeRedirect(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(readTestdata(t, "sp.xml"))
	}))
	defer plain.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/metadata", http.StatusFound)
	}))
	defer tls.Close()
	client := tls.Client()
	client.CheckRedirect = defaultClient.CheckRedirect
	_, err := Fetcher{Client: client}.Fetch(t.Context(), tls.URL)
	if err == nil || !strings.Contains(err.Error(), "redirect from https") {
		t.Errorf("https to http redirect: %v", err)
	}
}
