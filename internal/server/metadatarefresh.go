package server

import (
	"context"
	"time"

	"github.com/portcullis/portcullis/internal/catalog"
)

// refreshMetadata fetches again, every saml.metadata_refresh, the metadata
// of every app and every upstream IdP that was added from a URL, under the
// same rules as the CLI's `apps refresh` and `idps refresh` (package
// catalog): an SP's new signing certificate or ACS URL, or an IdP's new
// signing certificate or SSO URL, is picked up without downtime, and a
// fetch that fails or a document that is refused leaves the metadata the
// app or IdP has.
//
// Every node runs it. Unchanged metadata is not written, so N nodes cost N
// fetches per period and at most one write per change.
func (s *Server) refreshMetadata(ctx context.Context) {
	every := s.Config.SAML.MetadataRefresh.D()
	if every <= 0 {
		return
	}
	cat := &catalog.Catalog{Store: s.Store, Actor: "scheduler", Now: s.now}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.refreshMetadataOnce(ctx, cat)
	}
}

// refreshMetadataOnce refreshes the apps, then the IdPs; a failure with
// one does not keep the other from being refreshed.
func (s *Server) refreshMetadataOnce(ctx context.Context, cat *catalog.Catalog) {
	s.refreshApps(ctx, cat)
	if ctx.Err() == nil {
		s.refreshIdPs(ctx, cat)
	}
}

func (s *Server) refreshApps(ctx context.Context, cat *catalog.Catalog) {
	results, err := cat.RefreshAll(ctx)
	if ctx.Err() != nil {
		return // shutting down
	}
	if err != nil {
		s.Logger.Warn("app metadata refresh: cannot list apps", "err", err)
		return
	}
	for _, r := range results {
		switch {
		case r.Err != nil:
			s.Logger.Warn("app metadata refresh failed; keeping the metadata the app has",
				"app", r.App, "url", r.URL, "err", r.Err)
		case r.Changed:
			s.Logger.Info("app metadata changed", "app", r.App, "url", r.URL)
		}
	}
}

func (s *Server) refreshIdPs(ctx context.Context, cat *catalog.Catalog) {
	results, err := cat.RefreshAllIdPs(ctx)
	if ctx.Err() != nil {
		return // shutting down
	}
	if err != nil {
		s.Logger.Warn("idp metadata refresh: cannot list IdPs", "err", err)
		return
	}
	for _, r := range results {
		switch {
		case r.Err != nil:
			s.Logger.Warn("idp metadata refresh failed; keeping the metadata the IdP has",
				"idp", r.IdP, "url", r.URL, "err", r.Err)
		case r.Changed:
			s.Logger.Info("idp metadata changed", "idp", r.IdP, "url", r.URL)
		}
	}
}
