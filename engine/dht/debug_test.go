package dht

import (
	"fmt"
	"strings"
	"time"
)

func (t *routingTable) dump() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var sb strings.Builder
	now := time.Now()
	for i, b := range t.buckets {
		fmt.Fprintf(&sb, "b%d:", i)
		for _, e := range b.nodes {
			fmt.Fprintf(&sb, " %x/%d", e.id[:2], e.status(now))
		}
		fmt.Fprintf(&sb, " spares %d\n", len(b.spares))
	}
	return sb.String()
}
