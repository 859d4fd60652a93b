// Command grafana-shim serves the Tusk plugin's pages outside Grafana: it
// builds and starts the real gpx_php backend (or the one --plugin names),
// configures the app and one datasource "Tusk" (uid tusk) with one agent,
// and answers Grafana's API for them (package grafanashim) next to the
// browser harness in --static.
//
//	go run ./tests/grafanashim/cmd/grafana-shim --agent-url http://127.0.0.1:7070 --token-file /tmp/tusk-demo/token
//	open http://127.0.0.1:3000/a/tusk-php-app/overview
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tusk-php/tusk/tests/grafanashim"
	"github.com/tusk-php/tusk/tests/plugingrpc"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:3000", "address to serve on")
	agentURL := flag.String("agent-url", envOr("TUSK_AGENT_URL", "http://127.0.0.1:7070"), "the agent's API ($TUSK_AGENT_URL)")
	agentName := flag.String("agent-name", "local", "the agent's name in the settings")
	tokenFile := flag.String("token-file", os.Getenv("TUSK_TOKEN_FILE"), "file holding the agent's API token ($TUSK_TOKEN_FILE)")
	static := flag.String("static", "tests/browser/dist", "the built browser harness")
	pluginExe := flag.String("plugin", "", "gpx_php executable (default: build it with mage in the repository)")
	flag.Parse()
	log.SetFlags(log.LstdFlags)
	if err := run(*listen, *agentURL, *agentName, *tokenFile, *static, *pluginExe); err != nil {
		log.Fatal(err)
	}
}

func run(listen, agentURL, agentName, tokenFile, static, exe string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	token := ""
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return fmt.Errorf("token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if exe == "" {
		root, err := repoRoot()
		if err != nil {
			return err
		}
		log.Printf("building gpx_php with mage in %s", root)
		buildCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		exe, err = plugingrpc.Build(buildCtx, root)
		cancel()
		if err != nil {
			return err
		}
	}
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	p, err := plugingrpc.Start(startCtx, exe)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		if err := p.Close(); err != nil {
			log.Print(err)
		}
	}()

	jsonData, err := json.Marshal(map[string]any{"agents": []map[string]string{{"name": agentName, "url": agentURL}}})
	if err != nil {
		return err
	}
	secure := map[string]string{"token." + agentName: token}
	h, err := grafanashim.New(grafanashim.Options{
		Plugin:      p,
		App:         grafanashim.Settings{JSONData: jsonData, Secure: secure},
		Datasources: []grafanashim.Datasource{{UID: "tusk", Name: "Tusk", JSONData: jsonData, Secure: secure}},
		StaticDir:   static,
		Logf:        log.Printf,
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Printf("grafana-shim on http://%s (agent %s at %s, harness %s)", l.Addr(), agentName, agentURL, static)
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// repoRoot is the directory above the working directory that holds the
// repository's src/plugin.json.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "src", "plugin.json")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no src/plugin.json above %s: run in the repository or pass --plugin", dir)
		}
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
