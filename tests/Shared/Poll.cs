namespace Bulwark.TestProcesses;

/// <summary>Polls a condition with a deadline: how real-process tests wait, never with a fixed sleep.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {timeout}: {describe()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }
}
