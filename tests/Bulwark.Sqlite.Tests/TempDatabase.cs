using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite.Tests;

/// <summary>A database path in a directory of its own, deleted with it.</summary>
internal sealed class TempDatabase : IDisposable
{
    public TempDatabase(string name = "jobs.db")
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "bulwark-sqlite-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Path = System.IO.Path.Combine(Directory, name);
    }

    public string Directory { get; }

    public string Path { get; }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A process the test killed may still be releasing the file; the OS temp cleaner takes the rest.
        }
    }
}
