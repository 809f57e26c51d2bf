using System.Reflection;
using Bulwark.Client;
using Bulwark.Maintenance;
using Bulwark.Postgres;
using Bulwark.Scheduling;
using Bulwark.Server;
using Bulwark.Sqlite;
using Bulwark.Storage;
using Bulwark.Workers;

namespace Bulwark.Packaging.Tests;

public sealed class ConfigurationDocTests
{
    private static readonly string Doc = File.ReadAllText(Repository.PathOf("docs", "configuration.md"));

    public static TheoryData<string, string> ConfigurableOptions()
    {
        var data = new TheoryData<string, string>();
        void Add(Type type, string section, params string[] listedElsewhere)
        {
            foreach (var name in Settable(type).Where(n => !listedElsewhere.Contains(n)))
            {
                data.Add(type.Name, $"{section}:{name}");
            }
        }

        Add(typeof(WorkerOptions), "Bulwark:Worker");
        Add(typeof(MaintenanceOptions), "Bulwark:Maintenance", nameof(MaintenanceOptions.Retention));
        Add(typeof(RetentionPolicy), "Bulwark:Maintenance:Retention", nameof(RetentionPolicy.Queues));
        Add(typeof(JobClientOptions), "Bulwark:Client", nameof(JobClientOptions.SerializerOptions), nameof(JobClientOptions.Queues)); // as Bulwark:Queues:<queue>:… below
        Add(typeof(Jobs.QueuePolicy), "Bulwark:Queues:<queue>");
        Add(typeof(StorageCircuitOptions), "Bulwark:StorageCircuit");
        Add(typeof(BulwarkServerOptions), "Bulwark:Server", nameof(BulwarkServerOptions.Queues)); // as Queues:<queue>:… below
        Add(typeof(QueueLimitOptions), "Bulwark:Server:Queues:<queue>");
        return data;
    }

    public static TheoryData<string> CodeOptions()
    {
        var data = new TheoryData<string>();
        foreach (var type in new[] { typeof(SqliteStoreOptions), typeof(PostgresStoreOptions), typeof(RecurringSchedulerOptions) })
        {
            foreach (var name in Settable(type))
            {
                data.Add($"{type.Name}.{name}");
            }
        }

        data.Add($"{nameof(JobClientOptions)}.{nameof(JobClientOptions.SerializerOptions)}");
        data.Add($"{nameof(RetentionPolicy)}.{nameof(RetentionPolicy.Queues)}");
        return data;
    }

    [Theory]
    [MemberData(nameof(ConfigurableOptions))]
    public void Every_configurable_option_is_documented_with_its_key_and_environment_variable(string type, string key)
    {
        Assert.True(Doc.Contains($"`{key}`", StringComparison.Ordinal), $"docs/configuration.md does not list {type}'s `{key}`.");
        var variable = key.Replace(":", "__", StringComparison.Ordinal);
        Assert.True(Doc.Contains(variable, StringComparison.Ordinal), $"docs/configuration.md does not give the environment variable {variable}.");
    }

    [Theory]
    [MemberData(nameof(CodeOptions))]
    public void Every_code_only_option_is_documented(string option) =>
        Assert.True(Doc.Contains($"`{option}`", StringComparison.Ordinal), $"docs/configuration.md does not list `{option}`.");

    // Public properties with a public setter or init, and the get-only collections users fill (Queues, ReadKeys, …).
    private static IEnumerable<string> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod?.IsPublic == true || (p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() is var g
                && (g == typeof(IList<>) || g == typeof(IDictionary<,>))))
            .Select(p => p.Name);
}
