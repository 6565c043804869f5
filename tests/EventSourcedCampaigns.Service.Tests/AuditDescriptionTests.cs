using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using Npgsql;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// What the served OpenAPI document tells an auditor about the audit's export and its verification, checked against what
/// the service does: found by a compliance audit of the cancellation audit.
/// </summary>
[Collection("in-process host")]
public sealed class the_audit_descriptions(SecuredService service) : IClassFixture<SecuredService>
{
    private const string Tenant = "audit-descriptions";

    private async Task<string> DescriptionAsync(string path) =>
        (string)JsonNode.Parse(await service.Anonymous().GetStringAsync("/openapi/v1.json"))!["paths"]![path]!["get"]!["description"]!;

    [Fact]
    public async Task name_the_columns_of_the_audit_export_in_the_order_the_export_writes_them()
    {
        // The description said "CampaignName last" while OutcomeChainPosition (1.6.0) is written after it: a script that took
        // the last column for the campaign's name read a chain position.
        var header = (await service.Client(Tenant).GetStringAsync("/api/audit/cancellations.csv")).Split("\r\n")[0];

        var description = await DescriptionAsync("/api/audit/cancellations.csv");

        Assert.Contains(string.Join(", ", header.Split(',')), description);
        Assert.DoesNotContain("CampaignName last", description);
    }

    [Fact]
    public async Task of_the_verification_do_not_promise_that_a_changed_entry_breaks_the_chain_since_the_listed_entries_are_not_checked()
    {
        // The entries that /audit/cancellations and its CSV show are read model documents: one changed in SQL is shown as changed
        // while the chain, over the events, verifies intact. The description promised that "a changed or removed entry breaks the chain".
        var client = service.Client(Tenant, "ana@shop.example");
        var api = new CampaignApi(client);
        var draft = (await api.CreateAsync("Audit description " + Guid.NewGuid().ToString("N")[..8])).CampaignId;
        await api.CancelRawAsync(draft, "Other", "drafts cannot be cancelled");
        JsonElement entry = default;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(50))
        {
            var items = (await api.GetAsync($"/api/audit/cancellations?campaignId={draft}")).GetProperty("items");
            if (items.GetArrayLength() == 1) { entry = items[0]; break; }
            Assert.True(DateTime.UtcNow < deadline, "The refused cancel never reached the audit.");
        }
        await using (var connection = new NpgsqlConnection(TestDatabase.ConnectionString))
        {
            await connection.OpenAsync();
            await using var edit = new NpgsqlCommand(
                $"update {service.Schema}.mt_doc_cancellationauditentry set data = jsonb_set(data, '{{ActorId}}', '\"mallory@shop.example\"') where id = @id",
                connection);
            edit.Parameters.AddWithValue("id", entry.GetProperty("id").GetGuid());
            Assert.Equal(1, await edit.ExecuteNonQueryAsync());
        }

        var shown = (await api.GetAsync($"/api/audit/cancellations?campaignId={draft}")).GetProperty("items")[0];
        var verification = await client.GetFromJsonAsync<JsonElement>("/api/audit/verification");
        var description = await DescriptionAsync("/api/audit/verification");

        Assert.Equal("mallory@shop.example", shown.GetProperty("actorId").GetString());
        Assert.True(verification.GetProperty("intact").GetBoolean());
        Assert.DoesNotContain("a changed or removed entry breaks the chain", description);
        Assert.Contains("/audit/cancellations and its CSV are read models built from these events and are not checked themselves", description);
    }
}
