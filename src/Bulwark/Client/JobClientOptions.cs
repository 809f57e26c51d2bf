using System.Text.Json;
using Bulwark.Jobs;

namespace Bulwark.Client;

/// <summary>Options of <see cref="JobClient"/>.</summary>
public sealed class JobClientOptions
{
    /// <summary>Largest payload accepted, in UTF-8 bytes (default 1 MiB).</summary>
    public int MaxPayloadBytes { get; set; } = JobDefaults.MaxPayloadBytes;

    /// <summary>How payload objects are serialized (default: web defaults, camelCase).</summary>
    public JsonSerializerOptions SerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);
}
