package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// bulkOp is one operation of a BulkRequest (RFC 7644 §3.7).
type bulkOp struct {
	Method  string `json:"method"`
	BulkID  string `json:"bulkId,omitempty"`
	Version string `json:"version,omitempty"`
	Path    string `json:"path"`
	Data    any    `json:"data,omitempty"`
}

// bulkResult is one operation's answer.
type bulkResult struct {
	Method   string `json:"method"`
	BulkID   string `json:"bulkId,omitempty"`
	Version  string `json:"version,omitempty"`
	Location string `json:"location,omitempty"`
	Status   string `json:"status"`
	Response any    `json:"response,omitempty"`
}

// bulk runs a BulkRequest. Operations run in order, each in its own
// transaction, as the endpoints they name would run them (RFC 7644 §3.7:
// a bulk request is not atomic). "bulkId:X" anywhere in an operation's path
// or data stands for the id the POST with bulkId X created; an operation
// that names one not yet created waits until the others have run, so
// forward references work; one that never resolves fails. After
// failOnErrors failures the rest are not run.
func (h *Handler) bulk(c *call) error {
	limit := h.payloadLimit()
	raw, err := io.ReadAll(io.LimitReader(c.r.Body, limit+1))
	var tooBig *http.MaxBytesError
	if int64(len(raw)) > limit || errors.As(err, &tooBig) {
		return &Error{Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the bulk request exceeds maxPayloadSize (%d bytes)", limit)}
	}
	if err != nil {
		return err
	}
	var req struct {
		FailOnErrors int      `json:"failOnErrors"`
		Operations   []bulkOp `json:"Operations"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return badRequest(invalidSyntax, "the bulk request is not a BulkRequest: %v", err)
	}
	if len(req.Operations) > maxOperations {
		return &Error{Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the bulk request has %d operations, over maxOperations (%d)", len(req.Operations), maxOperations)}
	}
	b := &bulkRun{h: h, c: c, ids: map[string]string{}, failOnErrors: req.FailOnErrors}
	results := b.run(req.Operations)
	h.write(c.w, http.StatusOK, map[string]any{"schemas": []string{bulkRespSchema}, "Operations": results})
	return nil
}

type bulkRun struct {
	h            *Handler
	c            *call
	ids          map[string]string // bulkId → created id
	failOnErrors int
	failures     int
}

func (b *bulkRun) run(ops []bulkOp) []bulkResult {
	results := make([]bulkResult, len(ops))
	done := make([]bool, len(ops))
	for pass := 0; pass < 2; pass++ {
		for i, op := range ops {
			if done[i] || b.stopped() {
				continue
			}
			if pass == 0 && b.unresolved(op) != "" {
				continue // a forward reference: after the others
			}
			results[i], done[i] = b.one(op), true
		}
	}
	var out []bulkResult
	for i := range ops {
		if done[i] {
			out = append(out, results[i])
		}
	}
	return out
}

func (b *bulkRun) stopped() bool { return b.failOnErrors > 0 && b.failures >= b.failOnErrors }

// unresolved names the first bulkId the operation refers to that no
// operation has created.
func (b *bulkRun) unresolved(op bulkOp) string {
	var missing string
	visit(op.Data, func(s string) string {
		if id, ok := strings.CutPrefix(s, "bulkId:"); ok && b.ids[id] == "" && missing == "" {
			missing = id
		}
		return s
	})
	if id, ok := strings.CutPrefix(lastSegment(op.Path), "bulkId:"); ok && b.ids[id] == "" && missing == "" {
		missing = id
	}
	return missing
}

func (b *bulkRun) one(op bulkOp) bulkResult {
	res := bulkResult{Method: strings.ToUpper(op.Method), BulkID: op.BulkID}
	fail := func(e *Error) bulkResult {
		b.failures++
		res.Status, res.Response = strconv.Itoa(e.Status), e.body()
		return res
	}
	if missing := b.unresolved(op); missing != "" {
		return fail(badRequest(invalidValue, "bulkId %q is not the bulkId of a successful POST", missing))
	}
	if res.Method == http.MethodPost && op.BulkID == "" {
		return fail(badRequest(invalidSyntax, "a POST in a bulk request needs a bulkId"))
	}
	path := b.resolvePath(op.Path)
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if r := canonicalResource(segs[0]); r != "Users" && r != "Groups" {
		return fail(badRequest(invalidPath, "bulk path %q is not under /Users or /Groups", op.Path))
	}
	rec := b.exec(res.Method, path, op)
	res.Status = strconv.Itoa(rec.status)
	res.Location, res.Version = rec.header.Get("Location"), rec.header.Get("ETag")
	if res.Location == "" && rec.status < 300 && len(segs) > 1 {
		res.Location = strings.TrimRight(b.h.BaseURL, "/") + "/scim/v2" + path
	}
	if rec.status >= 400 {
		b.failures++
		var body any
		_ = json.Unmarshal(rec.body.Bytes(), &body)
		res.Response = body
		return res
	}
	if res.Method == http.MethodPost {
		var created struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &created)
		b.ids[op.BulkID] = created.ID
	}
	return res
}

// exec runs one operation through the endpoint it names, as the same
// client.
func (b *bulkRun) exec(method, path string, op bulkOp) *recorder {
	data := visit(op.Data, func(s string) string {
		if id, ok := strings.CutPrefix(s, "bulkId:"); ok {
			return b.ids[id]
		}
		return s
	})
	body, _ := json.Marshal(data)
	r, _ := http.NewRequestWithContext(b.c.r.Context(), method, "/scim/v2"+path, bytes.NewReader(body))
	r.RemoteAddr = b.c.r.RemoteAddr
	if op.Version != "" {
		r.Header.Set("If-Match", op.Version)
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	segs := strings.SplitN(strings.Trim(path, "/"), "/", 3)
	sub := &call{w: rec, r: r, actor: b.c.actor, resource: canonicalResource(segs[0])}
	if len(segs) > 1 {
		sub.id = segs[1]
	}
	if len(segs) > 2 {
		sub.extra = segs[2]
	}
	if err := b.h.dispatch(sub); err != nil {
		b.h.writeError(rec, r, err)
	}
	return rec
}

func (b *bulkRun) resolvePath(p string) string {
	last := lastSegment(p)
	if id, ok := strings.CutPrefix(last, "bulkId:"); ok {
		return strings.TrimSuffix(p, last) + b.ids[id]
	}
	return p
}

func lastSegment(p string) string { return p[strings.LastIndex(p, "/")+1:] }

// visit rebuilds a decoded JSON value with every string passed through fn.
func visit(v any, fn func(string) string) any {
	switch x := v.(type) {
	case string:
		return fn(x)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = visit(e, fn)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = visit(e, fn)
		}
		return l
	}
	return v
}

// recorder is the ResponseWriter of an operation inside a bulk request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *recorder) WriteHeader(status int)      { r.status = status }
