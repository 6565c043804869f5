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
        // The first row is read before anything is written: a database that cannot be read is still the 503 problem
        // (the response not begun), not a 200 with the header row and a cut-off body.
        await using var items = rows.WithCancellation(ct).GetAsyncEnumerator();
        var more = await items.MoveNextAsync();
        await using var csv = CsvWriter.Create(output,
            new CsvWriterOptions { Injection = CsvInjection.Escape, FormatProvider = CultureInfo.InvariantCulture }, leaveOpen: true);
        csv.WriteHeader(columns);
        for (; more; more = await items.MoveNextAsync()) await csv.WriteRecordAsync(row(items.Current), ct);
        await csv.FlushAsync(ct);
    }
}
