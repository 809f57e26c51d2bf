using System.CommandLine;
using Bulwark.Cli.Admin;

namespace Bulwark.Cli.Commands;

/// <summary>
/// The options every admin command shares: where to act (<c>--store</c>, or <c>--url</c> + <c>--api-key</c>) and <c>--json</c>.
/// Each command gets its own instances (options cannot be shared between commands).
/// </summary>
internal sealed class ConnectionOptions
{
    /// <summary>The store file used when neither option nor environment names one.</summary>
    public const string DefaultStorePath = "bulwark.db";

    public Option<string?> Store { get; } = new("--store")
    {
        Description = "The SQLite store file to work on (default ./bulwark.db, or $BULWARK_STORE), or a postgres:// URL or Npgsql connection string; ?schema=NAME in the URL (or Schema=NAME) picks the schema of the tables (default bulwark).",
        HelpName = "PATH",
    };

    public Option<string?> Url { get; } = new("--url")
    {
        Description = "A Bulwark server to talk to instead of a store file (or $BULWARK_URL).",
        HelpName = "URL",
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "API key for --url (or $BULWARK_API_KEY).",
        HelpName = "KEY",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print JSON instead of text, for scripts.",
    };

    /// <summary>Adds the options to <paramref name="command"/> and returns it.</summary>
    public Command AddTo(Command command)
    {
        command.Options.Add(Store);
        command.Options.Add(Url);
        command.Options.Add(ApiKey);
        command.Options.Add(Json);
        return command;
    }

    public bool WantsJson(ParseResult result) => result.GetValue(Json);

    /// <summary>
    /// Resolves where to act. An explicit option beats the environment, and an explicit <c>--store</c>
    /// beats <c>$BULWARK_URL</c>, so that a script can always pin one store.
    /// </summary>
    public AdminConnection Resolve(ParseResult result)
    {
        var url = result.GetValue(Url);
        var store = result.GetValue(Store);
        var apiKey = result.GetValue(ApiKey) ?? NonEmpty(Environment.GetEnvironmentVariable("BULWARK_API_KEY"));
        if (store is not null && url is not null)
        {
            throw new CliException(ExitCodes.Usage, "Give either --store or --url, not both.");
        }

        if (store is not null && string.IsNullOrWhiteSpace(store))
        {
            throw new CliException(ExitCodes.Usage, "--store is empty; give the path of the store file, such as ./bulwark.db.");
        }

        url ??= store is null ? NonEmpty(Environment.GetEnvironmentVariable("BULWARK_URL")) : null;
        store ??= NonEmpty(Environment.GetEnvironmentVariable("BULWARK_STORE")) ?? DefaultStorePath;
        return new AdminConnection(url, apiKey, store);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
