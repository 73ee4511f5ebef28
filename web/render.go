package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/portcullis/portcullis/templates"
)

// layoutName is the skeleton every page is executed through.
const layoutName = "layout.html"

// Renderer draws the pages of package templates. It is safe for concurrent
// use.
type Renderer struct {
	pages  map[string]*template.Template
	logger *slog.Logger
	posts  postShells
}

// NewRenderer parses the embedded templates, each page together with
// layout.html. A file in overrideDir (when not "") replaces the embedded file
// of the same name, so an operator can rebrand any page or the layout; other
// files there are ignored. Every page is parsed now, so a broken override
// stops the start rather than the first visitor.
func NewRenderer(overrideDir string, logger *slog.Logger) (*Renderer, error) {
	if logger == nil {
		logger = slog.Default()
	}
	sources, err := loadSources(overrideDir)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages(sources)
	if err != nil {
		return nil, err
	}
	rd := &Renderer{pages: pages, logger: logger}
	if embedded(sources, postPage, layoutName) {
		marker := make([]byte, 16)
		rand.Read(marker)
		rd.posts.marker = "portcullis-slot-" + hex.EncodeToString(marker)
	}
	return rd, nil
}

// embedded reports whether the named templates are the embedded ones. The
// SAML post page is kept as shells (Post) only then: an operator's template
// might use a field's Value in a way no marker shows (its length, a test of
// it), and the page must stay what the template makes.
func embedded(sources map[string]string, names ...string) bool {
	for _, name := range names {
		b, err := fs.ReadFile(templates.FS, name)
		if err != nil || string(b) != sources[name] {
			return false
		}
	}
	return true
}

func loadSources(overrideDir string) (map[string]string, error) {
	names, err := fs.Glob(templates.FS, "*.html")
	if err != nil {
		return nil, err
	}
	var override fs.FS
	if overrideDir != "" {
		if st, err := os.Stat(overrideDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("template directory %s: not a readable directory", overrideDir)
		}
		override = os.DirFS(overrideDir)
	}
	sources := make(map[string]string, len(names))
	for _, name := range names {
		b, err := readSource(override, name)
		if err != nil {
			return nil, err
		}
		sources[name] = string(b)
	}
	return sources, nil
}

func readSource(override fs.FS, name string) ([]byte, error) {
	if override != nil {
		b, err := fs.ReadFile(override, name)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("template override %s: %w", name, err)
		}
	}
	return fs.ReadFile(templates.FS, name)
}

func parsePages(sources map[string]string) (map[string]*template.Template, error) {
	layout, ok := sources[layoutName]
	if !ok {
		return nil, errors.New("templates: layout.html is missing")
	}
	pages := make(map[string]*template.Template, len(sources)-1)
	for name, src := range sources {
		if name == layoutName {
			continue
		}
		t, err := template.New(layoutName).Funcs(templateFuncs).Parse(layout)
		if err == nil {
			_, err = t.New(name).Parse(src)
		}
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

var templateFuncs = template.FuncMap{
	"asset":   assetURL,
	"initial": initial,
}

// initial is the letter shown in avatars and app tiles.
func initial(s string) string {
	r, _ := utf8.DecodeRuneInString(strings.TrimSpace(s))
	if r == utf8.RuneError || !unicode.IsPrint(r) {
		return "?"
	}
	return string(unicode.ToUpper(r))
}

// Render writes page name ("login.html") with status. It fills p.CSRF and
// p.RequestID from the request when they are empty. The page is executed
// into a buffer first, so a template error becomes a clean 500 error page
// rather than half a page under a 200.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, name string, p Page) {
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	if err := rd.execute(buf, r, name, p); err != nil {
		rd.logError(r, "render page", err, slog.String("template", name))
		rd.Error(w, r, internalError.Status, internalError.Title, internalError.Message)
		return
	}
	writeHTML(w, status, buf.Bytes())
}

// Error writes error.html with status and the public title and message. The
// page shows the request id so that support can find the log lines.
func (rd *Renderer) Error(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	p := Page{Title: title, Data: ErrorData{Status: status, Title: title, Message: message}}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	var body []byte
	if err := rd.execute(buf, r, "error.html", p); err != nil {
		rd.logError(r, "render error page", err)
		body = fallbackErrorPage(status, title, message, RequestID(r.Context()))
	} else {
		body = buf.Bytes()
	}
	writeHTML(w, status, body)
}

// Fail answers err as an error page. An *HTTPError shows its own status and
// text and its cause is logged; any other error is logged and shown as a
// generic 500, since its text may hold internal detail.
func (rd *Renderer) Fail(w http.ResponseWriter, r *http.Request, err error) {
	he, ok := errors.AsType[*HTTPError](err)
	switch {
	case !ok:
		rd.logError(r, "request failed", err)
		generic := internalError
		he = &generic
	case he.Status >= 500:
		rd.logError(r, "request failed", err)
	default:
		rd.logger.LogAttrs(r.Context(), slog.LevelInfo, "request rejected",
			slog.String("request_id", RequestID(r.Context())),
			slog.Int("status", he.Status), slog.Any("reason", he.Err))
	}
	rd.Error(w, r, he.Status, he.Title, he.Message)
}

// pageBuffers are reused for rendering: a page is executed into a buffer
// first, and one that is not reused grows through several sizes on every
// request (a SAML post page is over 10 KB).
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledPage keeps an unusually large page's buffer out of the pool.
const maxPooledPage = 256 << 10

func putPageBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledPage {
		return
	}
	buf.Reset()
	pageBuffers.Put(buf)
}

// execute writes page name into buf, which must be empty; on an error buf
// holds part of a page.
func (rd *Renderer) execute(buf *bytes.Buffer, r *http.Request, name string, p Page) error {
	t, ok := rd.pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	if p.CSRF == "" {
		p.CSRF = CSRFToken(r)
	}
	if p.RequestID == "" {
		p.RequestID = RequestID(r.Context())
	}
	return t.ExecuteTemplate(buf, layoutName, p)
}

func (rd *Renderer) logError(r *http.Request, msg string, err error, attrs ...slog.Attr) {
	attrs = append(attrs, slog.String("request_id", RequestID(r.Context())), slog.Any("err", err))
	rd.logger.LogAttrs(r.Context(), slog.LevelError, msg, attrs...)
}

// writeHTML sends a complete page. Pages carry per-user data and form
// tokens, so no cache may keep them.
func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// fallbackErrorPage is used only when error.html itself fails, e.g. a broken
// override: plain, but still a page and still with the request id.
func fallbackErrorPage(status int, title, message, requestID string) []byte {
	esc := template.HTMLEscapeString
	return fmt.Appendf(nil, "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">"+
		"<title>%s</title><h1>%d %s</h1><p>%s</p><p>Reference: <code>%s</code></p></html>\n",
		esc(title), status, esc(title), esc(message), esc(requestID))
}
