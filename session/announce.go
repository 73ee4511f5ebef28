package session

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Topics name what a write changed, for the nodes that keep copies of
// sessions and users in memory (forward auth's memo): a record, every
// record and copy of some users, or everything (AllTopic: groups changed).
const AllTopic = "*"

// maxTopicUsers is the most users a topic names; a write that changed
// more announces AllTopic.
const maxTopicUsers = 100

// RecordTopic is the topic of a write to the record stored under key.
func RecordTopic(key string) string { return "k:" + key }

// UserTopic is the topic of a write to users: their records, or what the
// directory says of them (the user, their memberships). With no user, or
// more than a hundred, it is AllTopic.
func UserTopic(userIDs ...int64) string {
	if len(userIDs) == 0 || len(userIDs) > maxTopicUsers {
		return AllTopic
	}
	b := []byte("u:")
	for i, id := range userIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}

// ParseTopic splits a topic into the record key or users it names; all is
// true for AllTopic and for any topic it does not know, so that a node
// running an older release drops everything rather than nothing.
func ParseTopic(topic string) (key string, userIDs []int64, all bool) {
	if k, ok := strings.CutPrefix(topic, "k:"); ok && k != "" {
		return k, nil, false
	}
	if list, ok := strings.CutPrefix(topic, "u:"); ok {
		for part := range strings.SplitSeq(list, ",") {
			id, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return "", nil, true
			}
			userIDs = append(userIDs, id)
		}
		return "", userIDs, false
	}
	return "", nil, true
}

// Announcing returns st, telling announce about each write once it is done:
// RecordTopic after Put, Replace and Delete of a record (whatever their
// outcome, since a failed call may still have written), UserTopic after
// DeleteUser. announce is expected to return only once every node holding a
// copy has dropped it (session/redis Bus.Announce), so that a logout or a
// revocation holds on the very next request everywhere.
func Announcing(st Store, announce func(ctx context.Context, topic string)) Store {
	return &announcing{Store: st, announce: announce}
}

type announcing struct {
	Store
	announce func(ctx context.Context, topic string)
}

func (a *announcing) Put(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration) error {
	defer a.announce(ctx, RecordTopic(key))
	return a.Store.Put(ctx, key, userID, data, ttl)
}

func (a *announcing) Replace(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration, version int64) error {
	defer a.announce(ctx, RecordTopic(key))
	return a.Store.Replace(ctx, key, userID, data, ttl, version)
}

func (a *announcing) Delete(ctx context.Context, key string) error {
	defer a.announce(ctx, RecordTopic(key))
	return a.Store.Delete(ctx, key)
}

func (a *announcing) DeleteUser(ctx context.Context, userID int64) (int, error) {
	defer a.announce(ctx, UserTopic(userID))
	return a.Store.DeleteUser(ctx, userID)
}

// Key returns the storage key of the record r's session cookie names, the
// same one Load would read, without reading it, and the value of the
// cookie it came from; ok is false when r carries no valid cookie. A copy
// kept under this key stands for the session.
func (m *Manager) Key(r *http.Request) (key, cookie string, ok bool) {
	for _, c := range r.CookiesNamed(m.name) {
		if t, ok := m.decodeCookie(c.Value); ok {
			return t.storageKey(), c.Value, true
		}
	}
	return "", "", false
}

// FirstCookie returns the value of the first session cookie r carries,
// unchecked. If Key returned that value before, the request names the
// same record: Key picks the first valid cookie, and the value was valid.
// Checking the value again could only find it expired, and the cookie
// outlives the session's absolute deadline (Stable).
//
// It reads the Cookie headers itself, without net/http's parsing and its
// allocations: a value net/http would unquote or skip as malformed is
// returned as it is, and simply matches no copy.
func (m *Manager) FirstCookie(r *http.Request) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && name == m.name {
				return value, true
			}
		}
	}
	return "", false
}

// Stable returns until when Load would return s as it is without writing:
// the earlier of its deadlines and its next LastSeen write-back. A copy of
// s may stand in for Load until then, as long as no write intervenes. The
// absolute deadline is taken from CreatedAt rounded down to the second,
// as the cookie's own timestamp is, so that the cookie is still valid too.
func (m *Manager) Stable(s *Session) time.Time {
	until := s.LastSeen.Add(m.touchEvery) // before the idle deadline
	if end := s.CreatedAt.Truncate(time.Second).Add(m.absolute); end.Before(until) {
		until = end
	}
	return until
}
