using System.CommandLine;
using Bulwark.Cli.Commands;

// The composition root of the `bulwark` command: one line per command; each lives in Commands/.
var root = new RootCommand("Bulwark: durable background jobs. Exit codes: 0 success, 1 failure, 2 bad input.")
{
    EnqueueCommand.Create(),
    JobsCommand.Create(),
    QueuesCommand.Create(),
    DlqCommand.Create(),
    PauseCommand.Create(),
    PauseCommand.CreateResume(),
    CleanCommand.Create(),
    FlowCommand.Create(),
    RecurringCommand.Create(),
    WorkersCommand.Create(),
    StalledCommand.Create(),
    CircuitCommand.Create(),
    WorkerCommand.Create(),
    ServeCommand.Create(),
    GameDayCommand.Create(),
    BenchCommand.Create(),
};

return await CliApp.RunAsync(root, args);
