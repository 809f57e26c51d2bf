using System.CommandLine;
using Bulwark.Cli.Commands;

// The composition root of the `bulwark` command: one line per command; each lives in Commands/.
// A plain command named "bulwark" as the root: RootCommand takes the assembly's name (Bulwark.Cli) for the help.
var root = new Command("bulwark", "Bulwark: durable background jobs. Exit codes: 0 success, 1 failure, 2 bad input.")
{
    new System.CommandLine.Help.HelpOption(),
    new VersionOption(),
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
    ExplainCommand.Create(),
    ReclaimStalledCommand.Create(),
    CircuitCommand.Create(),
    WorkerCommand.Create(),
    ServeCommand.Create(),
    GameDayCommand.Create(),
    BenchCommand.Create(),
};

return await CliApp.RunAsync(root, args);
