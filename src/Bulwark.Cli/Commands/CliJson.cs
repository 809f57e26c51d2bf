using System.Text.Encodings.Web;
using System.Text.Json;
using Bulwark.Server;

namespace Bulwark.Cli.Commands;

/// <summary>
/// <c>--json</c> output in the HTTP API's names and shapes (<see cref="BulwarkApiJson"/>): snake_case, payloads as JSON,
/// durations as <c>30s</c>, the same envelopes (<c>items</c>/<c>next_cursor</c>, <c>queues</c>, <c>workers</c>…), so a
/// script can switch between <c>--store</c>, <c>--url</c> and the API.
/// </summary>
internal static class CliJson
{
    private static readonly JsonSerializerOptions Options = new(BulwarkApiJson.Options)
    {
        WriteIndented = true,
        // A terminal shows text as written: no \u escapes for '+' or non-ASCII names.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Print<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));
}
