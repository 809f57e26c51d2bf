using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.Server.Api;

/// <summary>The API's one JSON shape: snake_case names, nulls left out, enums as snake_case strings.</summary>
internal static class ApiJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Turns stored JSON text back into a JSON value for a response (payload, result, checkpoint).</summary>
    public static JsonElement? Raw(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            // Stored before validation existed or written by a handler: show it as a string rather than fail the read.
            return JsonSerializer.SerializeToElement(json);
        }
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
