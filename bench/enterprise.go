package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portcullis/portcullis/enterprise"
	"github.com/portcullis/portcullis/store"
)

// Enterprise is enterprise.Handler on a store, behind net/http (httptest),
// with a secret stored as `gateway api enterprise-secret` stores it, and
// one keep-alive client: what a directory connector or a SIEM collector
// sees. Post is for one goroutine at a time.
type Enterprise struct {
	URL      string
	CID      string
	Provhash string

	srv    *httptest.Server
	client *http.Client
}

// ServeEnterprise serves enterprise.Handler for st (SQLite or PostgreSQL),
// in the default reporting zone, with no rate limit to speak of. The
// caller closes st after Close.
func ServeEnterprise(ctx context.Context, st store.Store) (*Enterprise, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	const cid = "8771312"
	provhash, hash, err := enterprise.NewSecret(key)
	if err != nil {
		return nil, err
	}
	cred := store.Credential{Kind: store.CredentialEnterprise, Name: enterprise.CredentialName, ClientID: cid, SecretHash: hash}
	if err := st.PutCredential(ctx, &cred); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	h := &enterprise.Handler{Store: st, Sessions: enterpriseNoSessions{}, Hasher: enterpriseNoPasswords{},
		Logger: slog.New(slog.DiscardHandler), SecretKey: key, Limit: 1e6}
	h.Mount(mux)
	srv := httptest.NewServer(mux)
	return &Enterprise{URL: srv.URL, CID: cid, Provhash: provhash, srv: srv, client: &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute, DisableCompression: true}}}, nil
}

// Close closes the client's connection and stops the server.
func (e *Enterprise) Close() {
	e.client.CloseIdleConnections()
	e.srv.Close()
}

// Post sends one command as a JSON envelope to /enterpriseapi.php (data
// is JSON text, "" for none) and copies the answer's body into w. It
// returns the status and the number of bytes copied.
func (e *Enterprise) Post(cmd, data string, w io.Writer) (int, int64, error) {
	var body strings.Builder
	body.Grow(len(data) + 200)
	body.WriteString(`{"cid":` + e.CID + `,"provhash":"` + e.Provhash + `","cmd":"` + cmd + `"`)
	if data != "" {
		body.WriteString(`,"data":` + data)
	}
	body.WriteString("}")
	resp, err := e.client.Post(e.URL+enterprise.Path, "application/json", strings.NewReader(body.String()))
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	return resp.StatusCode, n, err
}

// Names the fixtures' users are made of.
var (
	enterpriseGiven       = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "Dennis", "Radia", "John", "Katherine", "Leslie", "Sophie", "Tim"}
	enterpriseFamily      = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen", "Ritchie", "Perlman", "Backus", "Johnson", "Lamport", "Wilson", "Shannon"}
	enterpriseDepartments = []string{"Engineering", "Sales", "Marketing", "Finance", "Support", "Legal", "People", "Operations"}
)

func enterpriseNames(i int) (given, family string) {
	return enterpriseGiven[i%len(enterpriseGiven)], enterpriseFamily[i/len(enterpriseGiven)%len(enterpriseFamily)]
}

// EnterpriseUser is the username of user i of the fixtures.
func EnterpriseUser(i int) string {
	given, family := enterpriseNames(i)
	return strings.ToLower(given+"."+family) + "." + strconv.Itoa(i) + "@example.com"
}

// EnterpriseGroups is how many directory groups the seeded users are
// spread over (user i is in group i mod EnterpriseGroups).
const EnterpriseGroups = 50

// EnterpriseGroup is the name of group g.
func EnterpriseGroup(g int) string {
	return fmt.Sprintf("%s %02d", enterpriseDepartments[g%len(enterpriseDepartments)], g)
}

// BatchAddData is a batchadd data array of n new users as a directory
// connector sends them: username, fullname, one group, two attributes,
// no password (lpconnector without a default password).
func BatchAddData(n int) string {
	var b strings.Builder
	b.Grow(n * 170)
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		given, family := enterpriseNames(i)
		fmt.Fprintf(&b, `{"username":%q,"fullname":"%s %s","groups":[%q],"attribs":{"uid":"u%06d","Department":%q}}`,
			EnterpriseUser(i), given, family, EnterpriseGroup(i%EnterpriseGroups), i, enterpriseDepartments[i%len(enterpriseDepartments)])
	}
	b.WriteByte(']')
	return b.String()
}

