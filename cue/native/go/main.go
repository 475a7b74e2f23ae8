// Command trellis-cue evaluates CUE templates for Trellis: one long-lived process serving many
// evaluations over stdin/stdout, one JSON object per line each way (protocol.go). Each worker
// goroutine owns a cue.Context and the templates it compiled, so evaluations run on all cores
// without sharing CUE values between goroutines.
//
// It reads nothing but its standard input: templates are compiled from the text they are sent,
// imports are limited to CUE's pure standard packages (sandbox.go), and no loader runs, so no file,
// environment variable, network or command is reachable from a template.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
)

func main() {
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "goroutines evaluating at once")
	templates := flag.Int("templates", 256, "compiled templates each worker keeps (least recently used dropped)")
	sources := flag.Int("sources", 4096, "template sources kept, by hash (a request naming an unknown hash is answered with missing)")
	recycle := flag.Int("recycle", 20000, "evaluations after which a worker starts over with a fresh cue.Context (bounds memory)")
	version := flag.Bool("version", false, "print the CUE version and exit")
	exitOn := flag.String("test-exit-on", "", "for tests: exit with code 3, as a crash of CUE would, when asked to evaluate the template with this key")
	hangOn := flag.String("test-hang-on", "", "for tests: never answer, as a CUE evaluation that does not end, for the template with this key")
	gcPercent := flag.Int("gogc", 400, "Go's GOGC: the heap is small and every evaluation allocates, so collecting less often saves CPU (GOMEMLIMIT still applies)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile (go tool pprof) to this file until standard input ends")
	flag.Parse()
	if *version {
		fmt.Println(cueVersion())
		return
	}
	debug.SetGCPercent(*gcPercent)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "trellis-cue:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := serve(os.Stdin, os.Stdout, config{workers: max(1, *workers), templates: max(1, *templates), sources: max(1, *sources), recycle: max(1, *recycle), exitOn: *exitOn, hangOn: *hangOn}); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "trellis-cue:", err)
		os.Exit(1)
	}
}

type config struct {
	workers, templates, sources, recycle int
	exitOn, hangOn                       string
}

// serve answers requests until in is closed. Answers are written in the order they are ready.
func serve(in io.Reader, out io.Writer, cfg config) error {
	w := bufio.NewWriterSize(out, 1<<16)
	var mu sync.Mutex
	pending := 0
	write := func(r *response) {
		b, err := json.Marshal(r)
		if err != nil {
			b, _ = json.Marshal(engineFailure(r.ID, "cannot encode the answer: "+err.Error()))
		}
		mu.Lock()
		defer mu.Unlock()
		w.Write(b)
		w.WriteByte('\n')
		pending--
		// Flush when nothing else is about to be written: answers reach the caller without delay,
		// and a burst of them is written at once.
		if pending == 0 {
			w.Flush()
		}
	}
	mu.Lock()
	pending++
	mu.Unlock()
	write(&response{ID: 0, Hello: &hello{CUE: cueVersion(), Workers: cfg.workers}})

	store := newSourceStore(cfg.sources)
	jobs := make(chan *request, cfg.workers*4)
	var wg sync.WaitGroup
	for range cfg.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := newWorker(store, cfg)
			for req := range jobs {
				write(wk.answer(req))
			}
		}()
	}

	r := bufio.NewReaderSize(in, 1<<20)
	var readErr error
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			req := new(request)
			if jerr := json.Unmarshal(line, req); jerr != nil {
				readErr = fmt.Errorf("unreadable request: %v", jerr)
				break
			}
			if req.Template != "" {
				store.put(req.Key, req.Template)
			}
			mu.Lock()
			pending++
			mu.Unlock()
			jobs <- req
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	close(jobs)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if err := w.Flush(); err != nil && readErr == nil {
		readErr = err
	}
	return readErr
}

// cueVersion is the version of cuelang.org/go this binary was built with.
func cueVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "cuelang.org/go" {
				return dep.Version
			}
		}
	}
	return "unknown"
}
