using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Service.Tests;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit;

namespace EventSourcedCampaigns.Dashboard.Tests;

/// <summary>
/// The service in process on a real Kestrel port (Development, so the development sign-in is offered), every role,
/// a schema of its own, and Debian's Chromium headless through Playwright. The embedded audience knows the lists
/// "everyone" (2,000 contacts), "vip" (about 100) and "slow" (everyone, resolved one page a second and held after
/// its second page until the test releases it, so that scheduling lasts long enough to be seen and cancelled). The
/// local provider takes 300 ms a batch, two batches in flight per campaign: a campaign of 20-recipient batches sends
/// for about 15 seconds.
/// </summary>
public sealed class DashboardHost : IAsyncLifetime
{
    public const int Contacts = 2_000;
    public const string Tenant = "shop-a";
    public const string Marketer = "ana@shop.example";

    private WebApplicationFactory<Program> _factory = null!;
    private IPlaywright _playwright = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";
    public string Schema { get; } = TestDatabase.UniqueSchema("dash");

    /// <summary>The audience of the service, whose list "slow" a test holds mid-preparation.</summary>
    public SlowListAudience SlowList => (SlowListAudience)_factory.Services.GetRequiredService<IAudienceResolver>();

    public static string RepositoryRoot { get; } = FindRoot();
    /// <summary>
    /// Where the screenshots go: docs/screenshots/ when CAMPAIGNS_UPDATE_SCREENSHOTS=1 (to refresh the committed ones),
    /// else screenshots/ beside the test assembly, so that an ordinary test run leaves the working tree clean.
    /// </summary>
    public static string Screenshots { get; } = Environment.GetEnvironmentVariable("CAMPAIGNS_UPDATE_SCREENSHOTS") == "1"
        ? Path.Combine(RepositoryRoot, "docs", "screenshots")
        : Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        var chromium = await ChromiumAsync();
        (_factory, BaseUrl) = StartService("Development", Schema);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await _factory.DisposeAsync();
    }

    /// <summary>The key the service trusts for bearer tokens, standing in for an identity provider's.</summary>
    public static readonly string SigningKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>A bearer token as the identity provider would issue it for <paramref name="tenant"/> and <paramref name="actor"/>.</summary>
    public static string Token(string tenant, string actor) => EventSourcedCampaigns.Service.Security.SigningKeys.Issue(
        new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(Convert.FromBase64String(SigningKey)), new EventSourcedCampaigns.Service.Security.AuthSettings().Issuer,
        new EventSourcedCampaigns.Service.Security.AuthSettings().Audience, tenant, actor, EventSourcedCampaigns.Service.Security.Scopes.All, TimeSpan.FromHours(1));

    /// <summary>The service on a free Kestrel port in <paramref name="environment"/>, with the settings described above.</summary>
    public static (WebApplicationFactory<Program> Factory, string BaseUrl) StartService(string environment, string? schema = null, string? roles = null,
        Action<IWebHostBuilder>? configure = null)
    {
        var baseUrl = $"http://127.0.0.1:{FreePort()}";
        var factory = new ServiceFactory().WithWebHostBuilder(web =>
        {
            web.UseEnvironment(environment);
            web.UseUrls(baseUrl); // UseKestrel(port) alone leaves the default port here: Program builds its own WebApplication
            web.UseSetting("Campaigns:ConnectionString", TestDatabase.ConnectionString);
            web.UseSetting("Campaigns:Schema", schema ?? TestDatabase.UniqueSchema("dash"));
            if (roles is not null) web.UseSetting("Campaigns:Roles", roles);
            web.UseSetting("Campaigns:DaemonMode", "Solo");
            web.UseSetting("Campaigns:Auth:DevelopmentTokens", "false");
            web.UseSetting("Campaigns:Auth:SigningKeys:0", SigningKey); // as an operator's identity provider would sign
            web.UseSetting("Campaigns:Local:Contacts", Contacts.ToString());
            web.UseSetting("Campaigns:Local:Lists:everyone", "1.0");
            web.UseSetting("Campaigns:Local:Lists:vip", "0.05");
            web.UseSetting("Campaigns:Local:Lists:slow", "1.0");
            web.UseSetting("Campaigns:Local:Latency", "00:00:00.300");
            web.UseSetting("Campaigns:Local:RecipientFailureRate", "0");
            web.UseSetting("Campaigns:Sending:BatchesInFlightPerCampaign", "2");
            web.ConfigureTestServices(services =>
            {
                var inner = services.Last(d => d.ServiceType == typeof(IAudienceResolver));
                services.Remove(inner);
                services.AddSingleton<IAudienceResolver>(sp => new SlowListAudience((IAudienceResolver)(inner.ImplementationInstance
                    ?? inner.ImplementationFactory!(sp))));
            });
            configure?.Invoke(web);
        });
        factory.UseKestrel();
        factory.StartServer();
        return (factory, baseUrl);
    }

    /// <summary>
    /// A fresh browser (own cookies) of a given width and time zone, signed in through the development sign-in page with
    /// every scope, or only <paramref name="scopes"/>.
    /// </summary>
    public async Task<IPage> SignedInPageAsync(int width = 1280, int height = 900, string actor = Marketer, string[]? scopes = null,
        string timeZone = "Europe/Warsaw", string tenant = Tenant)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl, ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-US", TimezoneId = timeZone,
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        page.Console += (_, message) => { if (message.Type is "error" or "warning") Console.WriteLine($"[browser {message.Type}] {message.Text}"); };
        page.PageError += (_, error) => Console.WriteLine($"[browser page error] {error}");
        await page.GotoAsync("/app/#/sign-in");
        await page.GetByLabel("Tenant").FillAsync(tenant);
        await page.GetByLabel("Your name or e-mail").FillAsync(actor);
        if (scopes is not null)
            foreach (var box in await page.Locator("input[name=scope]").AllAsync())
            {
                var scope = await box.GetAttributeAsync("value");
                await box.SetCheckedAsync(Array.IndexOf(scopes, scope) >= 0);
            }
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Campaigns", Exact = true }).WaitForAsync();
        return page;
    }

    /// <summary>Save a screenshot of <paramref name="page"/> as <paramref name="name"/>.png in <see cref="Screenshots"/>.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true, Animations = ScreenshotAnimations.Disabled });
    }

    private static async Task<string> ChromiumAsync()
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot, "eng", "chromium.sh")]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var path = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 && File.Exists(path) ? path : throw new InvalidOperationException($"eng/chromium.sh failed ({process.ExitCode}): no Chromium to drive.");
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventSourcedCampaigns.sln"))) return dir.FullName;
        throw new InvalidOperationException("EventSourcedCampaigns.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// The list "slow" resolves pages of at most 200 recipients, one a second; after its second page it waits for
/// <see cref="Release"/>, so its audience is still being prepared for as long as a test needs, however slow the machine
/// (any other list at full speed).
/// </summary>
public sealed class SlowListAudience(IAudienceResolver inner) : IAudienceResolver
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Let the "slow" list's pages after the second one come (a second each).</summary>
    public void Release() => _released.TrySetResult();

    public async ValueTask<AudiencePage> ResolvePageAsync(string tenantId, Audience audience, string? continuation, int pageSize, CancellationToken cancellation = default)
    {
        if (!audience.Included.Contains("slow")) return await inner.ResolvePageAsync(tenantId, audience, continuation, pageSize, cancellation);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
        var page = await inner.ResolvePageAsync(tenantId, audience, continuation, Math.Min(pageSize, 200), cancellation);
        if (continuation is not null) await _released.Task.WaitAsync(cancellation); // the second page and on
        return page;
    }
}

