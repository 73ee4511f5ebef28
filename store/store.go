// Package store owns the directory: the domain types (users, groups and
// memberships, shared folders, apps, upstream IdPs and the links of users to
// their subjects there, API credentials, MFA enrolments, IdP signing key
// versions and audit events) and the small per-aggregate interfaces through
// which every other package reads and changes them.
//
// Backends live in sub-packages named after their technology: store/sqlite
// (the embedded default) and store/postgres (for several nodes). Both are built
// on store/sqlstore and pass the conformance suite in store/storetest.
//
// Transactions: every request-level operation runs inside one call to
// Store.InTx, so that a change and the audit event that records it are written
// together or not at all. Outside Tx the same interfaces are available on the
// Store itself; each such call is its own transaction.
//
// Decisions:
//   - Emails (the username) are unique without regard to case and are stored
//     as given after trimming; lookups fold case.
//   - IDs are positive int64s assigned by the backend; LastPass-compatible
//     APIs print them as decimal strings.
//   - Deleting a user or group removes its memberships and folder shares in
//     the same transaction; deleting a user removes their MFA enrolments.
//   - Deleting a user or an upstream IdP removes its IdP links in the same
//     transaction, so that a subject never stays linked to a user who is
//     gone, nor to a user by way of an IdP that is gone. A link's subject is
//     opaque: kept as the IdP sent it and compared byte for byte, since
//     persistent NameIDs and attribute values may differ in case alone.
//   - Secrets never reach the store in clear: API credentials carry a hash,
//     MFA enrolments and signing keys carry bytes the caller has already
//     encrypted.
//
// The store imports only audit (layer 0); it never imports session, web or a
// domain package.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/portcullis/portcullis/audit"
)

// Sentinel errors returned by every backend, possibly wrapped.
var (
	// ErrNotFound means the requested record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a uniqueness rule would be broken (an email, a group
	// or app name already taken) or a referenced record is missing.
	ErrConflict = errors.New("store: conflict")
	// ErrUnavailable means the backend could not be reached.
	ErrUnavailable = errors.New("store: unavailable")
)

// Store is a backend: the aggregate interfaces plus transactions, health and
// lifecycle.
type Store interface {
	Tx
	// InTx runs fn in one transaction. If fn returns an error, or panics,
	// nothing it wrote is kept.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	// Close releases the backend's resources.
	Close() error
}

// Tx is everything one can read or change inside a transaction.
type Tx interface {
	Users
	Groups
	Folders
	Apps
	IdPs
	IdPLinks
	Credentials
	Enrolments
	Events
	SigningKeys
}

// Users is the user aggregate.
type Users interface {
	// CreateUser inserts u, setting u.ID and u.CreatedAt. ErrConflict if the
	// email is taken.
	CreateUser(ctx context.Context, u *User) error
	// User returns the user with that ID.
	User(ctx context.Context, id int64) (User, error)
	// UserByEmail returns the user with that email, ignoring case.
	UserByEmail(ctx context.Context, email string) (User, error)
	// ListUsers returns the users matching f, ordered by ID, and the total
	// number matching f before Offset and Limit apply.
	ListUsers(ctx context.Context, f UserFilter) ([]User, int, error)
	// UpdateUser replaces every mutable field of the user with u.ID
	// (email, name, password hash, flags, attributes, timestamps).
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser removes the user, their memberships, folder shares, MFA
	// enrolments and IdP links.
	DeleteUser(ctx context.Context, id int64) error
	// LockUser returns the user and, inside InTx, keeps any other
	// transaction from changing it until this one ends, so that a
	// read-modify-write (a SCIM PATCH, an If-Match check) loses no update.
	LockUser(ctx context.Context, id int64) (User, error)
}

