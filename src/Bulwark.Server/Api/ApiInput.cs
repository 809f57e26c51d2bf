using System.Globalization;
using System.Text.Json;
using Bulwark.Jobs;

namespace Bulwark.Server.Api;

/// <summary>Parses route and query values by hand, so that every bad value gets a problem+json answer that says what to write.</summary>
internal static class ApiInput
{
    public static long JobId(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : throw ApiProblemException.BadRequest($"'{Shorten(text)}' is not a job id; ids are positive whole numbers such as 42.");

    public static string Queue(string text)
    {
        JobValidator.ValidateQueue(text);
        return text;
    }

    public static JobState? State(string? text) => string.IsNullOrEmpty(text) ? null : JobStates.Parse(text);

    public static int Limit(string? text, int fallback, int max)
    {
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= max
            ? n
            : throw ApiProblemException.BadRequest($"limit={Shorten(text)} is not a page size; give a whole number from 1 to {max}.");
    }

    public static long? Cursor(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : throw ApiProblemException.BadRequest($"cursor={Shorten(text)} is not a cursor; pass the next_cursor value of the previous page unchanged.");
    }

    /// <summary>Reads a JSON body of at most <paramref name="maxBytes"/>: 413 when larger, 415 when not JSON, 400 when malformed.</summary>
    public static async Task<JsonDocument> JsonBodyAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentType is { Length: > 0 } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"The body is {type}; send JSON with Content-Type: application/json.");
        }

        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge(maxBytes);
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            throw ApiProblemException.BadRequest("The body is empty; send a job as JSON, for example {\"queue\":\"default\",\"type\":\"demo.noop\",\"payload\":{}}.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw ApiProblemException.BadRequest($"The body is not valid JSON ({ex.Message}); send a job as JSON, for example {{\"queue\":\"default\",\"type\":\"demo.noop\",\"payload\":{{}}}}.");
        }

        if (UndecodableAt(document.RootElement) is { } field)
        {
            document.Dispose();
            throw new ApiProblemException(StatusCodes.Status400BadRequest, "Bad request",
                $"\"{Shorten(field)}\" holds text that is not valid Unicode (invalid UTF-8 bytes or a lone surrogate escape such as \\ud800); nothing was stored. Send UTF-8 text, and escape only whole surrogate pairs.",
                field: field);
        }

        return document;
    }

    /// <summary>
    /// The path (<c>jobs[1].payload.to[0]</c>) of the first string or property name that cannot become .NET text
    /// (invalid UTF-8 bytes, or an escaped lone surrogate such as "\ud800"), or null. The parser accepts both and
    /// defers the failure to the first read of the string, which surfaced as a 500 deep inside a reader; checking the
    /// whole document once here lets every endpoint answer 400 before it reads a field.
    /// </summary>
    private static string? UndecodableAt(JsonElement root) => Undecodable(root) switch
    {
        null => null,
        "" => "(the body)",
        ['.' or ' ', .. var rest] => rest,
        var path => path,
    };

    // The path is built only on the way back from a bad string, so a valid body costs no allocations for it.
    private static string? Undecodable(JsonElement node)
    {
        switch (node.ValueKind)
        {
            case JsonValueKind.String:
                return Decodes(node) ? null : "";
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in node.EnumerateArray())
                {
                    if (Undecodable(item) is { } rest)
                    {
                        return $"[{index}]{rest}";
                    }

                    index++;
                }

                return null;
            case JsonValueKind.Object:
                foreach (var property in node.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        // No name to give: point at the object, and say it is one of its names.
                        return " (a property name)";
                    }

                    if (Undecodable(property.Value) is { } rest)
                    {
                        return $".{name}{rest}";
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static bool Decodes(JsonElement text)
    {
        try
        {
            _ = text.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static ApiProblemException TooLarge(long maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, "Payload too large",
            $"The request body is over the limit of {maxBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes; nothing was stored. Send fewer jobs per request, or store large data elsewhere and pass a reference.");

    private static string Shorten(string s) => s.Length <= 40 ? s : string.Concat(s.AsSpan(0, 37), "...");
}
