// Package argopeer is the Go side of canary-gate's tests: programs that drive
// the plugin binary through Argo Rollouts' own code (its plugin loader, RPC
// client, AnalysisRun reconciler and utils/evaluate), imported from the
// github.com/argoproj/argo-rollouts module at the releases users run.
//
// The same sources are built once per Argo line, by the modules beside this
// one (tests/argo/v1.9 and tests/argo/v1.10); each pins its argo-rollouts
// release and copies that tag's replace block, so go-plugin, yamux and expr
// come at the versions that Argo release pins. Subcommands register
// themselves from their own packages (init), and each line's main imports
// the ones it builds.
package argopeer

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// Command is one subcommand of the peer binary.
type Command struct {
	// Summary is one line for the usage text.
	Summary string
	// Run gets the arguments after the subcommand name.
	Run func(args []string) error
}

var commands = map[string]Command{}

// Register adds a subcommand; called from the init of the package that owns it.
func Register(name string, c Command) {
	if _, dup := commands[name]; dup {
		panic("argopeer: subcommand registered twice: " + name)
	}
	commands[name] = c
}

// Main runs the subcommand named by os.Args[1]. line names the Argo release
// this binary was built against (e.g. "v1.9.1"), for messages.
func Main(line string) {
	if len(os.Args) < 2 || commands[os.Args[1]].Run == nil {
		names := make([]string, 0, len(commands))
		for n, c := range commands {
			names = append(names, fmt.Sprintf("  %-10s %s", n, c.Summary))
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "argo-peer (argo-rollouts %s)\nusage: argo-peer SUBCOMMAND [flags]\n%s\n", line, strings.Join(names, "\n"))
		os.Exit(2)
	}
	Line = line
	Report(commands[os.Args[1]].Run(os.Args[2:]))
}

// Line is the argo-rollouts release this binary was built against.
var Line string

// Report prints the outcome the Rust tests read (`PASS` as the last line,
// or `FAIL: …` and exit status 1).
func Report(err error) {
	if err != nil {
		fmt.Printf("FAIL: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("PASS")
}
