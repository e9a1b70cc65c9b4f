package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// formatSize writes a byte count in binary units ("1.5 MiB").
func formatSize(n int64) string {
	if n < 0 {
		return "?"
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// formatRate writes a transfer rate; a rate under 1 B/s is shown as "–".
func formatRate(bps float64) string {
	if bps < 1 {
		return "–"
	}
	return formatSize(int64(bps)) + "/s"
}

// formatETA writes the time left of a download; negative means unknown.
func formatETA(d time.Duration) string {
	switch {
	case d < 0:
		return "∞"
	case d == 0:
		return "–"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// formatAge writes how long ago t was, or "never" for the zero time.
func formatAge(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// plural writes a count with its noun: "1 peer", "2 peers", "3 queries",
// "2 addresses".
func plural(n int, noun string) string {
	c := formatCount(n)
	switch {
	case n == 1:
		return c + " " + noun
	case strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ey"):
		return c + " " + noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s") || strings.HasSuffix(noun, "x") || strings.HasSuffix(noun, "ch") || strings.HasSuffix(noun, "sh"):
		return c + " " + noun + "es"
	}
	return c + " " + noun + "s"
}

// formatCount writes a count.
func formatCount(n int) string { return strconv.Itoa(n) }

// formatPercent writes a share done as a whole percentage, rounded down
// so that 100 % means done; every progress figure in the window uses it,
// so that a torrent's row, its files and its bar agree.
func formatPercent(p float64) string {
	if math.IsNaN(p) || p < 0 {
		p = 0
	}
	return fmt.Sprintf("%d%%", int(math.Floor(min(p, 1)*100+1e-9)))
}
