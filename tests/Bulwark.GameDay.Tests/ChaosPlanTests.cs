using Bulwark.GameDay.Chaos;

namespace Bulwark.GameDay.Tests;

public sealed class ChaosPlanTests
{
    [Fact]
    public void One_seed_draws_one_plan_so_a_printed_seed_replays_the_round()
    {
        var first = ChaosPlan.Draw(42, quick: true, workers: 3);
        var again = ChaosPlan.Draw(42, quick: true, workers: 3);
        var other = ChaosPlan.Draw(43, quick: true, workers: 3);

        Assert.Equal(first.Jobs, again.Jobs);
        Assert.Equal(first.Faults, again.Faults);
        Assert.NotEqual(first.Faults, other.Faults);
    }

    [Fact]
    public void A_plan_has_faults_within_the_round_cancels_and_failing_first_attempts()
    {
        var plans = Enumerable.Range(1, 20).Select(s => ChaosPlan.Draw(s, quick: false, workers: 3)).ToArray();

        Assert.All(plans, p => Assert.All(p.Faults, f => Assert.InRange(f.At, TimeSpan.Zero, p.LoadFor + TimeSpan.FromSeconds(1.5))));
        Assert.All(plans, p => Assert.All(p.Faults, f => Assert.InRange(f.Target, 0, 2)));
        Assert.Contains(plans, p => p.Jobs.Any(j => j.CancelAfter is not null));
        Assert.Contains(plans, p => p.Jobs.Any(j => j.Fail > 0));
        Assert.Equal(Enum.GetValues<FaultKind>().Order(), plans.SelectMany(p => p.Faults).Select(f => f.Kind).Distinct().Order());
    }
}
