package scim

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/scim/filter"
	"github.com/portcullis/portcullis/store"
)

// query is a list request's parameters (RFC 7644 §3.4.2), from the URL or
// from a POST /.search body (§3.4.3).
type query struct {
	filter     filter.Expr
	rawFilter  string
	start      int // 1-based
	count      int
	sortBy     *filter.AttrPath
	descending bool
	proj       projection
}

func parseQuery(c *call) (query, error) {
	params := c.r.URL.Query()
	if c.r.Method == http.MethodPost {
		var err error
		if params, err = searchParams(c.r); err != nil {
			return query{}, err
		}
	}
	q := query{start: 1, count: maxResults, rawFilter: strings.TrimSpace(params.Get("filter"))}
	if q.rawFilter != "" {
		f, err := filter.Parse(q.rawFilter)
		if err != nil {
			return q, badRequest(invalidFilter, "%v", err)
		}
		q.filter = f
	}
	var err error
	if q.start, err = intParam(params, "startIndex", 1); err != nil {
		return q, err
	}
	q.start = max(q.start, 1) // RFC 7644 §3.4.2.4: less than 1 is 1
	if q.count, err = intParam(params, "count", maxResults); err != nil {
		return q, err
	}
	q.count = min(max(q.count, 0), maxResults)
	if s := strings.TrimSpace(params.Get("sortBy")); s != "" {
		p, err := filter.ParsePath(s)
		if err != nil || p.Filter != nil {
			return q, badRequest(invalidPath, "sortBy %q is not an attribute path", s)
		}
		q.sortBy = &p.Attr
	}
	switch strings.ToLower(params.Get("sortOrder")) {
	case "", "ascending":
	case "descending":
		q.descending = true
	default:
		return q, badRequest(invalidValue, "sortOrder must be ascending or descending")
	}
	q.proj, _ = projectionOf(params.Get("attributes"), params.Get("excludedAttributes"))
	return q, nil
}

// searchParams turns a SearchRequest body into URL-style parameters, and
// leaves them on the request URL too so that projections read them.
func searchParams(r *http.Request) (url.Values, error) {
	body, err := decode(r)
	if err != nil {
		return nil, err
	}
	v := url.Values{}
	for k, x := range body {
		switch t := x.(type) {
		case string:
			v.Set(k, t)
		case []any:
			var parts []string
			for _, e := range t {
				s, _ := e.(string)
				parts = append(parts, s)
			}
			v.Set(k, strings.Join(parts, ","))
		default:
			v.Set(k, jsonText(t))
		}
	}
	r.URL.RawQuery = v.Encode()
	return v, nil
}

func intParam(v url.Values, name string, def int) (int, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest(invalidValue, "%s must be an integer, got %q", name, s)
	}
	return n, nil
}

// page collects matching resources: every one when they must be sorted,
// else only those of the requested window, and counts them all.
type page struct {
	q     query
	total int
	docs  []map[string]any
}

func (p *page) offer(doc map[string]any) {
	p.total++
	if p.q.sortBy != nil || (p.total >= p.q.start && len(p.docs) < p.q.count) {
		p.docs = append(p.docs, doc)
	}
}

// finish sorts when asked and cuts the window.
func (p *page) finish(rt *resourceType) {
	if p.q.sortBy == nil {
		return
	}
	by := *p.q.sortBy
	exact := rt.caseExact(strings.ToLower(by.String()))
	sortKey := func(d map[string]any) (string, bool) {
		vals := filter.Values(d, by)
		if len(vals) == 0 {
			return "", false
		}
		s := jsonText(vals[0])
		if v, ok := vals[0].(string); ok {
			s = v
		}
		if !exact {
			s = strings.ToLower(s)
		}
		return s, true
	}
	sort.SliceStable(p.docs, func(i, j int) bool {
		a, aok := sortKey(p.docs[i])
		b, bok := sortKey(p.docs[j])
		if aok != bok {
			return aok // missing values last (RFC 7644 §3.4.2.3)
		}
		if p.q.descending {
			return a > b
		}
		return a < b
	})
	lo := min(p.q.start-1, len(p.docs))
	p.docs = p.docs[lo:min(lo+p.q.count, len(p.docs))]
}

func (h *Handler) writeList(c *call, rt *resourceType, p *page) error {
	res := make([]any, len(p.docs))
	for i, d := range p.docs {
		res[i] = p.q.proj.apply(rt, d)
	}
	h.write(c.w, http.StatusOK, map[string]any{"schemas": []string{listSchema}, "totalResults": p.total,
		"itemsPerPage": len(res), "startIndex": p.q.start, "Resources": res})
	return nil
}

func (h *Handler) listUsers(c *call) error {
	ctx := c.r.Context()
	q, err := parseQuery(c)
	if err != nil {
		return err
	}
	p := &page{q: q}
	if q.filter == nil && q.sortBy == nil {
		err = h.pageUsers(ctx, p)
	} else {
		err = h.scanUsers(ctx, p)
	}
	if err != nil {
		return err
	}
	p.finish(userType)
	return h.writeList(c, userType, p)
}

// pageUsers serves an unfiltered, unsorted page with the store's own
// paging.
func (h *Handler) pageUsers(ctx context.Context, p *page) error {
	limit := p.q.count
	if limit == 0 {
		limit = 1 // the store's 0 means no limit; only the total is wanted
	}
	users, total, err := h.Store.ListUsers(ctx, store.UserFilter{Offset: p.q.start - 1, Limit: limit})
	if err != nil {
		return err
	}
	if p.q.count == 0 {
		users = nil
	}
	docs, err := h.userDocs(ctx, users)
	p.total, p.docs = total, docs
	return err
}

