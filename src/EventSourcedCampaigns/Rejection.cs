namespace EventSourcedCampaigns;

/// <summary>Why a command was refused, for programs to branch on.</summary>
public enum RejectionCode
{
    // Lifecycle: the command is not allowed in the campaign's current status.
    CampaignNotFound,
    CampaignAlreadyExists,
    NotCancellableDraft,
    NotCancellableSent,
    NotEditable,
    NotSchedulable,
    NotPausable,
    NotResumable,
    NotRevertible,
    NotCloneable,
    NotScheduling,
    SchedulingNotComplete,
    SendTimeNotReached,
    NotSending,
    ClaimLostToCancel,
    BatchAlreadyRecorded,
    BatchNotClaimed,

    // Bad input: the command itself is malformed, whatever the status.
    InvalidName,
    InvalidVariants,
    InvalidAudience,
    InvalidBatchSize,
    SendTimeNotInFuture,
    InvalidCount,
    BatchOutOfRange,
    UnknownVariant,
    TimeWentBackwards,
    InvalidActor,
    InvalidReason,
    InvalidChannel,
    InvalidCampaignId,

    // Added after the first release: appended, so the numeric values above never change.
    /// <summary>A batch, or the part of one not tried again, may only be released (never sent) once the campaign was cancelled.</summary>
    NotCancelling,
    /// <summary>The longest a send may start late (<c>StartSend.MaxLateness</c>) can't be negative.</summary>
    InvalidLateness,
}

/// <summary>A refused command: a typed <see cref="Code"/> and a <see cref="Message"/> a marketer understands.</summary>
public sealed record Rejection(RejectionCode Code, string Message);

/// <summary>Thrown by infrastructure when a decision was a rejection; carries the typed reason.</summary>
public sealed class CampaignRejectedException(Rejection rejection) : InvalidOperationException(rejection.Message)
{
    /// <summary>The typed reason.</summary>
    public Rejection Rejection { get; } = rejection;
}

/// <summary>The outcome of a command: the events to append (none for a no-op), or a rejection.</summary>
public sealed record Decision
{
    private Decision(IReadOnlyList<ICampaignEvent> events, Rejection? rejection) =>
        (Events, Rejection) = (events, rejection);

    /// <summary>Events to append; empty when the command was a no-op or was rejected.</summary>
    public IReadOnlyList<ICampaignEvent> Events { get; }

    /// <summary>Set when the command was refused.</summary>
    public Rejection? Rejection { get; }

    /// <summary>True when the command was refused.</summary>
    public bool IsRejected => Rejection is not null;

    /// <summary>Accept with these events.</summary>
    public static Decision Accept(params ICampaignEvent[] events) => new(events, null);

    /// <summary>Accepted with nothing to append: already done, or nothing to do in this status.</summary>
    public static Decision NoChange { get; } = new([], null);

    /// <summary>Refuse with a typed reason.</summary>
    public static Decision Reject(RejectionCode code, string message) => new([], new Rejection(code, message));

    /// <summary>The events, or a <see cref="CampaignRejectedException"/> when refused.</summary>
    public IReadOnlyList<ICampaignEvent> EventsOrThrow() =>
        Rejection is null ? Events : throw new CampaignRejectedException(Rejection);
}
