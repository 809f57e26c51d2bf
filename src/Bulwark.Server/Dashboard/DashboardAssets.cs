using System.Collections.Frozen;

namespace Bulwark.Server.Dashboard;

/// <summary>The script and stylesheet, embedded in the assembly (no CDN, nothing to deploy).</summary>
internal static class DashboardAssets
{
    private static readonly FrozenDictionary<string, (byte[] Content, string Type)> Files = Load();

    public static IResult Serve(HttpContext http, string name)
    {
        DashboardAccessFilter.SetSecurityHeaders(http);
        if (!Files.TryGetValue(name, out var file))
        {
            return Results.NotFound();
        }

        http.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(file.Content, file.Type);
    }

    private static FrozenDictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        const string prefix = "Bulwark.Server.Dashboard.Assets.";
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var name = resource[prefix.Length..];
            var type = name.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript; charset=utf-8"
                : name.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8"
                : "application/octet-stream";
            files[name] = (memory.ToArray(), type);
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