/// <summary>Set-up through the API with the signed-in browser's own cookie session and anti-forgery token.</summary>
public static class DashboardApi
{
    /// <summary>A draft with one variant A (subject "Hello", content "Hi", 100%).</summary>
    public static async Task<Guid> CreateDraftAsync(IPage page, string name)
    {
        var created = await PostAsync(page, "/api/campaigns",
            new { name, channel = "Email", variants = new[] { new { key = "A", subject = "Hello", content = "Hi", splitPercent = 100 } } });
        return created.GetProperty("campaignId").GetGuid();
    }

    public static async Task<Guid> CreateAsync(IPage page, string name, string list, TimeSpan sendIn, int batchSize = 20)
    {
        var id = await CreateDraftAsync(page, name);
        await PostAsync(page, $"/api/campaigns/{id}/schedule",
            new { sendAt = DateTimeOffset.UtcNow.Add(sendIn).ToString("O"), included = new[] { list }, batchSize });
        return id;
    }

    /// <summary>A command, as another tab or another marketer would send it; throws when the service refuses it.</summary>
    public static async Task<JsonElement> PostAsync(IPage page, string path, object body)
    {
        var request = page.Context.APIRequest;
        var session = JsonDocument.Parse(await (await request.GetAsync("/auth/session")).TextAsync()).RootElement;
        var headers = new Dictionary<string, string> { ["X-CSRF-Token"] = session.GetProperty("csrfToken").GetString()! };
        var response = await request.PostAsync(path, new() { Headers = headers, DataObject = body });
        if (!response.Ok) throw new InvalidOperationException($"{path}: {response.Status} {await response.TextAsync()}");
        return JsonDocument.Parse(await response.TextAsync()).RootElement;
    }
}
