using System.Diagnostics;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EventSourcedCampaigns.Service.Tests;

// Inside the namespace: the generated types win over the domain's of the same names (Channel, Variant...).
using EventSourcedCampaigns.Service.Tests.Contract;

/// <summary>
/// The API through a client generated from the committed OpenAPI document (NSwag, at build time): what a consumer
/// generates is enough to create, schedule and cancel mid-send, and a refusal arrives as the operation's typed problem
/// with its code.
/// </summary>
[Collection("in-process host")] // the campaign meter is process-wide
public sealed class the_generated_client(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private WebApplicationFactory<Program> _factory = null!;
    private CampaignsClient _client = null!;
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task InitializeAsync()
    {
        _factory = SecuredService.Start(TestDatabase.UniqueSchema("contract"), new Dictionary<string, string?>
        {
            ["Campaigns:Local:Contacts"] = "20000",
            ["Campaigns:Local:Lists:everyone"] = "1.0",
            // 80 batches of 250, 100-150 ms each.
            ["Campaigns:Local:Latency"] = "00:00:00.100",
        });
        _client = new CampaignsClient(_factory.CreateClient().SignedIn("shop-contract"));
        // The embedded provider answers the first 8 calls, then holds every call until the cancel is accepted: the campaign
        // is still Sending when the cancel lands, however fast the machine is or however far the read models lag.
        var provider = (FakeDispatcher)_factory.Services.GetRequiredService<IMessageDispatcher>();
        provider.OnDispatch = async (_, cancellation) =>
        {
            if (provider.Calls > 8) await _cancelled.Task.WaitAsync(cancellation);
        };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task creates_schedules_and_cancels_mid_send_then_reads_a_refused_cancel_as_a_typed_problem()
    {
        var created = await _client.CreateCampaignAsync(null, new CreateCampaignBody
        {
            Name = $"contract-{Guid.NewGuid():N}"[..20], Channel = Channel.Email,
            Variants = [new Variant { Key = "A", Subject = "Hello", Content = "Spring sale", SplitPercent = 100 }],
        });
        Assert.Equal(CampaignStatus.Draft, created.Status);
        var id = created.CampaignId.ToString();

        var scheduled = await _client.ScheduleCampaignAsync(id, new ScheduleCampaignBody
        {
            SendAt = DateTimeOffset.UtcNow.AddSeconds(3).ToString("O"), Included = ["everyone"], BatchSize = 250,
        });
        Assert.Equal(CampaignStatus.Scheduling, scheduled.Status);

        var watch = Stopwatch.StartNew();
        SendReport report;
        while ((report = await _client.GetSendReportAsync(id, scheduled.Sequence)).Status != CampaignStatus.Sending) // read your write
        {
            Assert.True(watch.Elapsed < Patience && report.Status is not CampaignStatus.Sent, $"never seen Sending; last {report.Status}");
            await Task.Delay(50);
        }
        var cancelled = await _client.CancelCampaignAsync(id, new CancelCampaignBody { ReasonCode = CancelReasonCode.WrongAudience, Reason = "wrong list" });
        _cancelled.SetResult(); // the held calls answer, recorded after the request
        Assert.Contains(cancelled.Status, new CampaignStatus?[] { CampaignStatus.Cancelling, CampaignStatus.CancelledDuringSend });
        var final = await _client.GetSendReportAsync(id, cancelled.Sequence);
        output.WriteLine($"cancelled mid-send: {final.Status}, {final.Totals.Delivered:N0} delivered of {final.Totals.Recipients:N0}");
        Assert.True(final.CancelRequestedAt is not null);

        // A cancel the decider refuses: the generated exception carries the operation's problem with its typed code.
        var draft = await _client.CreateCampaignAsync(null, new CreateCampaignBody
        {
            Name = "contract draft", Channel = Channel.Sms,
            Variants = [new Variant { Key = "A", Subject = "Hi", Content = "Soon", SplitPercent = 100 }],
        });
        var refused = await Assert.ThrowsAsync<ApiException<CancelCampaignProblem>>(() =>
            _client.CancelCampaignAsync(draft.CampaignId.ToString(), new CancelCampaignBody { ReasonCode = CancelReasonCode.Other }));
        Assert.Equal(409, refused.StatusCode);
        Assert.Equal(CancelCampaignProblemCode.NotCancellableDraft, refused.Result.Code);
        Assert.Contains("draft", refused.Result.Detail);

        // And one the HTTP layer refuses, with its own code.
        var malformed = await Assert.ThrowsAsync<ApiException<CancelCampaignProblem>>(() =>
            _client.CancelCampaignAsync("not-a-guid", new CancelCampaignBody { ReasonCode = CancelReasonCode.Other }));
        Assert.Equal((400, CancelCampaignProblemCode.Malformed_id), (malformed.StatusCode, malformed.Result.Code));
    }
}
