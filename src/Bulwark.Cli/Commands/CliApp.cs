using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace Bulwark.Cli.Commands;

/// <summary>Parses and runs the command line: parse errors are usage errors (exit 2) with a pointer to the help.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(RootCommand root, string[] args)
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

    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? current = command; current is not null; current = current.Parent)
        {
            if (current is CommandResult c)
            {
                names.Insert(0, c.Command is RootCommand ? "bulwark" : c.Command.Name);
            }
        }

        return string.Join(' ', names);
    }
}
