package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelpShown reports that -h or --help printed a command's usage: the
// command ends there, successfully.
var errHelpShown = errors.New("help shown")

// newFlagSet returns the flag set of subcommand name. It reports errors
// instead of exiting, and -h or --help prints the command's usage line and
// its flags on stdout (see parseInterleaved).
func newFlagSet(name string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("swarmdrop "+name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() { printUsage(fs.Output(), name, fs) }
	return fs
}

// printUsage prints "usage: swarmdrop USAGE" and one entry per flag, long
// flags written with two dashes as the documentation writes them.
func printUsage(w io.Writer, name string, fs *flag.FlagSet) {
	usage := name + " [flags]"
	if c, ok := commands[name]; ok {
		usage = c.usage
	}
	fmt.Fprintf(w, "usage: swarmdrop %s\n", usage)
	if c, ok := commands[name]; ok && c.summary != "" {
		fmt.Fprintf(w, "\n%s\n", c.summary)
	}
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nflags:\n")
			first = false
		}
		arg, text := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		head := "  " + dash + f.Name
		if arg != "" {
			head += " " + strings.ToUpper(arg)
		}
		switch f.DefValue {
		case "", "false", "0", "-1", "[]":
		default:
			if !strings.Contains(text, "default") {
				text += fmt.Sprintf(" (default %s)", f.DefValue)
			}
		}
		fmt.Fprintf(w, "%s\n      %s\n", head, text)
	})
}

// parseInterleaved parses flags that may come before, between or after
// positional arguments ("create DIR -o x.torrent"); "--" ends the flags.
// It returns the positional arguments, a usage error, or errHelpShown
// after printing the usage for -h, -help or --help.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	out := fs.Output()
	var pos []string
	for {
		fs.SetOutput(io.Discard)
		err := fs.Parse(args)
		fs.SetOutput(out)
		if err != nil {
			if err == flag.ErrHelp {
				fs.Usage()
				return nil, errHelpShown
			}
			name := strings.TrimPrefix(fs.Name(), "swarmdrop ")
			return nil, usagef("%s: %s (see swarmdrop %s -h)", name, strings.TrimSpace(err.Error()), name)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first positional argument, or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
