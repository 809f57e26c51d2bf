namespace Bulwark.Cli.Admin;

/// <summary>Where the admin commands act: a server (<c>--url</c>) or a store (<c>--store</c>: a SQLite file or a PostgreSQL URL).</summary>
/// <param name="Url">Server base URL, when talking to a server.</param>
/// <param name="ApiKey">API key sent to the server.</param>
/// <param name="StorePath">Store file or PostgreSQL connection, when working on it directly.</param>
internal sealed record AdminConnection(string? Url, string? ApiKey, string StorePath)
{
    /// <summary>Opens the backend. Read-only commands pass <paramref name="createStore"/> false so a typo in a <c>--store</c> path does not create an empty file.</summary>
    public async Task<IAdminBackend> OpenAsync(bool createStore, CancellationToken cancellationToken)
    {
        if (Url is not null)
        {
            return new HttpAdminBackend(Url, ApiKey);
        }

        var (store, query) = await StoreSelection.OpenAsync(StorePath, createStore, cancellationToken);
        return new StoreAdminBackend(store, query, $"store {StoreSelection.Describe(StorePath)}");
    }
}
