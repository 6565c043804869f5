using System.Globalization;
using CsvHelper;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>
/// The writer of the CSV exports: numbers and dates invariant, and a cell a spreadsheet would run as a formula (starting
/// with =, +, -, @, a tab or a carriage return) escaped, since recipient ids, provider reasons, actors and cancel reasons
/// are outside text. Write with the async calls: the response body refuses synchronous writes, and the writer writes
/// whenever its buffer fills.
/// </summary>
public static class CsvExport
{
    /// <summary>Write a header of <paramref name="columns"/>, then one line per item of <paramref name="rows"/>.</summary>
    public static async Task WriteAsync<T>(Stream output, string[] columns, IAsyncEnumerable<T> rows, Func<T, string[]> row, CancellationToken ct)
    {
        await using var csv = CsvWriter.Create(output,
            new CsvWriterOptions { Injection = CsvInjection.Escape, FormatProvider = CultureInfo.InvariantCulture }, leaveOpen: true);
        csv.WriteHeader(columns);
        await foreach (var item in rows.WithCancellation(ct)) await csv.WriteRecordAsync(row(item), ct);
        await csv.FlushAsync(ct);
    }
}
