using System.Diagnostics;
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

    /// <summary>
    /// <c>bash eng/serve.sh</c> on a port where another service already answers (one started earlier): that service
    /// answered the script's health probe, so the script printed "Listening on" for a service that then failed to bind
    /// and exited. The script refuses such a port at once, before it starts or builds anything.
    /// </summary>
    [Fact]
    public async Task eng_serve_sh_refuses_a_port_another_service_answers_on_instead_of_saying_it_listens()
    {
        using var other = new TcpListener(IPAddress.Loopback, 0);
        other.Start();
        var port = ((IPEndPoint)other.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var answering = AnswerHealthyAsync(other, stop.Token);

        var root = the_openapi_document.RepositoryRoot();
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "eng", "serve.sh"), "--no-build", "--port", $"{port}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root,
        };
        start.Environment["CAMPAIGNS_POSTGRES"] = TestDatabase.ConnectionString; // no throwaway cluster for it to start
        var (exited, exitCode, stdout, stderr) = await ServiceProcess.RunToExitAsync(start, TimeSpan.FromSeconds(120));
        await stop.CancelAsync();
        await answering;

        var output = $"stdout: {stdout}\nstderr: {stderr}";
        Assert.DoesNotContain("Listening on", stdout);
        Assert.True(exited && exitCode == 1, $"eng/serve.sh should exit with code 1. {output}");
        Assert.Contains($"port {port} is in use", stderr);
    }

    /// <summary>Answers every request on <paramref name="listener"/> with 200 "Healthy", as a running service's /health/live does.</summary>
    private static async Task AnswerHealthyAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync(stop);
                var stream = client.GetStream();
                _ = await stream.ReadAsync(new byte[4096], stop); // curl's request fits in one read; a bare probe closes at once
                await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\nHealthy"u8.ToArray(), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (IOException) { } // the client left first
            catch (SocketException) { }
        }
    }
}
