using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace EventSourcedCampaigns.Soak;

/// <summary>An answer of the API: status code and parsed body (null when empty or not JSON).</summary>
public sealed record Answer(HttpStatusCode Status, JsonElement? Body, bool AfterTransportFailure)
{
    public bool Ok => (int)Status is >= 200 and < 300;
    public string? Code => Body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty("code", out var c) ? c.GetString() : null;
    public string? CampaignStatus => Body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
    public override string ToString() => $"{(int)Status} {Body?.GetRawText()}";
}

/// <summary>
/// The service's front door as a client sees it with several nodes: requests go to the nodes in turn; a node that is
/// down (refused connection, reset, timeout) is skipped and the request is sent again to the other one. A 429 waits
/// for its Retry-After and a 503 is retried.
/// </summary>
public sealed class SoakApi(IReadOnlyList<ServiceNode> nodes, IReadOnlyDictionary<string, string> tokens) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly Dictionary<ServiceNode, HttpClient> _clients = nodes.ToDictionary(n => n, n =>
        new HttpClient { BaseAddress = n.BaseAddress, Timeout = TimeSpan.FromSeconds(60) });
    private int _next;
    private long _transportFailures, _retries;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _serverErrors = new();

    public long TransportFailures => Interlocked.Read(ref _transportFailures);
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Every 500 or 502 answer (retried), for the report: worth reading even when the retry succeeded.</summary>
    public IReadOnlyCollection<string> ServerErrors => _serverErrors;

    public Task<Answer> GetAsync(string tenant, string path) => SendAsync(tenant, () => new HttpRequestMessage(HttpMethod.Get, path));

    public Task<Answer> PostAsync(string tenant, string path, object body, string? idempotencyKey = null) =>
        SendAsync(tenant, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
            return request;
        });

    private async Task<Answer> SendAsync(string tenant, Func<HttpRequestMessage> make)
    {
        var deadline = DateTime.UtcNow + Patience;
        var transportFailure = false;
        while (true)
        {
            var node = Pick();
            using var request = make();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[tenant]);
            HttpResponseMessage response;
            try
            {
                response = await _clients[node].SendAsync(request);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                transportFailure = true;
                Interlocked.Increment(ref _transportFailures);
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{request.Method} {request.RequestUri}: no node answered for {Patience.TotalSeconds:0} s", e);
                await Task.Delay(500);
                continue;
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync();
                JsonElement? body = null;
                if (text.Length > 0)
                {
                    try { body = JsonDocument.Parse(text).RootElement.Clone(); }
                    catch (JsonException) { }
                }
                var retryable = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
                    or HttpStatusCode.BadGateway or HttpStatusCode.InternalServerError;
                if (!retryable || DateTime.UtcNow > deadline) return new Answer(response.StatusCode, body, transportFailure);
                // A 500 from a node whose database connection died with a killed peer's lock, a 503 while read models
                // catch up or the database is unavailable, a 429: all worth another try.
                Interlocked.Increment(ref _retries);
                if ((int)response.StatusCode is 500 or 502 && _serverErrors.Count < 1000)
                    _serverErrors.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss} {node.Name} {request.Method} {request.RequestUri}: {(int)response.StatusCode} {Shorten(text)}");
                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(500);
                await Task.Delay(wait > TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : wait);
            }
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";

    private ServiceNode Pick()
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[(int)((uint)Interlocked.Increment(ref _next) % (uint)nodes.Count)];
            if (node.Up) return node;
        }
        return nodes[(int)((uint)Interlocked.Increment(ref _next) % (uint)nodes.Count)];
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values) client.Dispose();
    }
}
