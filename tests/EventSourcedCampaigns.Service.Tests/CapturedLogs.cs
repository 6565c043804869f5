using Microsoft.Extensions.Logging;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>Every line logged, formatted, in <paramref name="lines"/> (locked while written).</summary>
internal sealed class CapturedLogs(List<string> lines) : ILoggerProvider, ILogger
{
    public ILogger CreateLogger(string categoryName) => this;
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (lines) lines.Add(formatter(state, exception));
    }
    public void Dispose() { }
}
