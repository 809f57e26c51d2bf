using Microsoft.Playwright;

namespace Bulwark.Dashboard.Tests;

/// <summary>One server (with keys) and one headless Chromium for the browser tests of a class.</summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public DashboardHost Host { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots go: artifacts/test-results/screenshots under the repository root.</summary>
    public string ScreenshotDirectory { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The dashboard tests drive a real headless Chromium at {ChromiumPath}, and there is none. Install it with 'apt-get install -y chromium' (./test.sh does); these tests never download a browser.");
        }

        ScreenshotDirectory = Path.Combine(RepositoryRoot(), "artifacts", "test-results", "screenshots");
        Directory.CreateDirectory(ScreenshotDirectory);
        Host = await DashboardHost.StartAsync(withKeys: true);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A fresh browser context (its own cookies) signed in with <paramref name="key"/>.</summary>
    public async Task<IPage> SignedInPageAsync(string key)
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = Host.BaseUrl, ViewportSize = new() { Width = 1360, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        await page.GotoAsync("/dashboard/");
        Assert.EndsWith("/dashboard/signin", new Uri(page.Url).AbsolutePath, StringComparison.Ordinal);
        await page.FillAsync("input[name=key]", key);
        await page.ClickAsync("form.signin button[type=submit]");
        // The sign-in answers with a redirect to the overview: wait for that navigation to land, or the test's next
        // GotoAsync races it (and is interrupted by it on a busy machine).
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/dashboard/");
        await page.WaitForSelectorAsync("header nav");
        return page;
    }

    /// <summary>
    /// Opens <paramref name="path"/> until <paramref name="selector"/> is on it. Pages show queue counts up to a few seconds
    /// old (they never wait for the count query when they have recent counts), so a row for a change made a moment ago may
    /// take a reload to appear.
    /// </summary>
    public static async Task GotoUntilAsync(IPage page, string path, string selector)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            await page.GotoAsync(path);
            if (await page.Locator(selector).CountAsync() > 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{path} never showed {selector}");
            await Task.Delay(250);
        }
    }

    public async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bulwark.slnx")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
