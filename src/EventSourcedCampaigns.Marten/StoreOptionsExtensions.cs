using System.Reflection;
using System.Text.Json.Serialization.Metadata;
using EventSourcedCampaigns.Marten.ReadModels;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Schema;
using Marten.Schema.Indexing.Unique;
using JasperFx.MultiTenancy;
using Weasel.Core;

namespace EventSourcedCampaigns.Marten;

/// <summary>The one place that wires campaigns into a Marten store.</summary>
public static class StoreOptionsExtensions
{
    /// <summary>
    /// Adds campaigns to a Marten store: events under their stable stored names, conjoined multi-tenancy,
    /// the inline write model and the three read models.
    /// </summary>
    public static StoreOptions AddCampaigns(this StoreOptions opts, Action<CampaignStoreOptions>? configure = null)
    {
        var options = new CampaignStoreOptions();
        configure?.Invoke(options);

        // The write model's phase union relies on System.Text.Json's polymorphism attributes; jsonb reorders
        // keys, so the "$phase" discriminator is not always first when read back.
        opts.UseSystemTextJsonForSerialization(EnumStorage.AsString, configure: json =>
        {
            json.AllowOutOfOrderMetadataProperties = true;
            json.TypeInfoResolver = (json.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(WithoutCampaignName);
        });

        // One database, tenants isolated: every event and document carries its tenant.
        opts.Events.TenancyStyle = TenancyStyle.Conjoined;
        opts.Events.StreamIdentity = StreamIdentity.AsGuid;

        // Transaction-scoped advisory locks for the async daemon's HotCold leader election (Marten's default, pinned
        // here): they hold behind PgBouncer in transaction mode too, where a session lock would not.
        opts.Events.UseAdvisoryLockTransaction = true;

        foreach (var type in CampaignEvents.All)
            opts.Events.MapEventType(type, CampaignEvents.StoredName(type));

        opts.Projections.SkipStaleGapsDespiteLiveTransactionsAfter = options.SkipStaleGapsAfter;
        // While campaigns send, the daemon's high-water mark is often pinned for one poll behind an append still in
        // flight (it commits milliseconds later), and Marten then waits SlowPollingTime (1 s by default) before it
        // looks again; caught up, it waits as long. Shorter polls halve the read models' lag during a send
        // (docs/benchmarks.md, issue 14); an idle store pays 10 small polls a second instead of 1.
        opts.Projections.FastPollingTime = options.HighWaterPolling;
        opts.Projections.SlowPollingTime = options.HighWaterPollingWhenIdle;
        // With the wakeup an append's commit ends the wait at once; the polls remain the fallback. Marten's
        // UseListenNotifyForEventAppends, except that a cancel's session can notify after its commit (DaemonWakeup).
        if (options.WakeDaemonOnAppend && options.ReadModels == ProjectionLifecycle.Async) DaemonWakeup.Install(opts);

        // A failing event stops the projection loudly rather than being skipped and silently lost.
        opts.Projections.Errors.SkipApplyErrors = false;
        opts.Projections.Errors.SkipSerializationErrors = false;
        opts.Projections.Errors.SkipUnknownEvents = false;
        opts.Projections.RebuildErrors.SkipApplyErrors = false;
        opts.Projections.RebuildErrors.SkipSerializationErrors = false;
        opts.Projections.RebuildErrors.SkipUnknownEvents = false;

        opts.Projections.Add(new CampaignWriteModelProjection(), ProjectionLifecycle.Inline);
        // Larger pages than the default: a send appends thousands of small events, and each page costs round trips.
        Action<AsyncOptions> pages = async => async.BatchSize = options.AsyncBatchSize;
        opts.Projections.Add(new CampaignListProjection(), options.ReadModels, pages);
        opts.Projections.Add(new SendReportProjection(), options.ReadModels, pages);
        opts.Projections.Add(new CancellationAuditProjection(), options.ReadModels, pages);

        opts.Schema.For<CampaignState>().MultiTenanted();
        opts.Schema.For<CampaignBatch>().MultiTenanted().Index(x => x.CampaignId);
        // What a claim reads of a batch (its shape) in columns, not indexed: nothing searches by them.
        opts.Policies.ForAllDocuments(mapping =>
        {
            if (mapping.DocumentType != typeof(CampaignBatch)) return;
            mapping.DuplicateField([typeof(CampaignBatch).GetProperty(nameof(CampaignBatch.Variant))!], columnName: PreparedBatches.VariantColumn);
            mapping.DuplicateField([typeof(CampaignBatch).GetProperty(nameof(CampaignBatch.RecipientCount))!], columnName: PreparedBatches.RecipientCountColumn);
        });
        opts.Schema.For<DispatchHeartbeat>().MultiTenanted().Index(x => x.CampaignId);
        // Who received each campaign: one row per recorded batch, written with the batch's event (not event-derived).
        opts.Storage.Add(new RecipientOutcomes.Storage(opts, options.RecipientOutcomeRetention));
        // The name sort and the actor filter ignore case: their queries read lower(...), and so do these indexes.
        // CreatedAt is the dashboard's default order (newest first): an order by the last change moved sending rows every second.
        opts.Schema.For<CampaignListItem>().MultiTenanted()
            .Index(x => x.Status).Index(x => x.UpdatedAt).Index(x => x.CreatedAt).Index(x => x.SendAt).Index(x => x.SendAt, LatestFirst)
            .Index(x => x.Name, IgnoringCase);
        opts.Schema.For<SendReport>().MultiTenanted();
        opts.Schema.For<CancellationAuditEntry>().MultiTenanted()
            .Index(x => x.CampaignId).Index(x => x.RequestedAt).Index(x => x.ActorId, IgnoringCase);
        // The head of each tenant's audit hash chain (AuditChain), updated under the tenant's audit lock.
        opts.Schema.For<AuditChainHead>().MultiTenanted();
        return opts;
    }

    /// <summary>The audit's campaign name is read with each page (CampaignQueries), never stored: a rename would leave it stale.</summary>
    private static void WithoutCampaignName(JsonTypeInfo type)
    {
        if (type.Type != typeof(CancellationAuditEntry)) return;
        // Matched by the member, not by its JSON name, which follows the store's casing.
        type.Properties.Remove(type.Properties.Single(x =>
            x.AttributeProvider is MemberInfo { Name: nameof(CancellationAuditEntry.CampaignName) }));
    }

    /// <summary>
    /// "Send time, latest first" with the drafts (no send time) last, as in the earliest-first order: the plain index read
    /// backwards would put them first.
    /// </summary>
    private static void LatestFirst(ComputedIndex index)
    {
        index.Name = "mt_doc_campaignlistitem_idx_send_at_latest_first";
        index.SortOrder = Weasel.Postgresql.Tables.SortOrder.Desc;
        index.NullsSortOrder = Weasel.Postgresql.Tables.NullsSortOrder.Last;
    }

    /// <summary>An index on lower(member), with the tenant beside it so that one tenant's rows are found in the index alone.</summary>
    private static void IgnoringCase(ComputedIndex index)
    {
        index.Casing = ComputedIndex.Casings.Lower;
        index.TenancyScope = TenancyScope.PerTenant;
    }
}
