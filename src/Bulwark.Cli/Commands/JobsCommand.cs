using System.CommandLine;
using Bulwark.Jobs;
using Bulwark.Server;
using Bulwark.Storage;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark jobs list|show|cancel|retry</c>.</summary>
internal static class JobsCommand
{
    public static Command Create() => new("jobs", "List, inspect, cancel and retry jobs.")
    {
        List(),
        Show(),
        Cancel(),
        Retry(),
    };

    private static Command List()
    {
        var connection = new ConnectionOptions();
        var queue = CliValues.QueueOption();
        var state = CliValues.State("Only jobs in this state.");
        var limit = CliValues.Limit(50, JobListQuery.MaxLimit);
        var cursor = CliValues.Cursor();
        var command = connection.AddTo(new Command("list", "List jobs, newest first, a page at a time.") { queue, state, limit, cursor });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var page = await backend.ListJobsAsync(new JobListQuery(r.GetValue(queue), r.GetValue(state), r.GetValue(cursor), r.GetValue(limit)), ct);
            if (connection.WantsJson(r))
            {
                CliJson.Print(BulwarkApiJson.JobPage(page));
                return ExitCodes.Success;
            }

            PrintJobs(page.Items);
            PrintCursor(page.NextCursor);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Show()
    {
        var connection = new ConnectionOptions();
        var id = CliValues.JobIdArgument();
        var command = connection.AddTo(new Command("show", "Show every field of a job, its errors as a timeline.") { id });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var job = await backend.GetJobAsync(r.GetValue(id), ct) ?? throw NotFound(r.GetValue(id), backend.Describe);
            if (connection.WantsJson(r))
            {
                CliJson.Print(BulwarkApiJson.Job(job));
                return ExitCodes.Success;
            }

            PrintJob(job);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Cancel()
    {
        var connection = new ConnectionOptions();
        var id = CliValues.JobIdArgument();
        var command = connection.AddTo(new Command("cancel", "Cancel a job: at once if it waits, at its worker's next heartbeat if it runs.") { id });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var jobId = r.GetValue(id);
            var result = await backend.CancelAsync(jobId, ct);
            return result switch
            {
                CancelResult.Cancelled => Say($"Job {jobId} cancelled."),
                CancelResult.CancellationRequested => Say($"Job {jobId} is running; its worker will be told to stop at its next heartbeat."),
                CancelResult.NotFound => throw NotFound(jobId, backend.Describe),
                _ => throw new CliException(ExitCodes.Failure, $"Job {jobId} already finished; there is nothing to cancel."),
            };

            int Say(string message)
            {
                if (connection.WantsJson(r))
                {
                    CliJson.Print(new { id = jobId, result });
                }
                else
                {
                    Console.Out.WriteLine(message);
                }

                return ExitCodes.Success;
            }
        }));
        return command;
    }

    private static Command Retry()
    {
        var connection = new ConnectionOptions();
        var id = CliValues.JobIdArgument();
        var command = connection.AddTo(new Command("retry", "Move a failed, dead-lettered or cancelled job back to ready, attempts reset.") { id });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var jobId = r.GetValue(id);
            AdminResult result;
            try
            {
                result = await backend.RetryAsync(jobId, ct);
            }
            catch (JobConflictException ex)
            {
                // Another job stands in the way (a dependency that did not complete, a live job with the key): say which.
                throw new CliException(ExitCodes.Failure, ex.Message);
            }

            switch (result)
            {
                case AdminResult.Ok:
                    // Pending when a job it depends on is live again: it runs once that completes.
                    var state = (await backend.GetJobAsync(jobId, ct))?.State ?? JobState.Ready;
                    if (connection.WantsJson(r))
                    {
                        CliJson.Print(new { id = jobId, result = "retried", state = state.ToName() });
                    }
                    else
                    {
                        Console.Out.WriteLine(state == JobState.Pending
                            ? $"Job {jobId} is pending again: it runs once the jobs it depends on complete."
                            : $"Job {jobId} is ready to run again.");
                    }

                    return ExitCodes.Success;
                case AdminResult.NotFound:
                    throw NotFound(jobId, backend.Describe);
                default:
                    var job = await backend.GetJobAsync(jobId, ct);
                    throw new CliException(
                        ExitCodes.Failure,
                        $"Job {jobId} is {job?.State.ToName() ?? "not retryable"}; only failed, dead_letter and cancelled jobs can be retried.");
            }
        }));
        return command;
    }

    internal static void PrintJobs(IReadOnlyList<JobSnapshot> jobs)
    {
        var table = new TextTable("ID", "QUEUE", "TYPE", "STATE", "PRI", "ATTEMPT", "RUN AT", "CREATED", "LAST ERROR");
        foreach (var job in jobs)
        {
            table.Add(
                TextFormat.Number(job.Id),
                job.Queue,
                TextFormat.Shorten(job.Type, 40),
                job.State.ToName(),
                TextFormat.Number(job.Priority),
                $"{job.Attempt}/{job.MaxAttempts}",
                TextFormat.Time(job.RunAt),
                TextFormat.Time(job.CreatedAt),
                TextFormat.LastError(job));
        }

        table.Print(Console.Out);
    }

    internal static void PrintCursor(long? next)
    {
        Console.Out.WriteLine(next is { } cursor ? $"next cursor: {TextFormat.Number(cursor)} (pass --cursor {TextFormat.Number(cursor)} for the next page)" : "next cursor: none (last page)");
    }

    private static void PrintJob(JobSnapshot job)
    {
        var fields = new List<(string Name, string Value)>
        {
            ("id", TextFormat.Number(job.Id)),
            ("queue", job.Queue),
            ("type", job.Type),
            ("state", job.State.ToName() + (job.CancelRequested ? " (cancellation requested)" : "")),
            ("reason", job.Reason ?? "-"),
            ("priority", TextFormat.Number(job.Priority)),
            ("attempt", $"{job.Attempt} of {job.MaxAttempts}"),
            ("run at", TextFormat.Time(job.RunAt)),
            ("created", TextFormat.Time(job.CreatedAt)),
            ("updated", TextFormat.Time(job.UpdatedAt)),
            ("started", TextFormat.Time(job.StartedAt)),
            ("finished", TextFormat.Time(job.FinishedAt)),
            ("expires", TextFormat.Time(job.ExpiresAt)),
            ("timeout", DurationText.Format(job.Timeout)),
            ("backoff", job.Backoff.ToString()),
            ("key", job.Key ?? "-"),
            ("depends on", job.DependsOn.Count == 0 ? "-" : string.Join(", ", job.DependsOn)),
            ("lease", job.LeaseOwner is null ? "-" : $"{job.LeaseOwner} until {TextFormat.Time(job.LeaseExpiresAt)} (epoch {job.LeaseEpoch})"),
            ("lost leases", TextFormat.Number(job.LostLeases)),
            ("progress", $"{job.Progress}%"),
            ("trace parent", job.TraceParent ?? "-"),
            ("payload", job.Payload),
            ("checkpoint", job.Checkpoint ?? "-"),
            ("result", job.Result ?? "-"),
        };
        var width = fields.Max(f => f.Name.Length) + 2;
        foreach (var (name, value) in fields)
        {
            Console.Out.WriteLine((name + ":").PadRight(width) + value);
        }

        Console.Out.WriteLine(job.Errors.Count == 0 ? "errors:".PadRight(width) + "none" : "errors:");
        foreach (var error in job.Errors.OrderBy(e => e.Attempt).ThenBy(e => e.EndedAt))
        {
            Console.Out.WriteLine($"  attempt {error.Attempt}  {TextFormat.Time(error.StartedAt)} → {TextFormat.Time(error.EndedAt)}  {error.Category}  worker {error.WorkerId ?? "-"}");
            Console.Out.WriteLine($"    {(error.ExceptionType is null ? "" : error.ExceptionType + ": ")}{error.Message}");
            if (error.StackTrace is not null)
            {
                foreach (var line in error.StackTrace.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    Console.Out.WriteLine("      " + line.Trim());
                }
            }
        }
    }

    private static CliException NotFound(long id, string where) => new(ExitCodes.Failure, $"There is no job {id} in the {where}.");
}
