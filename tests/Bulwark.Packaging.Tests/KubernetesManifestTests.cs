using Bulwark.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Packaging.Tests;

/// <summary>deploy/kubernetes parses, and its pieces agree: KEDA scales the worker Deployment on the ready depth the server exports.</summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Folder = Repository.PathOf("deploy", "kubernetes");

    [Fact]
    public void Every_manifest_parses_and_names_its_kind_api_version_and_name()
    {
        var documents = All().ToArray();

        Assert.Equal(["Deployment", "Deployment", "ScaledObject", "Secret", "Service"], documents.Select(d => Text(d, "kind")).Order(StringComparer.Ordinal));
        Assert.All(documents, d => Assert.False(string.IsNullOrEmpty(Text(d, "apiVersion"))));
        Assert.All(documents, d => Assert.False(string.IsNullOrEmpty(Text(d, "metadata", "name"))));
    }

    [Fact]
    public void The_scaled_object_scales_the_worker_deployment_on_the_ready_queue_depth_the_server_exports()
    {
        var scaled = Single("ScaledObject");
        var target = Text(scaled, "spec", "scaleTargetRef", "name");
        var worker = All().Single(d => Text(d, "kind") == "Deployment" && Text(d, "metadata", "name") == target);
        var trigger = (YamlMappingNode)((YamlSequenceNode)Node(scaled, "spec", "triggers")).Children.Single();

        Assert.Equal("keda.sh/v1alpha1", Text(scaled, "apiVersion"));
        Assert.Equal("prometheus", Text(trigger, "type"));
        var query = Text(trigger, "metadata", "query");
        Assert.Contains("bulwark_queue_depth{state=\"ready\"", query, StringComparison.Ordinal);
        Assert.Contains("bulwark_queue_depth", Telemetry.PrometheusNames);
        Assert.True(double.Parse(Text(trigger, "metadata", "threshold"), System.Globalization.CultureInfo.InvariantCulture) > 0);
        // The queue KEDA watches is one the worker serves.
        var queue = System.Text.RegularExpressions.Regex.Match(query, "queue=\"([^\"]+)\"").Groups[1].Value;
        Assert.Contains(Env(worker).Where(e => e.Key.StartsWith("Bulwark__Worker__Queues__", StringComparison.Ordinal)), e => e.Value == queue);
        Assert.True(int.Parse(Text(scaled, "spec", "minReplicaCount"), System.Globalization.CultureInfo.InvariantCulture) >= 1);
    }

    [Fact]
    public void The_server_runs_no_jobs_uses_postgresql_and_keys_and_its_probes_are_the_health_endpoints()
    {
        var server = All().Single(d => Text(d, "kind") == "Deployment" && Text(d, "metadata", "name") == "bulwark-server");
        var container = Container(server);
        var args = ((YamlSequenceNode)container.Children[new YamlScalarNode("args")]).Children.Select(a => a.ToString()).ToArray();

        Assert.Equal("serve", args[0]);
        Assert.Equal("0", args[Array.IndexOf(args, "--workers") + 1]);
        var env = Env(server);
        Assert.Equal("store", env["BULWARK_STORE"]);
        Assert.StartsWith("postgres://", Text(Single("Secret"), "stringData", "store"), StringComparison.Ordinal);
        Assert.Contains("Bulwark__Server__AdminKeys__0", env.Keys);
        Assert.Equal("/health/live", Text(container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("/health/ready", Text(container, "readinessProbe", "httpGet", "path"));
        var service = Single("Service");
        Assert.Equal(Text(server, "spec", "selector", "matchLabels", "app.kubernetes.io/name"), Text(service, "spec", "selector", "app.kubernetes.io/name"));
    }

    [Fact]
    public void Pods_get_longer_than_the_drain_to_stop()
    {
        // AddWorker's host timeout: ShutdownTimeout + 5 s abandon grace + 10 s margin.
        var worker = All().Single(d => Text(d, "kind") == "Deployment" && Text(d, "metadata", "name") != "bulwark-server");
        var shutdown = Env(worker).TryGetValue("Bulwark__Worker__ShutdownTimeout", out var text) ? int.Parse(text.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture) : 30;
        var grace = int.Parse(Text(worker, "spec", "template", "spec", "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(grace > shutdown + 5 + 10, $"terminationGracePeriodSeconds {grace} must exceed the drain ({shutdown + 15} s).");
        Assert.Equal("/health/ready", Text(Container(worker), "readinessProbe", "httpGet", "path"));
    }

    private static IEnumerable<YamlMappingNode> All()
    {
        foreach (var file in Directory.GetFiles(Folder, "*.yaml").Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(file);
            stream.Load(reader);
            foreach (var document in stream.Documents)
            {
                yield return Assert.IsType<YamlMappingNode>(document.RootNode);
            }
        }
    }

    private static YamlMappingNode Single(string kind) => All().Single(d => Text(d, "kind") == kind);

    private static YamlMappingNode Container(YamlMappingNode deployment) =>
        (YamlMappingNode)((YamlSequenceNode)Node(deployment, "spec", "template", "spec", "containers")).Children.Single();

    /// <summary>A container's environment: a literal value, or the secret key it reads.</summary>
    private static Dictionary<string, string> Env(YamlMappingNode deployment) =>
        ((YamlSequenceNode)Container(deployment).Children[new YamlScalarNode("env")]).Children.Cast<YamlMappingNode>().ToDictionary(
            e => Text(e, "name"),
            e => e.Children.ContainsKey(new YamlScalarNode("value")) ? Text(e, "value") : Text(e, "valueFrom", "secretKeyRef", "key"),
            StringComparer.Ordinal);

    private static YamlNode Node(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            var map = Assert.IsType<YamlMappingNode>(node);
            Assert.True(map.Children.TryGetValue(new YamlScalarNode(key), out var next), $"missing '{key}' in {string.Join('.', path)}");
            node = next!;
        }

        return node;
    }

    private static string Text(YamlNode node, params string[] path) => ((YamlScalarNode)Node(node, path)).Value ?? "";
}
