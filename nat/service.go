package nat

import (
	"context"
	"sync"
	"time"
)

// Timing of the Service loop; tests shorten the retry intervals.
const (
	retryNoGateway  = 5 * time.Minute // after finding no gateway
	retryError      = time.Minute     // after a gateway refused both mappings
	callTimeout     = 5 * time.Second // one request to the gateway
	discoverTimeout = 10 * time.Second
	releaseTimeout  = 3 * time.Second // deleting mappings on shutdown
)

// Service keeps Config.Port mapped on the router while it is enabled. It is
// off when created. Its methods are safe for concurrent use; Serve must be
// called once.
type Service struct {
	cfg  Config
	kick chan struct{} // one slot: wakes Serve without blocking

	retryNoGateway time.Duration
	retryError     time.Duration
	randomPort     func() int // an external port to try after a conflict

	mu      sync.Mutex // guards enabled and status
	enabled bool
	status  Status
}

// NewService returns a Service for cfg, switched off. It starts nothing:
// call Serve.
func NewService(cfg Config) *Service {
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Discover == nil {
		cfg.Discover = DiscoverUPnP
	}
	return &Service{
		cfg:            cfg,
		kick:           make(chan struct{}, 1),
		retryNoGateway: retryNoGateway,
		retryError:     retryError,
		randomPort:     randomPort,
		status:         Status{State: StateOff},
	}
}

// SetEnabled switches port mapping on or off and returns at once; Serve
// does the work. Off deletes the mappings held.
func (s *Service) SetEnabled(on bool) {
	s.mu.Lock()
	s.enabled = on
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Status returns the current status.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Service) isEnabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enabled
}

// Serve runs the mapping loop until ctx ends, then deletes the mappings
// (within a few seconds, whatever ctx) and returns nil.
func (s *Service) Serve(ctx context.Context) error {
	var sess session
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			s.release(ctx, &sess)
			s.publish(Status{State: StateOff})
			return nil
		case <-s.kick:
		case <-timer.C:
		}
		if wait := s.step(ctx, &sess); wait > 0 {
			timer.Reset(wait)
		} else {
			timer.Stop()
		}
	}
}

// step brings the mappings to what is wanted and returns when to look
// again (0: only when kicked).
func (s *Service) step(ctx context.Context, sess *session) time.Duration {
	if !s.isEnabled() {
		s.release(ctx, sess)
		s.publish(Status{State: StateOff})
		return 0
	}
	if sess.gateway != nil {
		if wait := time.Until(sess.renewAt); wait > 0 {
			return wait
		}
		if s.renew(ctx, sess) {
			s.publish(sess.status())
			return time.Until(sess.renewAt)
		}
		if ctx.Err() != nil {
			return 0
		}
		s.logf("nat: renewing on %s failed; looking for the gateway again", sess.gateway.ID())
		sess.forget()
	}

	s.publish(Status{State: StateDiscovering})
	dctx, cancel := context.WithTimeout(ctx, discoverTimeout)
	gateways, err := s.cfg.Discover(dctx)
	cancel()
	if ctx.Err() != nil {
		return 0
	}
	if err != nil {
		s.logf("nat: discovery: %v", err)
	}
	if len(gateways) == 0 {
		s.publish(Status{State: StateNoGateway})
		return s.retryNoGateway
	}
	var last Status
	for _, gw := range gateways {
		if s.mapOn(ctx, sess, gw) {
			s.publish(sess.status())
			return time.Until(sess.renewAt)
		}
		last = sess.status()
		sess.forget()
		if ctx.Err() != nil {
			return 0
		}
	}
	last.State = StateError
	s.publish(last)
	return s.retryError
}

// publish records st and tells OnChange if it differs from the last one.
func (s *Service) publish(st Status) {
	s.mu.Lock()
	changed := st != s.status
	s.status = st
	s.mu.Unlock()
	if changed && s.cfg.OnChange != nil {
		s.cfg.OnChange(st)
	}
}

func (s *Service) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// call runs one gateway request under callTimeout.
func call(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return f(ctx)
}
