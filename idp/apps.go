package idp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/store"
)

// errUnknownApp means no SAML app has the entity ID or name; it matches
// os.ErrNotExist, as crewjam's ServiceProviderProvider contract asks.
var errUnknownApp = fmt.Errorf("idp: no such SAML app: %w", os.ErrNotExist)

// app is a registered SAML app with its parsed metadata and settings.
type app struct {
	store.App
	Metadata *saml.EntityDescriptor
	Settings AppSettings
}

// appCache keeps parsed metadata per app ID. An entry is used only while the
// stored row has the same UpdatedAt and metadata text, so a refreshed
// metadata (a new SP certificate) is used by the next request, on every
// node, without a restart.
type appCache struct {
	mu sync.Mutex
	m  map[int64]cachedApp
}

type cachedApp struct {
	updated  time.Time
	metadata string
	settings []byte
	parsed   app
}

// GetServiceProvider implements saml.ServiceProviderProvider.
func (h *Handler) GetServiceProvider(r *http.Request, entityID string) (*saml.EntityDescriptor, error) {
	a, err := h.appByEntityID(r.Context(), entityID)
	if err != nil {
		return nil, err
	}
	return a.Metadata, nil
}

// appByEntityID finds the SAML app whose entity ID is entityID.
func (h *Handler) appByEntityID(ctx context.Context, entityID string) (app, error) {
	a, err := h.Store.AppByEntityID(ctx, entityID)
	switch {
	case entityID == "", errors.Is(err, store.ErrNotFound):
		return app{}, errUnknownApp
	case err != nil:
		return app{}, fmt.Errorf("idp: app %q: %w", entityID, err)
	case a.Kind != store.AppSAML:
		return app{}, errUnknownApp
	}
	return h.parsed(a)
}

// appByName finds a SAML app by its name (the launch URL).
func (h *Handler) appByName(ctx context.Context, name string) (app, error) {
	a, err := h.Store.AppByName(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return app{}, errUnknownApp
	case err != nil:
		return app{}, fmt.Errorf("idp: app %q: %w", name, err)
	case a.Kind != store.AppSAML:
		return app{}, errUnknownApp
	}
	return h.parsed(a)
}

func (h *Handler) parsed(a store.App) (app, error) {
	h.apps.mu.Lock()
	c, ok := h.apps.m[a.ID]
	h.apps.mu.Unlock()
	if ok && c.updated.Equal(a.UpdatedAt) && c.metadata == a.Metadata && string(c.settings) == string(a.Settings) {
		c.parsed.App = a
		return c.parsed, nil
	}
	p, err := parseApp(a)
	if err != nil {
		return app{}, err
	}
	h.apps.mu.Lock()
	if h.apps.m == nil {
		h.apps.m = map[int64]cachedApp{}
	}
	h.apps.m[a.ID] = cachedApp{updated: a.UpdatedAt, metadata: a.Metadata, settings: a.Settings, parsed: p}
	h.apps.mu.Unlock()
	return p, nil
}

// parseApp reads the stored metadata and settings. Metadata with a DTD is
// refused even though it was checked when it was added: the store is not
// the only way rows get written.
func parseApp(a store.App) (app, error) {
	if err := checkDTD([]byte(a.Metadata)); err != nil {
		return app{}, fmt.Errorf("idp: metadata of app %q: %w", a.Name, err)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal([]byte(a.Metadata), &ed); err != nil {
		return app{}, fmt.Errorf("idp: metadata of app %q: %w", a.Name, err)
	}
	if ed.EntityID != a.EntityID {
		return app{}, fmt.Errorf("idp: metadata of app %q is for %q, not %q", a.Name, ed.EntityID, a.EntityID)
	}
	if len(ed.SPSSODescriptors) == 0 {
		return app{}, fmt.Errorf("idp: metadata of app %q has no SPSSODescriptor", a.Name)
	}
	settings, err := ParseSettings(a.Settings)
	if err != nil {
		return app{}, fmt.Errorf("idp: app %q: %w", a.Name, err)
	}
	return app{App: a, Metadata: &ed, Settings: settings}, nil
}

// appName names an entity ID for people (pages, audit), falling back to
// the ID itself.
func (h *Handler) appName(ctx context.Context, entityID string) string {
	if a, err := h.appByEntityID(ctx, entityID); err == nil {
		return a.Name
	}
	return entityID
}