// Groups is the group and membership aggregate.
type Groups interface {
	// CreateGroup inserts g, setting g.ID and g.CreatedAt. ErrConflict if the
	// name is taken (ignoring case).
	CreateGroup(ctx context.Context, g *Group) error
	Group(ctx context.Context, id int64) (Group, error)
	GroupByName(ctx context.Context, name string) (Group, error)
	// ListGroups returns every group ordered by name.
	ListGroups(ctx context.Context) ([]Group, error)
	// RenameGroup changes a group's name. ErrConflict if taken.
	RenameGroup(ctx context.Context, id int64, name string) error
	// UpdateGroup replaces the mutable fields of the group with g.ID (name
	// and external ID). ErrConflict if the name is taken.
	UpdateGroup(ctx context.Context, g Group) error
	// LockGroup returns the group and, inside InTx, keeps any other
	// transaction from changing it or its membership until this one ends.
	LockGroup(ctx context.Context, id int64) (Group, error)
	DeleteGroup(ctx context.Context, id int64) error
	// AddMember is idempotent: adding a present member is not an error
	// and changes nothing. An actual change moves the group's Version on.
	AddMember(ctx context.Context, groupID, userID int64) error
	// RemoveMember is idempotent, as AddMember.
	RemoveMember(ctx context.Context, groupID, userID int64) error
	// HasMember reports whether the user is a member of the group.
	HasMember(ctx context.Context, groupID, userID int64) (bool, error)
	// AddMembers adds users to a group and returns those who were not
	// members already, in the order given; IDs that are no user are
	// skipped. The group's Version moves on once, when any was added.
	// ErrNotFound when there is no such group.
	AddMembers(ctx context.Context, groupID int64, userIDs []int64) ([]int64, error)
	// RemoveMembers removes users from a group and returns those who were
	// members, as AddMembers.
	RemoveMembers(ctx context.Context, groupID int64, userIDs []int64) ([]int64, error)
	// GroupMembers returns the members of each of the groups, ordered by
	// user ID, in one query; a group without members has no entry.
	GroupMembers(ctx context.Context, groupIDs []int64) (map[int64][]Member, error)
	// GroupsOf returns the groups of each of the users, ordered by name, in
	// one query; a user without groups has no entry.
	GroupsOf(ctx context.Context, userIDs []int64) (map[int64][]Group, error)
	// Members returns the group's users ordered by ID.
	Members(ctx context.Context, groupID int64) ([]User, error)
	// UserGroups returns the groups the user belongs to, ordered by name.
	UserGroups(ctx context.Context, userID int64) ([]Group, error)
}

// Folders is the shared-folder aggregate.
type Folders interface {
	CreateFolder(ctx context.Context, f *Folder) error
	Folder(ctx context.Context, id int64) (Folder, error)
	FolderByName(ctx context.Context, name string) (Folder, error)
	// ListFolders returns every folder, with members and apps, ordered by ID.
	ListFolders(ctx context.Context) ([]Folder, error)
	DeleteFolder(ctx context.Context, id int64) error
	// ShareFolder adds or updates one member's permissions.
	ShareFolder(ctx context.Context, folderID int64, m FolderMember) error
	// UnshareFolder removes one member; idempotent.
	UnshareFolder(ctx context.Context, folderID int64, kind MemberKind, memberID int64) error
	// AddFolderApp and RemoveFolderApp are idempotent.
	AddFolderApp(ctx context.Context, folderID, appID int64) error
	RemoveFolderApp(ctx context.Context, folderID, appID int64) error
}

// Apps is the aggregate of applications behind the gateway (SAML service
// providers and forward-auth sites).
type Apps interface {
	CreateApp(ctx context.Context, a *App) error
	App(ctx context.Context, id int64) (App, error)
	AppByName(ctx context.Context, name string) (App, error)
	// AppByEntityID returns the app with that (exact, non-empty) SAML
	// entity ID.
	AppByEntityID(ctx context.Context, entityID string) (App, error)
	ListApps(ctx context.Context) ([]App, error)
	// UpdateApp replaces every mutable field of the app with a.ID.
	UpdateApp(ctx context.Context, a App) error
	DeleteApp(ctx context.Context, id int64) error
}

// IdPs is the aggregate of upstream identity providers.
type IdPs interface {
	CreateIdP(ctx context.Context, p *IdP) error
	IdP(ctx context.Context, id int64) (IdP, error)
	IdPByName(ctx context.Context, name string) (IdP, error)
	// IdPByEntityID returns the IdP with that entity ID, compared exactly
	// (the one with the lowest ID should two share it), or ErrNotFound.
	IdPByEntityID(ctx context.Context, entityID string) (IdP, error)
	ListIdPs(ctx context.Context) ([]IdP, error)
	// IdPNames returns every IdP's name in ListIdPs's order, without
	// reading their metadata (the sign-in page's buttons).
	IdPNames(ctx context.Context) ([]string, error)
	UpdateIdP(ctx context.Context, p IdP) error
	// DeleteIdP removes the IdP and its links.
	DeleteIdP(ctx context.Context, id int64) error
}

