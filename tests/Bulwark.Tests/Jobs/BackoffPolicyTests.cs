using Bulwark.Jobs;

namespace Bulwark.Tests.Jobs;

public sealed class BackoffPolicyTests
{
    [Theory]
    [InlineData("exponential(1s,1h,0.2)")]
    [InlineData("exponential(250ms,5m,0)")]
    [InlineData("exponential(2s,2s,1)")]
    [InlineData("fixed(5s)")]
    [InlineData("fixed(0s)")]
    [InlineData("1s,5s,30s")]
    [InlineData("1m30s")]
    public void ToString_and_Parse_round_trip(string text)
    {
        var policy = BackoffPolicy.Parse(text);

        Assert.Equal(text, policy.ToString());
        Assert.Equal(policy, BackoffPolicy.Parse(policy.ToString()));
    }

    [Fact]
    public void The_default_round_trips()
    {
        Assert.Equal(BackoffPolicy.Default, BackoffPolicy.Parse(BackoffPolicy.Default.ToString()));
    }

    [Fact]
    public void Short_forms_fill_in_the_defaults()
    {
        Assert.Equal(new ExponentialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), 0.2), BackoffPolicy.Parse("exponential(1s)"));
        Assert.Equal(new ExponentialBackoff(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1), 0.2), BackoffPolicy.Parse("exp(2s, 1m)"));
        Assert.Equal(BackoffPolicy.Fixed(TimeSpan.FromSeconds(3)), BackoffPolicy.Parse(" FIXED(3s) "));
    }

    [Fact]
    public void Exponential_delays_stay_within_their_jitter_bounds_and_never_pass_the_cap()
    {
        var random = new Random(2024);
        for (var trial = 0; trial < 200; trial++)
        {
            var baseMs = random.Next(1, 5000);
            var capMs = baseMs * random.Next(1, 5000);
            var jitter = random.NextDouble();
            var policy = (ExponentialBackoff)BackoffPolicy.Exponential(TimeSpan.FromMilliseconds(baseMs), TimeSpan.FromMilliseconds(capMs), jitter);
            for (var attempt = 1; attempt <= 80; attempt++)
            {
                var r = random.NextDouble();
                var delay = policy.DelayFor(attempt, r).TotalMilliseconds;
                var raw = baseMs * Math.Pow(2, Math.Min(attempt - 1, 62));
                var nominal = Math.Min(raw, capMs);
                var low = nominal * (1 - jitter);
                var high = Math.Min(capMs, nominal * (1 + jitter));

                Assert.True(delay >= low - 1 && delay <= high + 1, $"attempt {attempt}, base {baseMs}, cap {capMs}, jitter {jitter}: {delay} not in [{low}, {high}]");
                Assert.True(delay <= capMs + 1, $"{delay} is above the cap {capMs}");
                Assert.True(delay >= 0);
            }
        }
    }

    [Fact]
    public void Exponential_without_jitter_doubles_until_the_cap()
    {
        var policy = BackoffPolicy.Exponential(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 0);

        var delays = Enumerable.Range(1, 6).Select(a => policy.DelayFor(a, 0.9).TotalSeconds);

        Assert.Equal([1, 2, 4, 8, 10, 10], delays);
    }

    [Fact]
    public void Exponential_survives_huge_attempt_numbers()
    {
        var policy = BackoffPolicy.Exponential(TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), 0.2);

        Assert.Equal(TimeSpan.FromHours(1), policy.DelayFor(int.MaxValue, 1.0));
        Assert.True(policy.DelayFor(int.MaxValue, 0.0) >= TimeSpan.FromHours(0.8) - TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public void Fixed_is_the_same_for_every_attempt()
    {
        var policy = BackoffPolicy.Fixed(TimeSpan.FromSeconds(7));

        Assert.All(Enumerable.Range(1, 20), a => Assert.Equal(TimeSpan.FromSeconds(7), policy.DelayFor(a, a / 21.0)));
    }

    [Fact]
    public void Steps_follow_the_list_and_repeat_the_last()
    {
        var policy = BackoffPolicy.Parse("1s,5s,30s");

        var delays = Enumerable.Range(1, 6).Select(a => policy.DelayFor(a, 0.5).TotalSeconds);

        Assert.Equal([1, 5, 30, 30, 30, 30], delays);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("exponential()")]
    [InlineData("exponential(1s,1h,0.2,9)")]
    [InlineData("exponential(1h,1s)")]
    [InlineData("exponential(1s,1h,1.5)")]
    [InlineData("exponential(1s,1h,-0.1)")]
    [InlineData("exponential(1s,1h,lots)")]
    [InlineData("exponential(soon)")]
    [InlineData("fixed()")]
    [InlineData("fixed(1s,2s)")]
    [InlineData("linear(1s)")]
    [InlineData("1s,,banana")]
    [InlineData(",")]
    public void Invalid_policies_are_refused_with_a_message(string text)
    {
        var ex = Assert.Throws<JobValidationException>(() => BackoffPolicy.Parse(text));

        Assert.Equal("backoff", ex.Field);
        Assert.False(string.IsNullOrWhiteSpace(ex.Reason));
    }

    [Fact]
    public void Negative_or_empty_policies_are_refused_when_built_in_code()
    {
        Assert.Throws<JobValidationException>(() => BackoffPolicy.Fixed(TimeSpan.FromSeconds(-1)));
        Assert.Throws<JobValidationException>(() => BackoffPolicy.Steps());
        Assert.Throws<JobValidationException>(() => BackoffPolicy.Steps(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(-1)));
        Assert.Throws<JobValidationException>(() => BackoffPolicy.Exponential(TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1)));
        Assert.Throws<JobValidationException>(() => BackoffPolicy.Exponential(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), double.NaN));
    }
}
