package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"sync"

	"github.com/portcullis/portcullis/static"
)

// assetVersions maps each file of static.FS to a short hash of its content.
// Pages link to /static/NAME?v=HASH, so a browser may cache an asset for a
// year and still fetches the new file the moment a release changes it.
var assetVersions = sync.OnceValue(func() map[string]string {
	versions := make(map[string]string)
	entries, _ := fs.ReadDir(static.FS, ".") // embedded: cannot fail
	for _, e := range entries {
		b, _ := fs.ReadFile(static.FS, e.Name())
		sum := sha256.Sum256(b)
		versions[e.Name()] = hex.EncodeToString(sum[:6])
	}
	return versions
})

// assetURL is the template function "asset". An unknown name is a template
// error, so a typo fails the page test rather than shipping a broken link.
func assetURL(name string) (string, error) {
	v, ok := assetVersions()[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	return "/static/" + name + "?v=" + v, nil
}

// StaticHandler serves static.FS; mount it at "GET /static/". A request with
// the current version in ?v= may be cached for a year; any other for five
// minutes, so a stale link still heals soon. Directories are not listed.
func StaticHandler() http.Handler {
	files := http.FileServerFS(static.FS)
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := assetVersions()[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("v") == v {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		w.Header().Set("ETag", `"`+v+`"`)
		files.ServeHTTP(w, r)
	}))
}