// IdPLinks is the aggregate of links from users to their subjects at
// upstream IdPs, by which an assertion from an IdP finds its user.
type IdPLinks interface {
	// IdPLink returns the link of subject at the IdP, or ErrNotFound.
	IdPLink(ctx context.Context, idpID int64, subject string) (IdPLink, error)
	// CreateIdPLink records l (CreatedAt set when zero). ErrConflict when
	// the IdP already links that subject, and, as for every missing
	// reference, when the user or IdP does not exist. An empty subject is
	// an error.
	CreateIdPLink(ctx context.Context, l *IdPLink) error
	// IdPLinksOfUser lists the user's links, by IdP ID then subject (in
	// byte order). ErrNotFound when there is no such user.
	IdPLinksOfUser(ctx context.Context, userID int64) ([]IdPLink, error)
	// DeleteIdPLink removes one link; ErrNotFound when there is none.
	DeleteIdPLink(ctx context.Context, idpID int64, subject string) error
}

// Credentials is the aggregate of API credentials.
type Credentials interface {
	// PutCredential inserts c, or replaces the credential with the same kind
	// and name (so the old secret stops working in the same transaction).
	PutCredential(ctx context.Context, c *Credential) error
	// Credential returns the credential of that kind and name.
	Credential(ctx context.Context, kind CredentialKind, name string) (Credential, error)
	// CredentialByClientID returns the credential of that kind and client ID.
	CredentialByClientID(ctx context.Context, kind CredentialKind, clientID string) (Credential, error)
	ListCredentials(ctx context.Context, kind CredentialKind) ([]Credential, error)
	DeleteCredential(ctx context.Context, id int64) error
	TouchCredential(ctx context.Context, id int64, at time.Time) error
}

// Enrolments is the aggregate of MFA enrolments.
type Enrolments interface {
	CreateEnrolment(ctx context.Context, e *Enrolment) error
	Enrolment(ctx context.Context, id int64) (Enrolment, error)
	// UserEnrolments returns the user's enrolments ordered by ID.
	UserEnrolments(ctx context.Context, userID int64) ([]Enrolment, error)
	UpdateEnrolment(ctx context.Context, e Enrolment) error
	DeleteEnrolment(ctx context.Context, id int64) error
	// DeleteUserEnrolments removes all of a user's enrolments and returns
	// how many there were.
	DeleteUserEnrolments(ctx context.Context, userID int64) (int, error)
	// EnrolledFactors returns the factors of the confirmed enrolments of
	// each of the users, each factor once, ordered by name, in one query; a
	// user without a confirmed enrolment has no entry.
	EnrolledFactors(ctx context.Context, userIDs []int64) (map[int64][]string, error)
}

// SigningKeys is the aggregate of IdP signing key versions, shared by every
// node so that a rotation made on one is seen by all. The store keeps what
// it is given: which version signs when is decided by package keys.
type SigningKeys interface {
	// CreateSigningKey inserts k, setting k.ID, and k.CreatedAt when zero.
	// CertDER, KeyCiphertext and ActivatesAt are required.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every version ordered by ActivatesAt, then ID.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// DeleteSigningKey removes a version.
	DeleteSigningKey(ctx context.Context, id int64) error
}

// Events is the audit trail. It satisfies audit.Recorder.
type Events interface {
	// Record appends e, setting e.ID (and e.Time when zero).
	Record(ctx context.Context, e *audit.Event) error
	// ListEvents returns events matching f in f.Order (newest first).
	ListEvents(ctx context.Context, f EventFilter) ([]audit.Event, error)
}

// EventQueue is what a store whose events share commits (SQLite's group
// commit) adds to Events: an event queued before the work it reports and
// committed after that work shares its commit with the events of requests
// working meanwhile, where one recorded after the work would mostly commit
// alone. Callers find it with a type assertion and use Record otherwise.
type EventQueue interface {
	// QueueEvent queues e without waiting. Exactly one of its Commit or
	// Withdraw must follow.
	QueueEvent(ctx context.Context, e *audit.Event) QueuedEvent
}

// QueuedEvent is an event given to EventQueue.QueueEvent.
type QueuedEvent interface {
	// Commit returns once the event is committed, perhaps with others, and
	// sets the ID (and Time when it was zero) of the event queued.
	Commit(ctx context.Context) error
	// Withdraw takes the event out of the queue if no commit has taken it,
	// and reports whether it did. When it reports false, the event is in
	// the trail (or on its way) and Commit must still be called.
	Withdraw() bool
}
