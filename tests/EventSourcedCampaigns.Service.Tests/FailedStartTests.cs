using System.Net;
using System.Net.Sockets;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>A service that cannot start exits with a failure code, so a service manager or a script sees it.</summary>
public sealed class the_failed_start
{
    [Fact]
    public async Task a_service_whose_port_is_taken_exits_with_code_1_and_says_why()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exitCode, stdout, stderr) = await ServiceProcess.RunAsync(["--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string?>
        {
            ["Campaigns__ConnectionString"] = TestDatabase.ConnectionString,
            ["Campaigns__Schema"] = TestDatabase.UniqueSchema("taken"),
        });

        Assert.Equal(1, exitCode);
        Assert.Contains("address already in use", stdout + stderr, StringComparison.OrdinalIgnoreCase); // the host's log
    }
}
