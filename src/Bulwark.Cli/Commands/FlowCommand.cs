using System.CommandLine;
using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Server.Api;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark flow submit FILE.json</c>: named jobs and their edges, enqueued atomically.</summary>
internal static class FlowCommand
{
    public static Command Create() => new("flow", "Enqueue flows: named jobs that wait for each other.")
    {
        Submit(),
    };

    private static Command Submit()
    {
        var connection = new ConnectionOptions();
        var file = new Argument<string>("file")
        {
            Description = "The flow as JSON, the body of POST /flows: {\"nodes\":[{\"name\",\"queue\",\"type\",\"payload\",\"depends_on\":[names],...}]}; '-' reads stdin.",
            HelpName = "FILE.json",
        };
        var command = connection.AddTo(new Command("submit", "Enqueue a flow atomically (all nodes or none) and print each node's job id.") { file });
        command.SetAction(CliAction.Run(async (r, ct) =>
        {
            var path = r.GetValue(file)!;
            using var document = await ReadAsync(path, ct);
            // Checked before any store or server is reached: names, edges, cycles.
            FlowRequestReader.Read(document.RootElement);
            var backend = await connection.Resolve(r).OpenAsync(createStore: true, ct);
            await using (backend)
            {
                var ids = await backend.SubmitFlowAsync(document.RootElement, ct);
                if (connection.WantsJson(r))
                {
                    // A JsonObject keeps the nodes' names as written (a dictionary's keys would be snake_cased).
                    CliJson.Print(new { ids = new System.Text.Json.Nodes.JsonObject(ids.Select(p => KeyValuePair.Create(p.Key, (System.Text.Json.Nodes.JsonNode?)p.Value))) });
                    return ExitCodes.Success;
                }

                var table = new TextTable(["NODE", "JOB"]);
                foreach (var (name, id) in ids)
                {
                    table.Add([name, TextFormat.Number(id)]);
                }

                table.Print(Console.Out);
                return ExitCodes.Success;
            }
        }));
        return command;
    }

    private static async Task<JsonDocument> ReadAsync(string path, CancellationToken cancellationToken)
    {
        string text;
        if (path == "-")
        {
            text = await Console.In.ReadToEndAsync(cancellationToken);
        }
        else if (!File.Exists(path))
        {
            throw new JobValidationException("file", $"There is no file {Path.GetFullPath(path)}; give the path of a flow JSON file (or '-' for stdin).");
        }
        else
        {
            text = await File.ReadAllTextAsync(path, cancellationToken);
        }

        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new JobValidationException("file", $"{(path == "-" ? "stdin" : path)} is not valid JSON ({ex.Message}); write a flow like {{\"nodes\":[{{\"name\":\"a\",\"type\":\"demo.noop\"}},{{\"name\":\"b\",\"type\":\"demo.noop\",\"depends_on\":[\"a\"]}}]}}.");
        }
    }
}
