using Bulwark.Jobs;

namespace Bulwark.Tests.Jobs;

public sealed class JobStatesTests
{
    [Fact]
    public void Every_state_has_a_distinct_name_that_parses_back()
    {
        var names = JobStates.All.Select(s => s.ToName()).ToList();

        Assert.Equal(Enum.GetValues<JobState>().Length, names.Distinct().Count());
        Assert.All(JobStates.All, s => Assert.Equal(s, JobStates.Parse(s.ToName())));
    }

    [Theory]
    [InlineData("dead_letter")]
    [InlineData("DeadLetter")]
    [InlineData("dead-letter")]
    [InlineData("DLQ")]
    [InlineData("dead")]
    public void Dead_letter_has_forgiving_spellings(string text)
    {
        Assert.Equal(JobState.DeadLetter, JobStates.Parse(text));
    }

    [Theory]
    [InlineData(" Running ", JobState.Running)]
    [InlineData("canceled", JobState.Cancelled)]
    [InlineData("CANCELLED", JobState.Cancelled)]
    public void Parsing_ignores_case_space_and_spelling(string text, JobState expected)
    {
        Assert.Equal(expected, JobStates.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("done")]
    [InlineData("3")]
    public void An_unknown_name_is_refused_listing_the_valid_ones(string text)
    {
        Assert.False(JobStates.TryParse(text, out _));
        var ex = Assert.Throws<JobValidationException>(() => JobStates.Parse(text));
        Assert.Equal("state", ex.Field);
        Assert.Contains("dead_letter", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Exactly_the_four_end_states_are_terminal()
    {
        Assert.Equal(
            [JobState.Completed, JobState.Failed, JobState.DeadLetter, JobState.Cancelled],
            JobStates.All.Where(s => s.IsTerminal()));
    }
}
