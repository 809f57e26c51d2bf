using System.CommandLine;
using Bulwark.Cli.Admin;
using Bulwark.Server.Api;
using Bulwark.Storage;
using Bulwark.Workers;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark circuit list|open TYPE|close TYPE</c>: the fleet's per-type circuit breakers, kept by the store.</summary>
internal static class CircuitCommand
{
    public static Command Create() => new("circuit", "The fleet's per-type circuit breakers: list them, or open and close one by hand for every worker.")
    {
        List(),
        Set("open", open: true, "Open a job type's breaker for the whole fleet: every worker stops leasing it within one poll (running jobs finish) until it is closed."),
        Set("close", open: false, "Close a job type's hand-opened breaker: the fleet leases it again within one poll."),
    };

    private static Command List()
    {
        var connection = new ConnectionOptions();
        var command = connection.AddTo(new Command("list", "List open and half-open breakers: opened by hand (fleet-wide) and each live worker's own."));
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var breakers = await backend.ListCircuitsAsync(ct);
            if (connection.WantsJson(r))
            {
                CliJson.Print(new { types = breakers.Select(CircuitBreakerActions.View).ToArray() });
                return ExitCodes.Success;
            }

            if (breakers.Count == 0)
            {
                Console.Out.WriteLine("Every circuit is closed.");
                return ExitCodes.Success;
            }

            var table = new TextTable("TYPE", "STATE", "OPENED BY", "SINCE", "RESETS", "FAILURES");
            foreach (var b in breakers)
            {
                table.Add(b.Type, b.State.ToName(), b.WorkerId is { } w ? $"failures on {w}" : "hand (fleet)", TextFormat.Time(b.Since), b.ResetAt is null ? "when closed" : TextFormat.Time(b.ResetAt), TextFormat.Number(b.ConsecutiveFailures));
            }

            table.Print(Console.Out);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Set(string name, bool open, string description)
    {
        var connection = new ConnectionOptions();
        var type = CliValues.TypeArgument();
        var command = connection.AddTo(new Command(name, description) { type });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var typeName = r.GetValue(type)!;
            if (open)
            {
                var breaker = await backend.OpenCircuitAsync(typeName, ct);
                Print(connection, r, CircuitBreakerActions.View(breaker), $"Circuit of '{typeName}' is open for the whole fleet since {TextFormat.Time(breaker.Since)}: workers stop leasing it within one poll. Close it with: bulwark circuit close {typeName}");
            }
            else
            {
                var wasOpen = await backend.CloseCircuitAsync(typeName, ct);
                Print(connection, r, new { type = typeName, state = CircuitState.Closed.ToName(), was_open = wasOpen },
                    wasOpen ? $"Circuit of '{typeName}' is closed: workers lease it again within one poll." : $"Circuit of '{typeName}' was not open by hand; nothing changed.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static void Print(ConnectionOptions connection, ParseResult r, object json, string text)
    {
        if (connection.WantsJson(r))
        {
            CliJson.Print(json);
        }
        else
        {
            Console.Out.WriteLine(text);
        }
    }
}