func (h *Handler) userDocs(ctx context.Context, users []store.User) ([]map[string]any, error) {
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	groups, err := h.Store.GroupsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	docs := make([]map[string]any, len(users))
	for i, u := range users {
		docs[i] = h.userResource(u, groups[u.ID])
	}
	return docs, nil
}

// scanBatch is how many users a filter without an index reads at a time.
const scanBatch = 1000

// scanUsers evaluates the filter on every candidate: those an indexed
// equality names (userName, externalId, id: what Okta and Entra ID send),
// else every user, in batches.
func (h *Handler) scanUsers(ctx context.Context, p *page) error {
	opts := filter.Options{CaseExact: userType.caseExact}
	offer := func(users []store.User) error {
		docs, err := h.userDocs(ctx, users)
		for _, d := range docs {
			if p.q.filter == nil || filter.Match(p.q.filter, d, opts) {
				p.offer(d)
			}
		}
		return err
	}
	if users, ok, err := h.indexedUsers(ctx, p.q.filter); ok || err != nil {
		if err != nil {
			return err
		}
		return offer(users)
	}
	_, total, err := h.Store.ListUsers(ctx, store.UserFilter{Limit: 1})
	if err != nil {
		return err
	}
	if limit := h.maxScan(); total > limit {
		return badRequest(tooMany, "the filter needs a scan of %d users, over the limit of %d: filter on userName, externalId or id with eq", total, limit)
	}
	var after int64
	for {
		users, _, err := h.Store.ListUsers(ctx, store.UserFilter{AfterID: after, Limit: scanBatch})
		if err != nil || len(users) == 0 {
			return err
		}
		if err := offer(users); err != nil {
			return err
		}
		after = users[len(users)-1].ID
	}
}

func (h *Handler) maxScan() int {
	if h.MaxScan > 0 {
		return h.MaxScan
	}
	return DefaultMaxScan
}

// indexedUsers returns the users an equality of the filter's top-level
// conjunction selects through an index; ok is false when there is none.
func (h *Handler) indexedUsers(ctx context.Context, f filter.Expr) ([]store.User, bool, error) {
	if f == nil {
		return nil, false, nil
	}
	for _, e := range filter.Conjuncts(f) {
		c, ok := e.(filter.Compare)
		if !ok || c.Op != "eq" || c.Path.Sub != "" || (c.Path.URI != "" && !strings.EqualFold(c.Path.URI, UserSchema)) {
			continue
		}
		v, ok := c.Value.(string)
		if !ok {
			continue
		}
		switch strings.ToLower(c.Path.Name) {
		case "username":
			u, err := h.Store.UserByEmail(ctx, v)
			return oneOrNone(u, err)
		case "id":
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, true, nil
			}
			u, err := h.Store.User(ctx, id)
			return oneOrNone(u, err)
		case "externalid":
			users, _, err := h.Store.ListUsers(ctx, store.UserFilter{ExternalID: v})
			return users, true, err
		}
	}
	return nil, false, nil
}

func oneOrNone(u store.User, err error) ([]store.User, bool, error) {
	if errors.Is(err, store.ErrNotFound) {
		return nil, true, nil
	}
	if err != nil {
		return nil, true, err
	}
	return []store.User{u}, true, nil
}

// listGroups filters in memory: the directory has a few thousand groups at
// most. Members are read only when the filter or the response needs them.
func (h *Handler) listGroups(c *call) error {
	ctx := c.r.Context()
	q, err := parseQuery(c)
	if err != nil {
		return err
	}
	groups, err := h.candidateGroups(ctx, q.filter)
	if err != nil {
		return err
	}
	needMembers := strings.Contains(strings.ToLower(q.rawFilter), "members")
	var members map[int64][]store.Member
	if needMembers {
		if members, err = h.Store.GroupMembers(ctx, groupIDs(groups)); err != nil {
			return err
		}
	}
	p := &page{q: q}
	opts := filter.Options{CaseExact: groupType.caseExact}
	byID := map[string]store.Group{}
	for _, g := range groups {
		d := h.groupResource(g, members[g.ID], needMembers)
		if q.filter == nil || filter.Match(q.filter, d, opts) {
			byID[d["id"].(string)] = g
			p.offer(d)
		}
	}
	p.finish(groupType)
	if wantsMembers(c.r) && !needMembers {
		if err := h.addMembers(ctx, p.docs, byID); err != nil {
			return err
		}
	}
	return h.writeList(c, groupType, p)
}

// candidateGroups narrows by an indexed displayName equality when the
// filter has one.
func (h *Handler) candidateGroups(ctx context.Context, f filter.Expr) ([]store.Group, error) {
	if f != nil {
		for _, e := range filter.Conjuncts(f) {
			c, ok := e.(filter.Compare)
			v, isString := c.Value.(string)
			if ok && isString && c.Op == "eq" && c.Path.Sub == "" && strings.EqualFold(c.Path.Name, "displayName") {
				g, err := h.Store.GroupByName(ctx, v)
				if errors.Is(err, store.ErrNotFound) {
					return nil, nil
				}
				return []store.Group{g}, err
			}
		}
	}
	return h.Store.ListGroups(ctx)
}

func (h *Handler) addMembers(ctx context.Context, docs []map[string]any, byID map[string]store.Group) error {
	ids := make([]int64, 0, len(docs))
	for _, d := range docs {
		ids = append(ids, byID[d["id"].(string)].ID)
	}
	members, err := h.Store.GroupMembers(ctx, ids)
	if err != nil {
		return err
	}
	for _, d := range docs {
		list := []any{}
		for _, m := range members[byID[d["id"].(string)].ID] {
			list = append(list, h.memberValue(m))
		}
		d["members"] = list
	}
	return nil
}

func groupIDs(groups []store.Group) []int64 {
	ids := make([]int64, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	return ids
}
