using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourcedCampaigns.IntegrationTests;

public sealed class querying_the_read_models : IAsyncLifetime
{
    private DocumentStore _store = null!;
    private IReadOnlyList<Guid> _ids = [];
    private CampaignDriver _driver = null!;

    public async Task InitializeAsync()
    {
        _store = await TestDatabase.NewStoreAsync("queries", ProjectionLifecycle.Inline);
        _driver = new CampaignDriver(_store, "shop-a", new TestClock());
        _ids = await _driver.EveryStatusAsync();
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private async Task<Page<EventSourcedCampaigns.Marten.ReadModels.CampaignListItem>> List(CampaignListQuery query)
    {
        await using var session = _store.QuerySession("shop-a");
        return await session.QueryCampaignsAsync(query);
    }

    [Fact]
    public async Task the_list_filters_by_status_and_name()
    {
        Assert.Equal(["Cancelled mid-send"], (await List(new(Status: CampaignStatus.CancelledDuringSend))).Items.Select(x => x.Name));
        Assert.Equal(["Still stopping"], (await List(new(Status: CampaignStatus.Cancelling))).Items.Select(x => x.Name));
        Assert.Equal(["Paused promo"], (await List(new(NameContains: "PAUSED"))).Items.Select(x => x.Name));
        Assert.Equal(2, (await List(new(NameContains: "cancelled"))).Total);
    }

    [Fact]
    public async Task the_list_sorts_and_pages_with_a_total()
    {
        var byName = (await List(new(SortBy: CampaignSort.Name, Descending: false, PageSize: 100))).Items.Select(x => x.Name).ToList();
        Assert.Equal(byName.Order(StringComparer.OrdinalIgnoreCase), byName);

        var first = await List(new(SortBy: CampaignSort.CreatedAt, Descending: false, PageNumber: 1, PageSize: 3));
        var third = await List(new(SortBy: CampaignSort.CreatedAt, Descending: false, PageNumber: 3, PageSize: 3));
        Assert.Equal(8, first.Total);
        Assert.Equal(_ids.Take(3), first.Items.Select(x => x.Id));
        Assert.Equal(_ids.Skip(6), third.Items.Select(x => x.Id));
    }

    [Fact]
    public async Task the_list_sorts_by_name_alphabetically_whatever_the_case_and_ties_by_id()
    {
        // The test cluster's collation is C.UTF-8: byte order, which put every capital before every small letter ("Zebra" < "apple").
        var shop = new CampaignDriver(_store, "shop-names", _driver.Clock);
        var zebra = await shop.CreateAsync("Zebra");
        var apples = new[] { await shop.CreateAsync("apple"), await shop.CreateAsync("Apple") }.OrderBy(id => id.ToString(), StringComparer.Ordinal);
        var banana = await shop.CreateAsync("banana");
        await using var session = _store.QuerySession("shop-names");
        async Task<IEnumerable<Guid>> Sorted(bool descending, int page = 1, int pageSize = 50) =>
            (await session.QueryCampaignsAsync(new(SortBy: CampaignSort.Name, Descending: descending, PageNumber: page, PageSize: pageSize))).Items.Select(x => x.Id);

        Assert.Equal([.. apples, banana, zebra], await Sorted(descending: false));
        Assert.Equal([zebra, banana, .. apples], await Sorted(descending: true)); // the tie still in id order
        // Stable: pages of one campaign each list every campaign once, in the same order.
        var paged = new List<Guid>();
        for (var page = 1; page <= 4; page++) paged.AddRange(await Sorted(descending: false, page, pageSize: 1));
        Assert.Equal(await Sorted(descending: false), paged);
    }

    [Fact]
    public async Task the_list_by_send_time_puts_the_campaigns_without_one_last_either_way()
    {
        var shop = new CampaignDriver(_store, "shop-send-times", _driver.Clock);
        var draft = await shop.CreateAsync("No send time yet");
        var earlier = await shop.ScheduledAsync(batches: 1, batchSize: 10);
        var later = await shop.ScheduledAsync(batches: 1, batchSize: 10);
        await using var session = _store.QuerySession("shop-send-times");
        async Task<IEnumerable<Guid>> Sorted(bool descending) =>
            (await session.QueryCampaignsAsync(new(SortBy: CampaignSort.SendAt, Descending: descending))).Items.Select(x => x.Id);

        Assert.Equal([earlier, later, draft], await Sorted(descending: false));
        Assert.Equal([later, earlier, draft], await Sorted(descending: true)); // not the drafts first
    }

    [Fact]
    public async Task the_list_filters_by_date_range()
    {
        var all = (await List(new(PageSize: 100))).Items;
        var middle = all.OrderBy(x => x.UpdatedAt).ElementAt(4).UpdatedAt;
        var later = await List(new(UpdatedFrom: middle, PageSize: 100));
        Assert.Equal(all.Count(x => x.UpdatedAt >= middle), later.Total);
        Assert.All(later.Items, x => Assert.True(x.UpdatedAt >= middle));
    }

    [Fact]
    public async Task the_list_offers_cancel_only_while_cancellable()
    {
        var items = (await List(new(PageSize: 100))).Items;
        Assert.Equal(
            [CampaignStatus.Scheduled, CampaignStatus.Paused, CampaignStatus.Sending],
            items.Where(x => x.Actions.HasFlag(CampaignActions.Cancel)).Select(x => x.Status).Order());
    }

    [Fact]
    public async Task the_audit_is_newest_first_and_filters_by_channel_and_time()
    {
        await using var session = _store.QuerySession("shop-a");
        var audit = await session.QueryCancellationAuditAsync(new CancellationAuditQuery());
        Assert.Equal(4, audit.Total); // three accepted, one refused
        Assert.Equal(audit.Items.OrderByDescending(x => x.RequestedAt).Select(x => x.Id), audit.Items.Select(x => x.Id));
        Assert.Empty((await session.QueryCancellationAuditAsync(new CancellationAuditQuery(Channel: RequestChannel.ApiKey))).Items);
        Assert.Empty((await session.QueryCancellationAuditAsync(new CancellationAuditQuery(From: _driver.Clock.Now.AddSeconds(1)))).Items);
    }

    [Fact]
    public async Task the_audit_filters_by_the_whole_actor_id_whatever_its_case()
    {
        var campaign = await _driver.ScheduledAsync(batches: 1);
        await _driver.CancelAsync(campaign, new Actor("Alice@Example.com", RequestChannel.User));
        await using var session = _store.QuerySession("shop-a");
        async Task<IEnumerable<Guid>> ByActor(string actor) =>
            (await session.QueryCancellationAuditAsync(new CancellationAuditQuery(ActorId: actor))).Items.Select(x => x.CampaignId);

        Assert.Equal([campaign], await ByActor("alice@example.com"));
        Assert.Equal([campaign], await ByActor("ALICE@EXAMPLE.COM"));
        Assert.Equal([campaign], await ByActor("Alice@Example.com"));
        Assert.Empty(await ByActor("alice")); // the whole id, not a part of it
        Assert.Empty(await ByActor("alice@example.co_")); // nor a pattern
        var export = await session.StreamCancellationAudit(new CancellationAuditQuery(ActorId: "alice@example.com"), 10).ToListAsync();
        Assert.Equal([campaign], export.Select(x => x.CampaignId));
    }

    [Fact]
    public async Task the_audit_shows_each_campaigns_current_name_and_none_for_a_campaign_the_tenant_does_not_have()
    {
        var shop = new CampaignDriver(_store, "shop-audit-names", _driver.Clock);
        var spring = await shop.ScheduledAsync(batches: 1, name: "Spring sale");
        var draft = await shop.CreateAsync("Draft newsletter");
        var unknown = Guid.NewGuid();
        await shop.CancelAsync(spring);
        await shop.CancelAsync(draft); // refused, but the campaign exists
        await shop.CancelAsync(unknown);
        await new CampaignDriver(_store, "shop-audit-others", _driver.Clock).CancelAsync(spring); // not that tenant's campaign
        await shop.RunAcceptedAsync(new EditCampaign(draft, "Summer newsletter", [new Variant("A", "Summer", "Hello", 100)], CampaignDriver.Marketer));

        await using var session = _store.QuerySession("shop-audit-names");
        var page = await session.QueryCancellationAuditAsync(new CancellationAuditQuery());
        var export = await session.StreamCancellationAudit(new CancellationAuditQuery(), 10).ToListAsync();
        Dictionary<Guid, string?> expected = new() { [spring] = "Spring sale", [draft] = "Summer newsletter", [unknown] = null };
        Assert.Equal(expected, page.Items.ToDictionary(x => x.CampaignId, x => x.CampaignName)); // the name now, not when cancelled
        Assert.Equal(expected, export.ToDictionary(x => x.CampaignId, x => x.CampaignName));
        var everyTenant = await session.QueryCancellationAuditAsync(new CancellationAuditQuery(CampaignId: spring, AllTenants: true));
        Assert.Equal([("shop-audit-names", "Spring sale"), ("shop-audit-others", null)],
            everyTenant.Items.Select(x => (x.TenantId, x.CampaignName)).Order());

        // One names query for the page, whatever its size; and the name is read, not stored with the entry.
        async Task<int> Requests(int pageSize)
        {
            await using var counted = _store.QuerySession("shop-audit-names");
            await counted.QueryCancellationAuditAsync(new CancellationAuditQuery(PageSize: pageSize));
            return counted.RequestCount;
        }
        Assert.Equal(3, await Requests(1)); // the total, the page and the names
        Assert.Equal(3, await Requests(3));
        Assert.DoesNotContain("CampaignName", await session.Json.FindByIdAsync<CancellationAuditEntry>(spring));
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, 0)]
    [InlineData(1, 501)]
    public async Task bad_paging_is_refused_before_any_query(int page, int size)
    {
        await using var session = _store.QuerySession("shop-a");
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.QueryCampaignsAsync(new CampaignListQuery(PageNumber: page, PageSize: size)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.QueryCancellationAuditAsync(new CancellationAuditQuery(PageNumber: page, PageSize: size)));
    }

