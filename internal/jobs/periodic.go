package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// Periodic is work the queue runs on a schedule (and once at start), on
// one replica at a time: River's elected leader inserts it.
type Periodic struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// TaskArgs is the job of a periodic task.
type TaskArgs struct {
	Name string `json:"name"`
}

// Kind implements river.JobArgs.
func (TaskArgs) Kind() string { return "task" }

type taskWorker struct {
	river.WorkerDefaults[TaskArgs]
	tasks map[string]func(context.Context) error
}

func (w *taskWorker) Work(ctx context.Context, job *river.Job[TaskArgs]) error {
	run, ok := w.tasks[job.Args.Name]
	if !ok {
		return river.JobCancel(fmt.Errorf("no task %q in this version", job.Args.Name))
	}
	return run(ctx)
}

func periodicJobs(tasks []Periodic) []*river.PeriodicJob {
	var out []*river.PeriodicJob
	for _, t := range tasks {
		args := TaskArgs{Name: t.Name}
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(t.Every),
			func() (river.JobArgs, *river.InsertOpts) {
				// One pending run per task, however many replicas or restarts.
				return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
			}, &river.PeriodicJobOpts{RunOnStart: true}))
	}
	return out
}