// SeedEnterpriseUsers writes n users through the store in one transaction,
// as batchadd leaves them (name, attributes, one of EnterpriseGroups groups),
// a third of them with a confirmed TOTP enrolment, and returns how long it
// took.
func SeedEnterpriseUsers(ctx context.Context, st store.Store, n int) (time.Duration, error) {
	start := time.Now()
	err := st.InTx(ctx, func(tx store.Tx) error {
		groups := make([]int64, EnterpriseGroups)
		for g := range groups {
			grp := store.Group{Name: EnterpriseGroup(g)}
			if err := tx.CreateGroup(ctx, &grp); err != nil {
				return err
			}
			groups[g] = grp.ID
		}
		created := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
		for i := range n {
			given, family := enterpriseNames(i)
			u := store.User{Email: EnterpriseUser(i), Name: given + " " + family, CreatedAt: created.Add(time.Duration(i) * time.Minute),
				Attributes: map[string]string{"uid": fmt.Sprintf("u%06d", i), "Department": enterpriseDepartments[i%len(enterpriseDepartments)]}}
			if i%2 == 0 {
				u.LastLoginAt = u.CreatedAt.Add(48 * time.Hour)
			}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			if err := tx.AddMember(ctx, groups[i%EnterpriseGroups], u.ID); err != nil {
				return err
			}
			if i%3 == 0 {
				e := store.Enrolment{UserID: u.ID, Factor: "totp", Name: "phone", Data: []byte("x"), Confirmed: true}
				if err := tx.CreateEnrolment(ctx, &e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return time.Since(start), err
}

// EventsStart is the first instant of the seeded audit trail: midnight in
// New York, the default reporting zone, on 2025-01-15.
var EventsStart = time.Date(2025, 1, 15, 5, 0, 0, 0, time.UTC)

// EventsSpan is how long the seeded trail lasts.
const EventsSpan = 24 * time.Hour

// EventTime is the time of seeded event i of n: evenly spread over
// EventsSpan from EventsStart, to the microsecond.
func EventTime(i, n int) time.Time {
	return EventsStart.Add(time.Duration(int64(i) * int64(EventsSpan/time.Microsecond) / int64(n) * int64(time.Microsecond)))
}

// EventsIn is how many of n seeded events fall in [from, to).
func EventsIn(n int, from, to time.Time) int {
	count := 0
	for i := range n {
		if t := EventTime(i, n); !t.Before(from) && t.Before(to) {
			count++
		}
	}
	return count
}

// seedRows is how many events one INSERT writes (9 parameters each, under
// SQLite's 32,766).
const seedRows = 1000

// SeedEvents writes n events straight into the events table of the SQLite
// database file (multi-row INSERTs in one transaction through
// database/sql, the indexes dropped during the load and made again from
// their definitions: the store records one event per statement, which
// would take minutes), the columns as store/sqlite/migrations/0001_init.sql
// has them and the times as store/sqlstore writes them. It returns how long it
// took. The mix: sign-ins, SSO, failed sign-ins, MFA and API changes, by
// 10,000 users from 500 addresses.
func SeedEvents(ctx context.Context, file string, n int) (time.Duration, error) {
	start := time.Now()
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	// A bulk load is faster into a bare table: the indexes are dropped and
	// made again from their own definitions, in the same transaction.
	indexes, err := eventIndexes(ctx, tx)
	if err != nil {
		return 0, err
	}
	for name := range indexes {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return 0, err
		}
	}
	var stmt *sql.Stmt
	args := make([]any, 0, seedRows*9)
	for lo := 0; lo < n; lo += seedRows {
		rows := min(seedRows, n-lo)
		if stmt == nil || rows != seedRows {
			q := "INSERT INTO events (occurred_at, type, actor, subject, ip, app, outcome, reason, details) VALUES " +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?),", rows), ",")
			if stmt, err = tx.PrepareContext(ctx, q); err != nil {
				return 0, err
			}
		}
		args = args[:0]
		for i := lo; i < lo+rows; i++ {
			args = append(args, seedEvent(i, n)...)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return 0, err
		}
	}
	for _, def := range indexes {
		if _, err := tx.ExecContext(ctx, def); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// Checkpoint copies the SQLite database file's write-ahead log into the
// file and empties it, as the store's background checkpoints do over
// time: a freshly seeded store is brought to rest, so that the first
// measured calls do not share the machine with a checkpoint of the seed.
func Checkpoint(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	// The store's own checkpoints may hold the lock for a while: try again.
	for deadline := time.Now().Add(time.Minute); ; {
		var busy, frames, done int
		if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil {
			return err
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("bench: the checkpoint could not finish (a reader or writer held it)")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// eventIndexes returns the definitions of the events table's indexes, by
// name.
func eventIndexes(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		out[name] = def
	}
	if len(out) == 0 && rows.Err() == nil {
		return nil, errors.New("bench: the events table has no index: is this the gateway's schema?")
	}
	return out, rows.Err()
}

// seedEvent is the column values of event i of n.
func seedEvent(i, n int) []any {
	user := EnterpriseUser(i * 7919 % 10_000)
	at := EventTime(i, n).UTC().Format("2006-01-02T15:04:05.000000Z")
	ip := fmt.Sprintf("10.%d.%d.%d", i%5, i/5%10, i%100)
	switch i % 10 {
	case 0, 1, 2, 3:
		return []any{at, "login.succeeded", user, user, ip, "", "success", "", "{}"}
	case 4, 5, 6:
		return []any{at, "saml.sso", user, user, ip, []string{"Wiki", "Jira", "AWS", "Grafana"}[i%4], "success", "", "{}"}
	case 7:
		return []any{at, "login.failed", "", user, ip, "", "failure", "bad password", "{}"}
	case 8:
		return []any{at, "mfa.succeeded", user, user, ip, "", "success", "", `{"factor":"totp"}`}
	}
	return []any{at, "user.updated", "api:hr", user, "192.0.2.10", "", "success", "", `{"cmd":"updateuser"}`}
}

// Memory is what MeasureMemory saw.
type Memory struct {
	// HeapBefore is the Go heap in use (HeapInuse) after a collection
	// before the call; HeapPeak the highest HeapInuse sampled during it.
	HeapBefore, HeapPeak uint64
	// RSSBefore is the process's resident set (VmRSS) before the call, after
	// the collection and the return of free memory to the OS; RSSPeak its
	// high-water mark (VmHWM) during the call, the mark having been reset
	// (clear_refs 5) just before. Zero where /proc does not say (not
	// Linux).
	RSSBefore, RSSPeak uint64
	Samples            int
}

// MeasureMemory runs fn and samples the Go heap in use (HeapInuse, through
// runtime/metrics, which does not stop the world) every interval while it
// runs. It collects garbage and returns free memory to the OS first, so
// that the figures are the call's growth over a settled process; they are
// the whole process's (client, server and store alike).
func MeasureMemory(interval time.Duration, fn func() error) (Memory, error) {
	runtime.GC()
	debug.FreeOSMemory()
	var m Memory
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.HeapBefore, m.HeapPeak = ms.HeapInuse, ms.HeapInuse
	m.RSSBefore = procStatus("VmRSS")
	resetPeakRSS()
	stop, done := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		// runtime/metrics rather than ReadMemStats, which stops the world
		// every time and would slow down what it measures.
		samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(samples)
				inuse := samples[0].Value.Uint64() + samples[1].Value.Uint64() // HeapInuse
				mu.Lock()
				m.HeapPeak = max(m.HeapPeak, inuse)
				m.Samples++
				mu.Unlock()
			}
		}
	}()
	err := fn()
	close(stop)
	<-done
	runtime.ReadMemStats(&ms)
	m.HeapPeak = max(m.HeapPeak, ms.HeapInuse)
	m.RSSPeak = procStatus("VmHWM")
	return m, err
}

// resetPeakRSS resets the process's VmHWM to its current RSS (Linux 4.0 and
// later); where it cannot, VmHWM stays the peak since the process began.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// procStatus reads a "kB" field of /proc/self/status, in bytes; 0 when
// there is none.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte(field+":"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) == 0 {
			return 0
		}
		kb, _ := strconv.ParseUint(f[0], 10, 64)
		return kb << 10
	}
	return 0
}

// enterpriseNoSessions is the session revoker: the benchmarks disable no
// one.
type enterpriseNoSessions struct{}

func (enterpriseNoSessions) RevokeUser(context.Context, int64) (int, error) { return 0, nil }

// enterpriseNoPasswords is the password hasher: the batches carry no
// password.
type enterpriseNoPasswords struct{}

func (enterpriseNoPasswords) Hash(string) (string, error) {
	return "", errors.New("bench: the enterprise batches carry no password")
}
