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

    /// <summary>
    /// Per-queue defaults from configuration (<c>Bulwark:Queues:&lt;queue&gt;:MaxAttempts</c>, <c>Backoff</c>, <c>Timeout</c>),
    /// applied by this client to a job that does not set its own. A policy stored in the store (<c>PUT /queues/{q}/policy</c>)
    /// outranks them; their <see cref="QueuePolicy.Retention"/> is read by maintenance.
    /// </summary>
    public IDictionary<string, QueuePolicy> Queues { get; } = new Dictionary<string, QueuePolicy>(StringComparer.Ordinal);
}
