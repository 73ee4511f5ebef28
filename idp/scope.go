package idp

import (
	"context"
	"errors"
	"net/http"

	"github.com/crewjam/saml"
)

// lookup is the app registry for one request: crewjam/saml asks for an app's
// metadata several times per message, and the flow needs the app too, so
// each app is read once per request.
type lookup struct {
	h    *Handler
	seen map[string]app
}

// GetServiceProvider implements saml.ServiceProviderProvider.
func (l *lookup) GetServiceProvider(r *http.Request, entityID string) (*saml.EntityDescriptor, error) {
	a, err := l.find(r.Context(), entityID)
	if err != nil {
		return nil, err
	}
	return a.Metadata, nil
}

func (l *lookup) find(ctx context.Context, entityID string) (app, error) {
	if a, ok := l.seen[entityID]; ok {
		return a, nil
	}
	a, err := l.h.appByEntityID(ctx, entityID)
	if err != nil {
		return app{}, err
	}
	if l.seen == nil {
		l.seen = map[string]app{}
	}
	l.seen[entityID] = a
	return a, nil
}

// remember records an app found another way (by name, for a launch).
func (l *lookup) remember(a app) {
	if l.seen == nil {
		l.seen = map[string]app{}
	}
	l.seen[a.EntityID] = a
}

// errNotHere is what a scope answers for a seam its flow never uses.
var errNotHere = errors.New("idp: not available in this flow")
