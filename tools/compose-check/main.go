// compose-check loads a compose file the way `docker compose config` does, with
// compose-go (the library Docker Compose itself is built on): the env file is read,
// ${VAR}, ${VAR:-default} and ${VAR:?error} are interpolated, the model is validated
// against the compose specification's schema, normalised, and checked for
// consistency (depends_on, volumes and networks name things that exist).
// Any error exits 1 with compose-go's own message; otherwise the normalised
// model is printed as JSON on stdout, for tests to assert on.
//
//	compose-check -f deploy/compose/compose.yaml --env-file deploy/compose/.env.example [-p weft] [--os-env]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	file := flag.String("f", "", "the compose file (required)")
	envFile := flag.String("env-file", "", "the env file used for interpolation (default: .env beside the compose file, if present)")
	project := flag.String("p", "", "the project name (default: the compose file's folder, as docker compose does)")
	osEnv := flag.Bool("os-env", false, "let this process's environment override the env file, as docker compose does")
	flag.Parse()
	if *file == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-check -f compose.yaml [--env-file FILE] [-p NAME] [--os-env]")
		os.Exit(2)
	}
	model, err := load(*file, *envFile, *project, *osEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compose-check:", err)
		os.Exit(1)
	}
	os.Stdout.Write(append(model, '\n'))
}

// load follows docker compose's own option order (cmd/compose ToProjectOptions):
// the process environment first when asked for, then the env file for what it leaves unset.
func load(file, envFile, project string, osEnv bool) ([]byte, error) {
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return nil, err
	}
	opts := []cli.ProjectOptionsFn{cli.WithWorkingDirectory(dir)}
	if osEnv {
		opts = append(opts, cli.WithOsEnv)
	}
	var envFiles []string
	if envFile != "" {
		envFiles = []string{envFile}
	}
	opts = append(opts,
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithName(project),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	options, err := cli.NewProjectOptions([]string{file}, opts...)
	if err != nil {
		return nil, err
	}
	loaded, err := options.LoadProject(context.Background())
	if err != nil {
		return nil, err
	}
	return loaded.MarshalJSON()
}