    [Fact]
    public async Task an_inverted_date_range_is_refused()
    {
        await using var session = _store.QuerySession("shop-a");
        var now = _driver.Clock.Now;
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.QueryCampaignsAsync(new CampaignListQuery(UpdatedFrom: now, UpdatedTo: now.AddDays(-1))));
    }

    [Fact]
    public async Task bad_arguments_throw_the_documented_exceptions_not_null_reference_or_database_errors()
    {
        await using var session = _store.QuerySession("shop-a");
        await Assert.ThrowsAsync<ArgumentNullException>(() => session.QueryCampaignsAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => session.QueryCancellationAuditAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => session.QueryRecipientOutcomesAsync(null!));
        Assert.Throws<ArgumentNullException>(() => session.StreamCancellationAudit(null!, 10));
        // A negative limit was a PostgresException ("LIMIT must not be negative").
        Assert.Throws<ArgumentOutOfRangeException>(() => session.StreamCancellationAudit(new CancellationAuditQuery(), -1));
        // Zero batches per read ended the export at once, empty, as if the campaign had no recipients.
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
        {
            await foreach (var _ in session.StreamRecipientOutcomesAsync(_ids[0], batchesPerRead: 0)) { }
        });
        // A negative timeout timed out at once; Timeout.InfiniteTimeSpan (.NET's "no timeout") did too.
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.WaitForReadModelsAsync(1, TimeSpan.FromSeconds(-1)));
        await _store.WaitForReadModelsAsync(1, Timeout.InfiniteTimeSpan); // inline read models: at once
    }

    [Fact]
    public async Task reading_creates_no_table_the_schema_does_not_have()
    {
        // Reading does no DDL: the schema applied ahead (ApplyAllDatabaseChangesOnStartup, db-apply) is the whole schema. The
        // audit's names query created a table for its row type on first use, which Marten took for a document (it had an Id).
        var store = await TestDatabase.NewStoreAsync("no_ddl", ProjectionLifecycle.Inline);
        await using var _ = store;
        var driver = new CampaignDriver(store, "shop-a", new TestClock());
        var campaign = await driver.ScheduledAsync(batches: 1);
        await driver.CancelAsync(campaign);
        async Task<IReadOnlyList<string>> Tables()
        {
            await using var session = store.QuerySession();
            return await session.AdvancedSql.QueryAsync<string>(
                "select tablename from pg_tables where schemaname = ? order by tablename", CancellationToken.None, store.Options.DatabaseSchemaName);
        }
        var applied = await Tables();

        await using (var session = store.QuerySession("shop-a"))
        {
            await session.QueryCampaignsAsync(new CampaignListQuery());
            await session.LoadSendReportAsync(campaign);
            await session.LoadCampaignStateAsync(campaign);
            await session.QueryCancellationAuditAsync(new CancellationAuditQuery());
            await session.StreamCancellationAudit(new CancellationAuditQuery(), 10).ToListAsync();
            await session.QueryRecipientOutcomesAsync(new RecipientOutcomeQuery(campaign));
            await session.LoadRecipientOutcomeAsync(campaign, "nobody");
            await session.StreamRecipientOutcomesAsync(campaign).ToListAsync();
        }

        Assert.Equal(applied, await Tables());
    }
}

/// <summary>
/// A page's total is counted a moment before the page is read: what is committed between the two must not make them
/// disagree (an audit saw one campaign listed with a total of 0).
/// </summary>
public sealed class a_page_total
{
    [Theory]
    [InlineData(0, 1, 1, 50, 1)]     // a campaign committed after the count: counted
    [InlineData(7, 3, 1, 50, 3)]     // fewer now (a status filter no longer matches): a short page says where the list ends
    [InlineData(120, 50, 2, 50, 120)] // a full page in the middle: the count stands
    [InlineData(60, 50, 2, 50, 100)]  // a full page past the count: at least what was listed
    [InlineData(60, 10, 2, 50, 60)]   // the last page
    [InlineData(60, 0, 3, 50, 60)]    // past the end: nothing to say where it ends, the count stands
    [InlineData(5, 0, 1, 50, 0)]      // an empty first page: the list is empty
    public void agrees_with_its_page(long counted, int onPage, int pageNumber, int pageSize, long total) =>
        Assert.Equal(total, CampaignQueries.TotalWithPage(counted, onPage, pageNumber, pageSize));
}
