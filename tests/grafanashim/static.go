package grafanashim

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// assetExtensions are the files a page loads by itself. A missing one is a
// 404, not the harness page: a script answered with HTML fails far from
// its cause.
var assetExtensions = map[string]bool{
	".js": true, ".mjs": true, ".css": true, ".map": true, ".json": true, ".svg": true, ".png": true,
	".jpg": true, ".gif": true, ".ico": true, ".woff": true, ".woff2": true, ".ttf": true, ".wasm": true, ".txt": true,
}

// static serves Options.StaticDir: the file the path names, or index.html
// for any other page path, so that client-side routes such as
// /a/tusk-php-app/requests load the harness, which routes them itself.
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeMessage(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	if h.staticDir == "" {
		http.Error(w, "grafana-shim: no static dir (Options.StaticDir)", http.StatusNotFound)
		return
	}
	clean := path.Clean("/" + r.URL.Path)
	file := filepath.Join(h.staticDir, filepath.FromSlash(clean))
	if fi, err := os.Stat(file); err == nil && !fi.IsDir() {
		http.ServeFile(w, r, file)
		return
	}
	if assetExtensions[strings.ToLower(path.Ext(clean))] {
		http.NotFound(w, r)
		return
	}
	index := filepath.Join(h.staticDir, "index.html")
	if _, err := os.Stat(index); err != nil {
		http.Error(w, "grafana-shim: "+index+" is missing (build the harness: npm run build:harness)", http.StatusNotFound)
		return
	}
	// The page is the app's, whatever its URL: never cached, so a rebuilt
	// harness shows on reload.
	w.Header().Set("Cache-Control", "no-store")
	http.ServeFile(w, r, index)
}
