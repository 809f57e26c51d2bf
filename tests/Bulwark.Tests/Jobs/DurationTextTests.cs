using Bulwark.Jobs;

namespace Bulwark.Tests.Jobs;

public sealed class DurationTextTests
{
    public static TheoryData<string, TimeSpan> Examples() => new()
    {
        { "250ms", TimeSpan.FromMilliseconds(250) },
        { "5s", TimeSpan.FromSeconds(5) },
        { "30m", TimeSpan.FromMinutes(30) },
        { "2h", TimeSpan.FromHours(2) },
        { "7d", TimeSpan.FromDays(7) },
        { "1h30m", TimeSpan.FromMinutes(90) },
        { "30", TimeSpan.FromSeconds(30) },
        { "1.5s", TimeSpan.FromMilliseconds(1500) },
        { " 10min ", TimeSpan.FromMinutes(10) },
        { "00:00:05", TimeSpan.FromSeconds(5) },
        { "1.02:03:04", new TimeSpan(1, 2, 3, 4) },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void Parses_human_durations(string text, TimeSpan expected)
    {
        Assert.Equal(expected, DurationText.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("abc")]
    [InlineData("5x")]
    [InlineData("1m30")]
    [InlineData("-5s")]
    [InlineData("s")]
    [InlineData("-00:00:05")]
    [InlineData("99999999999999d")]
    public void Refuses_what_is_not_a_duration_and_names_the_field(string text)
    {
        Assert.False(DurationText.TryParse(text, out _));
        var ex = Assert.Throws<JobValidationException>(() => DurationText.Parse(text, "heartbeat"));
        Assert.Equal("heartbeat", ex.Field);
        Assert.Contains("250ms", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_null_text_is_not_a_duration()
    {
        Assert.False(DurationText.TryParse(null, out _));
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(250L, "250ms")]
    [InlineData(5_000L, "5s")]
    [InlineData(90_000L, "1m30s")]
    [InlineData(86_400_000L + 3_600_000L + 1L, "1d1h1ms")]
    public void Formats_in_the_shortest_readable_form(long milliseconds, string expected)
    {
        Assert.Equal(expected, DurationText.Format(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void Format_and_parse_round_trip_over_many_values()
    {
        var random = new Random(99);
        for (var i = 0; i < 2000; i++)
        {
            var value = TimeSpan.FromMilliseconds(random.NextInt64(0, 30L * 86_400_000));
            Assert.Equal(value, DurationText.Parse(DurationText.Format(value)));
        }
    }
}
