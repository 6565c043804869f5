using Microsoft.Extensions.Logging;

namespace EventSourcedCampaigns.Sending.Tests.Infrastructure;

/// <summary>What a host logged at error level or above: an everyday outcome (a lost race, a stale edit) logs nothing there.</summary>
internal sealed class ErrorLog : ILoggerProvider, ILogger
{
    public System.Collections.Concurrent.ConcurrentQueue<string> Entries { get; } = new();
    public ILogger CreateLogger(string categoryName) => this;
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) Entries.Enqueue(formatter(state, exception));
    }
    public void Dispose() { }
}
