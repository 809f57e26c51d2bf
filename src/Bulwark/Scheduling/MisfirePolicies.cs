using Bulwark.Jobs;

namespace Bulwark.Scheduling;

/// <summary>The names of <see cref="MisfirePolicy"/> values as the API, the CLI and the dashboard write them (<c>skip</c>, <c>run_once</c>).</summary>
public static class MisfirePolicies
{
    /// <summary>The policy's name: <c>skip</c> or <c>run_once</c>.</summary>
    public static string ToName(this MisfirePolicy policy) => policy == MisfirePolicy.RunOnce ? "run_once" : "skip";

    /// <summary>Reads <c>skip</c>, <c>run_once</c> or <c>run-once</c> (null is <c>skip</c>); anything else is a <see cref="JobValidationException"/> saying what is allowed.</summary>
    public static MisfirePolicy Parse(string? text) => text?.Replace('-', '_').ToLowerInvariant() switch
    {
        null or "skip" => MisfirePolicy.Skip,
        "run_once" => MisfirePolicy.RunOnce,
        _ => throw new JobValidationException("misfire", $"\"misfire\" must be \"skip\" (missed ticks are skipped) or \"run_once\" (one run for the missed ticks), not \"{text}\"."),
    };
}
