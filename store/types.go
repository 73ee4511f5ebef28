package store

import (
	"encoding/json"
	"time"
)

// User is a person in the directory. Email is the login name.
type User struct {
	ID                    int64
	Email                 string
	Name                  string
	PasswordHash          string // PHC string (argon2id); empty: no password login
	Disabled              bool
	Admin                 bool
	PasswordResetRequired bool
	Attributes            map[string]string // directory attributes; never nil when read
	// ExternalID is the provisioning client's own identifier (SCIM
	// externalId); not unique, as each client has its own namespace.
	ExternalID string
	// Profile is a JSON document owned by package scim: the attributes a
	// provisioning client sent that the directory has no column for (name
	// parts, emails, phone numbers, the enterprise extension, anything
	// unknown), kept so they can be returned. nil: none.
	Profile           json.RawMessage
	CreatedAt         time.Time
	UpdatedAt         time.Time // set by the store on every change
	LastLoginAt       time.Time // zero: never
	PasswordChangedAt time.Time // zero: never
	// Version counts the changes to the record: 1 when created, one more on
	// each UpdateUser. SCIM's ETag is made from it.
	Version int64
}

// UserFilter selects users for ListUsers. Zero values select everything.
type UserFilter struct {
	Email      string // exact, ignoring case
	ExternalID string // exact
	Disabled   *bool
	Admin      *bool
	AfterID    int64 // only users with a larger ID (keyset paging); 0: no bound
	Offset     int
	Limit      int // 0: no limit
}

// Group is a named set of users.
type Group struct {
	ID         int64
	Name       string
	ExternalID string // the provisioning client's identifier (SCIM externalId)
	CreatedAt  time.Time
	UpdatedAt  time.Time // set by the store on every change, membership included
	// Version counts the changes to the group: 1 when created, one more on
	// each rename, update and membership change. SCIM's ETag is made from it.
	Version int64
}

// Member is a group member as listings need it: who, without the rest of
// the user record.
type Member struct {
	UserID int64
	Email  string
	Name   string
}

// MemberKind says what a folder member is.
type MemberKind string

// Folder member kinds.
const (
	MemberUser  MemberKind = "user"
	MemberGroup MemberKind = "group"
)

// FolderMember is a user or group that a folder is shared with, with the
// LastPass shared-folder permissions.
type FolderMember struct {
	Kind          MemberKind
	ID            int64
	ReadOnly      bool
	Give          bool
	CanAdminister bool
}

// Folder is a shared folder: a collection of apps shared with users and
// groups.
type Folder struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	Members   []FolderMember // ordered by kind, then ID
	AppIDs    []int64        // ordered
}

// AppKind says how an app is reached.
type AppKind string

// App kinds.
const (
	AppSAML        AppKind = "saml"
	AppForwardAuth AppKind = "forward_auth"
)

// App is an application behind the gateway. Protocol-specific settings live
// in Settings, a JSON document owned by the package that serves the app, so
// that it can grow without a migration.
type App struct {
	ID          int64
	Name        string // unique, ignoring case
	Kind        AppKind
	EntityID    string // SAML SP entity ID; unique when non-empty
	MetadataURL string
	Metadata    string // the SP metadata document as last fetched or loaded
	MFA         string // required|optional|off
	Groups      []string
	Settings    json.RawMessage
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// IdP is an upstream identity provider.
type IdP struct {
	ID          int64
	Name        string // unique, ignoring case
	EntityID    string
	MetadataURL string
	Metadata    string
	Settings    json.RawMessage
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// IdPLink ties one of our users to their subject at an upstream IdP: the
// value the IdP's link setting names (the NameID or an attribute).
type IdPLink struct {
	IdPID     int64
	Subject   string // as the IdP sends it, compared exactly (case matters)
	UserID    int64
	CreatedAt time.Time
}

// CredentialKind says which API a credential opens.
type CredentialKind string

// Credential kinds.
const (
	CredentialEnterprise CredentialKind = "enterprise"
	CredentialSCIM       CredentialKind = "scim"
	CredentialMFA        CredentialKind = "mfa"
)

// Credential is an API credential. The secret is kept only as a hash.
type Credential struct {
	ID         int64
	Kind       CredentialKind
	Name       string
	ClientID   string
	SecretHash []byte
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never
}

// Enrolment is one MFA factor a user has enrolled. Data is opaque to the
// store and already encrypted by its owner where it holds a secret.
type Enrolment struct {
	ID         int64
	UserID     int64
	Factor     string // totp|webauthn|push|recovery
	Name       string
	Data       []byte
	Confirmed  bool
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never
}

// SigningKey is one version of the IdP signing key. The private key is
// opaque to the store: the caller encrypts it before and decrypts it after.
type SigningKey struct {
	ID            int64
	CertDER       []byte // the X.509 certificate, DER
	KeyCiphertext []byte // the PKCS#8 private key, encrypted by the caller
	ActivatesAt   time.Time
	CreatedAt     time.Time
}

// EventFilter selects audit events.
type EventFilter struct {
	Since    time.Time // inclusive; zero: no bound
	Until    time.Time // exclusive; zero: no bound
	Types    []string  // any of; empty: all
	Subject  string    // exact, ignoring case; empty: all
	Actor    string    // exact, ignoring case; empty: all
	Search   string    // substring of subject, actor, app or details, ignoring case
	BeforeID int64     // only events with a smaller ID (paging); 0: no bound
	Limit    int       // 0: no limit
	Order    EventOrder
}

// EventOrder is the order ListEvents returns events in.
type EventOrder int

// Event orders. ID order is the default: it is the order of recording, which
// a skewed clock cannot change, and BeforeID pages through it. Time order
// serves reports that page by time (the Enterprise API's reporting, exports):
// a time window can only be cut into exact pages in time order, and the
// occurred_at index gives it without sorting the window.
const (
	NewestByID   EventOrder = iota // highest ID first
	NewestByTime                   // latest first; equal times by highest ID
	OldestByTime                   // earliest first; equal times by lowest ID
)
