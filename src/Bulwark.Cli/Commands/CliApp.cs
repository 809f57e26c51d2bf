using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace Bulwark.Cli.Commands;

/// <summary>Parses and runs the command line: parse errors are usage errors (exit 2) with a pointer to the help.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(Command root, string[] args)
    {
        ParseResult parse;
        try
        {
            parse = root.Parse(args);
        }
        catch (InvalidOperationException ex)
        {
            // A value the parser could not convert, met by a validator: still a usage error, never a crash.
            Console.Error.WriteLine($"bulwark: {ex.Message}");
            Console.Error.WriteLine("Run 'bulwark --help' to see the usage.");
            return ExitCodes.Usage;
        }

        if (parse.Errors.Count > 0 && parse.Action is not HelpAction && UnknownCommand(parse, args) is { } unknown)
        {
            // One line, not one error per token: "bulwark explian 25" is a mistyped command, not three problems.
            Console.Error.WriteLine(unknown);
            return ExitCodes.Usage;
        }

        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (var error in parse.Errors)
            {
                Console.Error.WriteLine($"bulwark: {error.Message}");
            }

            Console.Error.WriteLine($"Run '{CommandPath(parse.CommandResult)} --help' to see the usage.");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync();
    }

    /// <summary>When the first word after a command with subcommands names none of them: the line that says so.</summary>
    private static string? UnknownCommand(ParseResult parse, string[] args)
    {
        var command = parse.CommandResult.Command;
        if (command.Subcommands.Count == 0)
        {
            return null;
        }

        var word = parse.UnmatchedTokens.FirstOrDefault();
        if (word is null || word.StartsWith('-') || (args.Length > 0 && command.Parents.Any() is false && args[0].StartsWith('-')))
        {
            return null;
        }

        var path = CommandPath(parse.CommandResult);
        return $"bulwark: there is no command '{path} {word}'; commands: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}. Run '{path} --help'.";
    }

    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? current = command; current is not null; current = current.Parent)
        {
            if (current is CommandResult c)
            {
                names.Insert(0, c.Command.Name);
            }
        }

        return string.Join(' ', names);
    }
}
