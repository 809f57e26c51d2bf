namespace Bulwark.Packaging.Tests;

public sealed class AlertRulesTests
{
    private static readonly string Rules = Repository.PathOf("deploy", "prometheus", "bulwark-alerts.yml");

    [Fact]
    public async Task Alert_rules_pass_promtool_check_rules()
    {
        var check = await ExternalProcess.RunAsync(Promtool.Path(), ["check", "rules", Rules], TimeSpan.FromMinutes(1));
        Assert.True(check.ExitCode == 0, $"promtool check rules failed:{Environment.NewLine}{check.Output}");
        Assert.Contains("SUCCESS", check.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alert_rules_fire_as_their_promtool_unit_tests_expect()
    {
        var test = await ExternalProcess.RunAsync(Promtool.Path(), ["test", "rules", "bulwark-alerts.test.yml"], TimeSpan.FromMinutes(1),
            workingDirectory: Repository.PathOf("deploy", "prometheus"));
        Assert.True(test.ExitCode == 0, $"promtool test rules failed:{Environment.NewLine}{test.Output}");
    }

    [Theory]
    [InlineData("BulwarkWorkerDown")]
    [InlineData("BulwarkDeadLetterDepth")]
    [InlineData("BulwarkCircuitOpen")]
    [InlineData("BulwarkBacklog")]
    [InlineData("BulwarkPersistenceErrors")]
    [InlineData("BulwarkStalledJobsReclaimed")]
    [InlineData("BulwarkNoActiveWorkersWhileJobsWait")]
    public void Each_required_alert_is_defined_with_a_runbook(string alert)
    {
        var lines = File.ReadAllLines(Rules);
        var at = Array.FindIndex(lines, l => l.Trim() == $"- alert: {alert}");
        Assert.True(at >= 0, $"deploy/prometheus/bulwark-alerts.yml has no alert named {alert}.");
        var block = lines.Skip(at + 1).TakeWhile(l => !l.TrimStart().StartsWith("- alert:", StringComparison.Ordinal)).ToArray();
        var runbook = block.Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("runbook:", StringComparison.Ordinal));
        Assert.NotNull(runbook);
        var path = runbook["runbook:".Length..].Trim().Trim('"');
        Assert.True(File.Exists(Repository.PathOf(path.Split('/'))), $"{alert} links to {path}, which does not exist.");
    }
}
