package scim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Revoker ends every session of a user on every node (session.Manager).
type Revoker interface {
	RevokeUser(ctx context.Context, userID int64) (int, error)
}

// Hasher hashes a password for storage (password.Hasher).
type Hasher interface {
	Hash(pw string) (string, error)
}

// Handler serves SCIM 2.0 on /scim/v2 and the LastPass path form
// /scimapi/{cid}. Its fields are its dependencies.
type Handler struct {
	Store    store.Store
	Sessions Revoker
	Hasher   Hasher
	Logger   *slog.Logger
	Now      func() time.Time
	// BaseURL is the gateway's external URL; meta.location and $ref are
	// built on it.
	BaseURL string
	// CID is the LastPass company ID that /scimapi/{cid} must name; empty
	// turns that alias off.
	CID string
	// MaxScan bounds the users one filter may examine when no index serves
	// it (answered with tooMany beyond); 0 means DefaultMaxScan.
	MaxScan int
	// TokenKey is the HMAC key bearer tokens are hashed with.
	TokenKey []byte
	// MaxBody is the gateway's limit on request bodies (max_body_bytes);
	// the bulk maxPayloadSize advertised and enforced is no larger. 0: no
	// such limit.
	MaxBody int64

	tokens tokenCache
}

// Limits advertised in ServiceProviderConfig and enforced.
const (
	DefaultMaxScan = 1_000_000
	maxResults     = 1000    // filter.maxResults: the largest page
	maxOperations  = 1000    // bulk.maxOperations
	maxPayloadSize = 1 << 20 // bulk.maxPayloadSize, bytes
	contentType    = "application/scim+json; charset=utf-8"
)

// Mount registers the handler's two path forms.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.Handle("/scim/v2/", h)
	mux.Handle("/scim/v2", h)
	if h.CID != "" {
		mux.Handle("/scimapi/", h)
	}
}

// call is one authenticated request: who makes it and where it goes.
type call struct {
	w        http.ResponseWriter
	r        *http.Request
	actor    string // "scim:NAME"
	resource string // canonical first segment: Users, Groups, ...
	id       string // second segment, "" when none
	extra    string // anything after the second segment
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := h.strip(r.URL.Path)
	if !ok {
		h.writeError(w, r, notFound("no SCIM endpoint at %s", r.URL.Path))
		return
	}
	actor, err := h.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portcullis-scim"`)
		h.writeError(w, r, err)
		return
	}
	c := &call{w: w, r: r, actor: actor}
	segs := strings.SplitN(strings.Trim(rest, "/"), "/", 3)
	c.resource = canonicalResource(segs[0])
	if len(segs) > 1 {
		c.id = segs[1]
	}
	if len(segs) > 2 {
		c.extra = segs[2]
	}
	if err := h.dispatch(c); err != nil {
		if asError(err).Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", allowed(c))
		}
		h.writeError(w, r, err)
	}
}

// strip removes the endpoint prefix: /scim/v2, or /scimapi/{cid} when cid
// is ours (LastPass's form, lastpass-apis.md §4.1).
func (h *Handler) strip(p string) (string, bool) {
	if rest, ok := strings.CutPrefix(p, "/scim/v2"); ok && (rest == "" || rest[0] == '/') {
		return rest, true
	}
	rest, ok := strings.CutPrefix(p, "/scimapi/")
	if !ok || h.CID == "" {
		return "", false
	}
	cid, rest, _ := strings.Cut(rest, "/")
	return "/" + rest, cid == h.CID
}

var resources = []string{"Users", "Groups", "ServiceProviderConfig", "ResourceTypes", "Schemas", "Bulk", "Me"}

// canonicalResource folds the resource segment's case: clients (and
// LastPass's documentation) write /users as often as /Users.
func canonicalResource(s string) string {
	for _, r := range resources {
		if strings.EqualFold(s, r) {
			return r
		}
	}
	return s
}

func (h *Handler) dispatch(c *call) error {
	m := c.r.Method
	switch c.resource {
	case "ServiceProviderConfig", "ResourceTypes", "Schemas":
		if m != http.MethodGet {
			return methodNotAllowed(m, c.resource)
		}
		return h.discovery(c)
	case "Bulk":
		if m != http.MethodPost || c.id != "" {
			return methodNotAllowed(m, c.resource)
		}
		return h.bulk(c)
	case "Users":
		return h.route(c, userEndpoints(h))
	case "Groups":
		return h.route(c, groupEndpoints(h))
	case "Me":
		return &Error{Status: http.StatusNotImplemented, Detail: "/Me is not supported: SCIM clients here are provisioning systems, not users"}
	}
	return notFound("unknown resource type %q", c.resource)
}

// endpoints are one resource type's operations.
type endpoints struct {
	list, create, get, replace, patch, remove func(c *call) error
}

func (h *Handler) route(c *call, e endpoints) error {
	m := c.r.Method
	switch {
	case c.id == "" && m == http.MethodGet:
		return e.list(c)
	case c.id == "" && m == http.MethodPost:
		return e.create(c)
	case c.id == ".search" && c.extra == "" && m == http.MethodPost:
		return e.list(c)
	case c.id != "" && c.extra == "" && m == http.MethodGet:
		return e.get(c)
	case c.id != "" && c.extra == "" && m == http.MethodPut:
		return e.replace(c)
	case c.id != "" && c.extra == "" && m == http.MethodPatch:
		return e.patch(c)
	case c.id != "" && c.extra == "" && m == http.MethodDelete:
		return e.remove(c)
	}
	return methodNotAllowed(m, c.r.URL.Path)
}

func methodNotAllowed(m, what string) *Error {
	return &Error{Status: http.StatusMethodNotAllowed, Detail: m + " is not supported on " + what}
}

// allowed is the Allow header of a 405 (RFC 9110 §15.5.6): the methods the
// path takes.
func allowed(c *call) string {
	switch {
	case c.resource == "Bulk":
		return "POST"
	case c.resource != "Users" && c.resource != "Groups":
		return "GET"
	case c.id == "":
		return "GET, POST"
	case c.id == ".search":
		return "POST"
	}
	return "GET, PUT, PATCH, DELETE"
}

// decode reads a JSON object body, numbers kept as json.Number.
func decode(r *http.Request) (map[string]any, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, badRequest(invalidSyntax, "the request body is empty")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, badRequest(invalidSyntax, "the request body is not a JSON object: %v", jsonErr(err))
	}
	if dec.More() {
		return nil, badRequest(invalidSyntax, "the request body has data after the JSON object")
	}
	return m, nil
}

func jsonErr(err error) string {
	if err == nil {
		return "null"
	}
	return err.Error()
}

// write sends a resource or message with the SCIM media type.
func (h *Handler) write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	if errors.Is(err, store.ErrUnavailable) {
		e = &Error{Status: http.StatusServiceUnavailable, Detail: "the directory is unavailable", internal: err}
	}
	if e.Status >= 500 {
		h.Logger.Error("scim request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.write(w, e.Status, e.body())
}

// payloadLimit is the bulk maxPayloadSize: 1 MiB, or the gateway's body
// limit when that is smaller, so that what is advertised can be sent.
func (h *Handler) payloadLimit() int64 {
	if h.MaxBody > 0 && h.MaxBody < maxPayloadSize {
		return h.MaxBody
	}
	return maxPayloadSize
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// event is an audit event of this call; the caller fills in the rest.
func (c *call) event(typ, subject string, details map[string]string) *audit.Event {
	return &audit.Event{Type: typ, Actor: c.actor, Subject: subject, IP: web.ClientIP(c.r),
		Outcome: audit.Success, Details: details}
}
