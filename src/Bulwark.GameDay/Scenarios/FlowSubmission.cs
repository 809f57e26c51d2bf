using Bulwark.GameDay.Api;

namespace Bulwark.GameDay.Scenarios;

/// <summary>Submits a flow through <c>POST /api/v1/flows</c>, as a producer would.</summary>
internal static class FlowSubmission
{
    /// <summary>The server's answer to a flow of <paramref name="nodes"/> (name, parents), each a <c>demo.noop</c> job.</summary>
    public static Task<ApiAnswer> SubmitAsync(BulwarkApi api, IReadOnlyList<(string Name, string[] DependsOn)> nodes, CancellationToken cancellationToken) =>
        api.PostJsonAsync("api/v1/flows", System.Text.Json.JsonSerializer.Serialize(new
        {
            nodes = nodes.Select(n => new { name = n.Name, queue = Deployment.Queue, type = "demo.noop", payload = new { }, depends_on = n.DependsOn }).ToArray(),
        }), cancellationToken);
}
