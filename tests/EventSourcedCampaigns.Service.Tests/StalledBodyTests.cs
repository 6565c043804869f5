using System.Net.Sockets;
using System.Text;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The web server as deployed (Kestrel, not the test server): a body that stalls is answered 408, which clients retry.</summary>
public sealed class a_stalled_request_body
{
    [Fact]
    public async Task is_answered_408_request_timeout_and_changes_nothing()
    {
        // Found by an audit: it was 400 bad_request in ASP.NET's words, which a retry policy takes for the client's mistake.
        await using var node = await WorkerProcess.StartAloneAsync("stall");
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", node.BaseAddress.Port);
        var stream = tcp.GetStream();
        const string start = """{"name":"Stalled",""";
        var head = $"POST /api/campaigns HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TestAuth.Token("shop-a")}\r\n" +
                   $"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{start}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));

        // Kestrel gives a body 5 s of grace, then wants 240 bytes a second: the answer comes after about 6 s.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        for (int read; !answer.ToString().Contains("\r\n\r\n{") || !answer.ToString().TrimEnd().EndsWith('}');)
        {
            read = await stream.ReadAsync(buffer, patience.Token);
            if (read == 0) break;
            answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        var text = answer.ToString();
        Assert.StartsWith("HTTP/1.1 408", text);
        Assert.Contains("application/problem+json", text);
        Assert.Contains("\"code\":\"request_timeout\"", text);
        using var client = node.Client("shop-a");
        Assert.Contains("\"total\":0", await client.GetStringAsync("/api/campaigns"));
    }
}
