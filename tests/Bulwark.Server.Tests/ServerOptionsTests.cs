using Microsoft.Extensions.Configuration;

namespace Bulwark.Server.Tests;

public sealed class ServerOptionsTests
{
    [Fact]
    public void Keys_limits_and_durations_are_read_from_configuration()
    {
        var options = Read(new()
        {
            ["Bulwark:Server:ReadKeys"] = "r1, r2",
            ["Bulwark:Server:AdminKeys:0"] = "a1",
            ["Bulwark:Server:DefaultHardLimit"] = "500",
            ["Bulwark:Server:Queues:email:HardLimit"] = "10",
            ["Bulwark:Server:FullQueueRetryAfter"] = "30s",
        });

        Assert.Equal(["r1", "r2"], options.ReadKeys);
        Assert.Equal(["a1"], options.AdminKeys);
        Assert.Equal(10, options.HardLimitFor("email"));
        Assert.Equal(500, options.HardLimitFor("other"));
        Assert.Equal(TimeSpan.FromSeconds(30), options.FullQueueRetryAfter);
    }

    [Theory]
    [InlineData("Bulwark:Server:DefaultHardLimit", "lots", "Bulwark:Server:DefaultHardLimit")]
    [InlineData("Bulwark:Server:DefaultHardLimit", "-1", "positive whole number")]
    [InlineData("Bulwark:Server:Queues:email:HardLimit", "0", "Bulwark:Server:Queues:email:HardLimit")]
    [InlineData("Bulwark:Server:WorkerDeadAfter", "soon", "duration such as 5s")]
    public void A_malformed_setting_stops_start_up_naming_the_key(string key, string value, string expected)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Read(new() { [key] = value }));

        Assert.Contains(expected, ex.Message);
    }

    private static BulwarkServerOptions Read(Dictionary<string, string?> settings) =>
        BulwarkServerServiceCollectionExtensions.ReadOptions(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
}
