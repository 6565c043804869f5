using Marten;
using Marten.Services;
using Npgsql;

namespace EventSourcedCampaigns.IntegrationTests.Infrastructure;

/// <summary>A store's logger (<c>opts.Logger(...)</c>) that keeps the statements each session ran, as Marten logs them.</summary>
public sealed class RecordedStatements : IMartenLogger
{
    private readonly List<Session> _sessions = [];

    /// <summary>The statements of each session started since the last <see cref="Clear"/>, in the order the sessions started.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Sessions
    {
        get { lock (_sessions) return [.. _sessions.Select(s => s.Statements)]; }
    }

    public void Clear()
    {
        lock (_sessions) _sessions.Clear();
    }

    public IMartenSessionLogger StartSession(IQuerySession session)
    {
        var started = new Session();
        lock (_sessions) _sessions.Add(started);
        return started;
    }

    public void SchemaChange(string sql) { }

    private sealed class Session : IMartenSessionLogger
    {
        private readonly List<string> _statements = [];

        public IReadOnlyList<string> Statements
        {
            get { lock (_statements) return [.. _statements]; }
        }

        private void Record(IEnumerable<string> sql)
        {
            lock (_statements) _statements.AddRange(sql);
        }

        public void LogSuccess(NpgsqlCommand command) => Record([command.CommandText]);
        public void LogSuccess(NpgsqlBatch batch) => Record(batch.BatchCommands.Select((NpgsqlBatchCommand c) => c.CommandText));
        public void OnBeforeExecute(NpgsqlCommand command) { }
        public void OnBeforeExecute(NpgsqlBatch batch) { }
        public void LogFailure(NpgsqlCommand command, Exception ex) { }
        public void LogFailure(NpgsqlBatch batch, Exception ex) { }
        public void LogFailure(Exception ex, string message) { }
        public void RecordSavedChanges(IDocumentSession session, IChangeSet commit) { }
    }
}
