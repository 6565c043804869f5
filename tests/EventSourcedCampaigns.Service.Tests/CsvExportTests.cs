using System.Text;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using EventSourcedCampaigns.Service.Http;

namespace EventSourcedCampaigns.Service.Tests;

public sealed class the_csv_exports
{
    private static RecipientResult Recipient(string id, string? reason = null, RecipientOutcome outcome = RecipientOutcome.Delivered) =>
        new(Guid.NewGuid(), id, outcome, reason, 7, "A", new DateTimeOffset(2027, 1, 2, 3, 4, 5, TimeSpan.Zero));

    private static async Task<string> CsvAsync(Stream output, params RecipientResult[] recipients)
    {
        await RecipientEndpoints.WriteCsvAsync(recipients.ToAsyncEnumerable(), output, CancellationToken.None);
        return Encoding.UTF8.GetString((output as AsyncOnlyStream)?.Written.ToArray() ?? ((MemoryStream)output).ToArray());
    }

    [Fact]
    public async Task the_recipients_export_escapes_a_recipient_id_or_a_reason_that_a_spreadsheet_would_run_as_a_formula()
    {
        // Recipient ids come from the audience, reasons from the provider: neither is ours to trust.
        var csv = await CsvAsync(new MemoryStream(), Recipient("=HYPERLINK(\"http://evil.example\",\"x\")"),
            Recipient("ana@shop.example", "+cmd|' /C calc'!A0", RecipientOutcome.Failed), Recipient("b,c@shop.example"));

        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("recipient_id,outcome,reason,batch,variant,recorded_at", lines[0]);
        Assert.StartsWith("\"'=HYPERLINK(", lines[1]);
        Assert.Equal("ana@shop.example,Failed,\"'+cmd|' /C calc'!A0\",7,A,2027-01-02T03:04:05+00:00", lines[2]); // as the JSON writes it
        Assert.StartsWith("\"b,c@shop.example\",Delivered,,7,A,", lines[3]);
    }

    [Fact]
    public async Task the_recipients_export_writes_a_long_export_without_one_synchronous_write_which_a_response_body_refuses()
    {
        var recipients = Enumerable.Range(0, 20_000).Select(n => Recipient($"recipient-{n}@shop.example", new string('x', 200))).ToArray();

        var csv = await CsvAsync(new AsyncOnlyStream(), recipients);

        Assert.Equal(20_001, csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task the_audit_export_escapes_formulas_and_writes_thousands_of_rows_only_asynchronously()
    {
        // It wrote synchronously, which a response body refuses, once its buffer filled: a few hundred long rows.
        var entries = Enumerable.Range(0, 3_000).Select(n => new CancellationAuditEntry
        {
            Id = Guid.NewGuid(), CampaignId = Guid.NewGuid(), ActorId = n == 0 ? "@SUM(1+1)" : $"ana{n}@shop.example",
            ReasonCode = CancelReasonCode.Other, ReasonText = new string('x', 400), Outcome = CancelOutcome.Cancelled,
            RequestedAt = new DateTimeOffset(2027, 1, 2, 3, 4, 5, TimeSpan.Zero),
        }).ToArray();
        var output = new AsyncOnlyStream();

        await AuditEndpoints.WriteCsvAsync(entries.ToAsyncEnumerable(), output, CancellationToken.None);

        var lines = Encoding.UTF8.GetString(output.Written.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3_001, lines.Length);
        Assert.Contains(",\"'@SUM(1+1)\",", lines[1]);
    }

    [Fact]
    public async Task an_export_whose_first_read_fails_writes_nothing_so_the_answer_can_still_be_the_503_problem()
    {
        // Found by an audit: with the database down the audit export answered 200 with its header row and a cut-off body.
        var output = new AsyncOnlyStream();

        await Assert.ThrowsAsync<TimeoutException>(() => AuditEndpoints.WriteCsvAsync(Unreadable(), output, CancellationToken.None));

        Assert.Equal(0, output.Written.Length);
    }

    [Fact]
    public async Task an_export_with_no_rows_is_its_header_row()
    {
        var csv = await CsvAsync(new MemoryStream());

        Assert.Equal("recipient_id,outcome,reason,batch,variant,recorded_at\r\n", csv);
    }

#pragma warning disable CS1998 // an async iterator that fails at its first read, as a query on an unreachable database does
    private static async IAsyncEnumerable<CancellationAuditEntry> Unreadable()
    {
        throw new TimeoutException("The database cannot be reached.");
#pragma warning disable CS0162
        yield break;
#pragma warning restore CS0162
    }
#pragma warning restore CS1998

    /// <summary>Like Kestrel's response body: synchronous writes throw.</summary>
    private sealed class AsyncOnlyStream : Stream
    {
        public MemoryStream Written { get; } = new();

        public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous operations are disallowed.");
        public override void Flush() => throw new InvalidOperationException("Synchronous operations are disallowed.");

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Written.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written.Length;
        public override long Position { get => Written.Position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
