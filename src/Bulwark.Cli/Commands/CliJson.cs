using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.Cli.Commands;

/// <summary>The JSON that <c>--json</c> prints: web naming (camelCase), states by their wire names, backoff as its text form.</summary>
internal static class CliJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JobStateJsonConverter(), new BackoffPolicyJsonConverter(), new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static void Print<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));

    /// <summary>Prints an object whose property names are already the API's (snake_case), unchanged.</summary>
    public static void PrintApiShape<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, AsWritten));

    private static readonly JsonSerializerOptions AsWritten = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
