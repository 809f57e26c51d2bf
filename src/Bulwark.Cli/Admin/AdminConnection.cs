using Bulwark.Cli.Commands;
using Bulwark.Sqlite;

namespace Bulwark.Cli.Admin;

/// <summary>Where the admin commands act: a server (<c>--url</c>) or a store file (<c>--store</c>).</summary>
/// <param name="Url">Server base URL, when talking to a server.</param>
/// <param name="ApiKey">API key sent to the server.</param>
/// <param name="StorePath">Store file, when working on it directly.</param>
internal sealed record AdminConnection(string? Url, string? ApiKey, string StorePath)
{
    /// <summary>Opens the backend. Read-only commands pass <paramref name="createStore"/> false so a typo in <c>--store</c> does not create an empty file.</summary>
    public async Task<IAdminBackend> OpenAsync(bool createStore, CancellationToken cancellationToken)
    {
        if (Url is not null)
        {
            return new HttpAdminBackend(Url, ApiKey);
        }

        var fullPath = Path.GetFullPath(StorePath);
        if (!createStore && !File.Exists(fullPath))
        {
            throw new CliException(
                ExitCodes.Failure,
                $"There is no store at {fullPath}. Pass --store PATH (or set BULWARK_STORE) to the file the server and workers use; 'bulwark enqueue' creates one.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = fullPath }, cancellationToken);
        return new StoreAdminBackend(store, store, $"store {fullPath}");
    }
}
