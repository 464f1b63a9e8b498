// Command ferry is the ferry GitHub App: it serves GitHub's webhooks, keeps
// its state in SQLite or PostgreSQL, and runs its agents from a durable job
// queue.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"github.com/alecthomas/kong"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// CLI is every command and flag. Each flag also reads FERRY_<NAME>.
type CLI struct {
	LogFormat string `name:"log-format" env:"FERRY_LOG_FORMAT" default:"text" help:"Log format: text or json."`
	LogLevel  string `name:"log-level" env:"FERRY_LOG_LEVEL" default:"info" help:"Log level: debug, info, warn or error."`

	Analyze     AnalyzeCmd     `cmd:"" help:"Assess a local change's risk, as ferry's PR comment would (text, markdown or json)."`
	Setup       SetupCmd       `cmd:"" help:"Register ferry's GitHub App from its manifest through your browser; write its credentials and print the serve line."`
	Serve       ServeCmd       `cmd:"" help:"Serve GitHub webhooks and run jobs (migrates the database first)."`
	Migrate     MigrateCmd     `cmd:"" help:"Apply database migrations and exit."`
	Deliver     DeliverCmd     `cmd:"" help:"Send a signed webhook delivery to a running ferry (for trying it out)."`
	Calibrate   CalibrateCmd   `cmd:"" help:"Replay a history through the risk model: recall of reverted commits, fast-path share, AUC."`
	Changelog   ChangelogCmd   `cmd:"" help:"Print the next release's notes and version for a local clone (markdown or json)."`
	Dockerfile  DockerfileCmd  `cmd:"" help:"Report a Dockerfile's findings; with --fix, the rewrite ferry proposes and the four checks it passed."`
	SelectTests SelectTestsCmd `cmd:"" name:"select-tests" help:"Print the Go packages whose tests a local change can affect (json, go-packages or github-output)."`
	Plan        PlanCmd        `cmd:"" help:"Print a local change's CI plan — build, tests, deploy, with reasons (json or github-output)."`
	Testgen     TestgenCmd     `cmd:"" help:"Propose tests for a local change's uncovered lines; keep those that compile, pass 3 runs, add coverage and kill a mutant."`
	Audit       AuditCmd       `cmd:"" help:"List ferry's decisions (assessments, commands, approvals, pauses) with their reasons."`
	Version     VersionCmd     `cmd:"" help:"Print the version."`
}

// usageError is a bad invocation or setting: one line, exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// settingError names the flag and its environment variable.
func settingError(flag, env, format string, args ...any) error {
	return usageError{fmt.Sprintf("--%s (%s): %s", flag, env, fmt.Sprintf(format, args...))}
}

// env holds what every command needs besides its flags.
type env struct {
	ctx    context.Context
	cli    *CLI
	stdout io.Writer
	stderr io.Writer
}

// run parses args and runs the command. Flags fall back to FERRY_* variables
// from the process environment.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cli CLI
	parser, err := kong.New(&cli,
		kong.Name("ferry"),
		kong.Description("ferry carries a team's changes from pull request to production."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(int) {}), // --help returns instead of exiting the process
	)
	if err != nil {
		return fmt.Errorf("build command line: %w", err)
	}
	kctx, err := parser.Parse(args)
	if isHelp(args) {
		return nil // kong printed the help
	}
	if err != nil {
		return usageError{withEnvName(parser, err.Error()) + " (see ferry --help)"}
	}
	return kctx.Run(&env{ctx: ctx, cli: &cli, stdout: stdout, stderr: stderr})
}

func isHelp(args []string) bool {
	for _, a := range args {
		if a == "--help" || a == "-h" {
			return true
		}
	}
	return false
}

var flagRe = regexp.MustCompile(`--([a-z0-9-]+)`)

// withEnvName adds the environment variable to kong's message about a flag,
// so the user knows where a bad value came from.
func withEnvName(parser *kong.Kong, msg string) string {
	m := flagRe.FindStringSubmatchIndex(msg)
	if m == nil {
		return msg
	}
	name := msg[m[2]:m[3]]
	var envName string
	_ = kong.Visit(parser.Model, func(n kong.Visitable, next kong.Next) error {
		if f, ok := n.(*kong.Flag); ok && f.Name == name && len(f.Envs) > 0 && envName == "" {
			envName = f.Envs[0]
		}
		return next(nil)
	})
	if envName == "" {
		return msg
	}
	return msg[:m[1]] + " (" + envName + ")" + msg[m[1]:]
}

// exitCode prints err as one line and returns the process exit code:
// 0 success, 2 bad usage or settings, 1 anything else.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "ferry: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// VersionCmd prints the version.
type VersionCmd struct{}

// Run implements the command.
func (VersionCmd) Run(e *env) error {
	_, err := fmt.Fprintf(e.stdout, "ferry %s\n", version)
	return err
}
