package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/tusk-php/tusk/tests/stack"
)

// printState lists the processes with their liveness, read from /proc now.
func printState(st stack.State) {
	for _, p := range st.Processes {
		state := "running"
		if !p.Alive() {
			state = "NOT RUNNING"
		}
		detail := ""
		switch {
		case st.MariaDB != nil && p.PID == st.MariaDB.PID:
			detail = fmt.Sprintf("  %s, socket %s", st.MariaDB.Addr, st.MariaDB.Socket)
		case st.FPM != nil && p.PID == st.FPM.MasterPID:
			detail = fmt.Sprintf("  pool %s on %s, workers %v", st.FPM.Pool, st.FPM.Listen, st.LiveWorkerPIDs())
			if len(st.FPM.Env) > 0 {
				detail += fmt.Sprintf(", env %v", st.FPM.Env)
			}
		case p.Name == "nginx":
			detail = "  " + st.URL
		}
		fmt.Printf("  %-8s pid %-7d %s%s\n", p.Name, p.PID, state, detail)
	}
	if !st.Ready {
		fmt.Println("  (the stack never finished starting)")
	}
}

// statusJSON is state.json plus what /proc says now.
type statusJSON struct {
	stack.State
	Alive          map[string]bool `json:"alive"`
	LiveWorkerPIDs []int           `json:"live_worker_pids"`
}

func printJSON(st *stack.State) int {
	out := statusJSON{State: *st, Alive: map[string]bool{}, LiveWorkerPIDs: st.LiveWorkerPIDs()}
	for _, p := range st.Processes {
		out.Alive[p.Name] = p.Alive()
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitFailure
	}
	return 0
}
