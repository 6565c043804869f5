using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedCampaigns.Service.Http;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// The served OpenAPI document is the committed one (docs/openapi/v1.json), which the generated client of
/// <see cref="the_generated_client"/> is built from. A deliberate change: <c>bash eng/openapi.sh update</c> (docs/api.md).
/// </summary>
[Collection("in-process host")] // its service's metrics would feed the process-wide meter the_campaign_metrics reads
public sealed class the_openapi_document(SecuredService service) : IClassFixture<SecuredService>
{
    public const string CommittedPath = "docs/openapi/v1.json";

    [Fact]
    public async Task the_served_document_is_the_committed_one()
    {
        var served = Normalize(await service.Anonymous().GetStringAsync("/openapi/v1.json"));
        var path = Path.Combine(RepositoryRoot(), CommittedPath);
        if (Environment.GetEnvironmentVariable("UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(path, served);
            return;
        }
        var committed = File.Exists(path) ? Normalize(await File.ReadAllTextAsync(path)) : "";
        Assert.True(committed == served,
            $"The service serves an OpenAPI document that differs from {CommittedPath} (- committed, + served):\n{Diff(committed, served)}\n" +
            "If the change is deliberate, check docs/api.md (is it breaking?) and run: bash eng/openapi.sh update");
    }

    [Fact]
    public async Task every_refusal_names_its_codes_and_every_operation_its_id()
    {
        var document = JsonNode.Parse(await service.Anonymous().GetStringAsync("/openapi/v1.json"))!;
        Assert.Equal(OpenApiContract.Version, (string?)document["info"]!["version"]);
        var schemas = document["components"]!["schemas"]!.AsObject();
        foreach (var (path, item) in document["paths"]!.AsObject())
        foreach (var (method, operation) in item!.AsObject())
        {
            var id = (string?)operation!["operationId"];
            Assert.False(string.IsNullOrEmpty(id), $"{method} {path} has no operationId");
            foreach (var (status, response) in operation["responses"]!.AsObject().Where(r => r.Key[0] is '4' or '5'))
            {
                var codes = schemas[$"{id}Problem"]!["allOf"]![1]!["properties"]!["code"]!["enum"]!.AsArray().Select(c => (string)c!).ToList();
                var declared = ((string)response!["description"]!).Split(": ", 2)[1].TrimEnd('.').Split(", ");
                Assert.All(declared, code => Assert.Contains(code, codes));
                Assert.All(declared, code => Assert.Equal(int.Parse(status), ProblemCodes.StatusOf(code)));
            }
        }
        var cancel = schemas["CancelCampaignProblem"]!["allOf"]![1]!["properties"]!["code"]!["enum"]!.AsArray().Select(c => (string)c!).ToHashSet();
        Assert.Superset(new HashSet<string> { "NotCancellableDraft", "NotCancellableSent", "CampaignNotFound", "InvalidReason", "malformed_id", "insufficient_scope" }, cancel);
        Assert.DoesNotContain("NotSchedulable", cancel);
    }

    [Theory]
    [InlineData("/openapi/v2.json")]
    [InlineData("/openapi/x.json")]
    [InlineData("/openapi/v1.json.json")]
    public async Task a_document_that_does_not_exist_is_a_404_problem_with_a_code(string path)
    {
        // Found by fuzzing: any other name answered 404 in plain text ("No OpenAPI document with the name 'v2' was found.").
        var response = await service.Anonymous().GetAsync(path);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("not_found", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["code"]?.GetValue<string>());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await service.Anonymous().GetAsync("/openapi/v1.json")).StatusCode);
    }

    /// <summary>Keys sorted, indented, UTF-8 as is: the committed form, so that a diff shows only real changes.</summary>
    public static string Normalize(string json) =>
        Sorted(JsonNode.Parse(json))!.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })
            .ReplaceLineEndings("\n") + "\n";

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Sorted)]),
        _ => node?.DeepClone(),
    };

    /// <summary>The changed region: the lines between the common head and the common tail (at most 80 of each side).</summary>
    private static string Diff(string committed, string served)
    {
        var a = committed.Split('\n');
        var b = served.Split('\n');
        var head = 0;
        while (head < a.Length && head < b.Length && a[head] == b[head]) head++;
        var tail = 0;
        while (tail < a.Length - head && tail < b.Length - head && a[^(tail + 1)] == b[^(tail + 1)]) tail++;
        var from = Math.Max(0, head - 3);
        var lines = new List<string> { $"@@ line {head + 1} @@" };
        lines.AddRange(a[from..head].Select(l => "  " + l));
        lines.AddRange(a[head..(a.Length - tail)].Take(80).Select(l => "- " + l));
        lines.AddRange(b[head..(b.Length - tail)].Take(80).Select(l => "+ " + l));
        return string.Join('\n', lines);
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventSourcedCampaigns.sln"))) return dir.FullName;
        throw new InvalidOperationException("The repository root (EventSourcedCampaigns.sln) is not above " + AppContext.BaseDirectory);
    }
}
