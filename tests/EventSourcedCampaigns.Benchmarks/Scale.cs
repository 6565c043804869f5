using System.Diagnostics;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>
/// One very large campaign scheduled and sent through the real pipeline, against the same pipeline at a tenth of the
/// size in the same process: throughput that holds and peak RSS that does not grow with the audience say that memory
/// is bounded (nothing per recipient is kept in memory). Full mode only at 10,000,000 recipients.
/// </summary>
public static class Scale
{
    public static async Task<Result[]> RunAsync(string connection, bool quick)
    {
        var (small, large) = quick ? (5_000L, 50_000L) : (1_000_000L, 10_000_000L);
        await using var pipeline = await Pipeline.StartAsync(connection, "bench_scale");
        await RunOneAsync(pipeline, 1_000); // warm-up

        var reference = await RunOneAsync(pipeline, small);
        var measured = await RunOneAsync(pipeline, large);
        Console.WriteLine($"scale: {large:N0} recipients scheduled in {measured.Schedule.TotalSeconds:N1} s (peak RSS {measured.ScheduleRss:N0} MiB), " +
                          $"sent in {measured.Send.TotalSeconds:N1} s (peak RSS {measured.SendRss:N0} MiB); " +
                          $"{small:N0}: {reference.Schedule.TotalSeconds:N1} s ({reference.ScheduleRss:N0} MiB), {reference.Send.TotalSeconds:N1} s ({reference.SendRss:N0} MiB)");
        var vs = $"vs the same campaign of {small:N0}";
        return
        [
            new Result($"scale: scheduling {large:N0} recipients: recipients/s", large / measured.Schedule.TotalSeconds, small / reference.Schedule.TotalSeconds, $"recipients/s {vs}"),
            new Result($"scale: sending {large:N0} recipients: recipients/s", large / measured.Send.TotalSeconds, small / reference.Send.TotalSeconds, $"recipients/s {vs}"),
            new Result($"memory: peak RSS, scheduling {large:N0} recipients", measured.ScheduleRss, reference.ScheduleRss, $"MiB {vs}"),
            new Result($"memory: peak RSS, sending {large:N0} recipients", measured.SendRss, reference.SendRss, $"MiB {vs}"),
        ];
    }

    private static async Task<(TimeSpan Schedule, double ScheduleRss, TimeSpan Send, double SendRss)> RunOneAsync(Pipeline pipeline, long recipients)
    {
        var limit = TimeSpan.FromHours(1);
        Memory.ResetPeak();
        var started = Stopwatch.GetTimestamp();
        var id = await pipeline.ScheduledAsync(recipients, poll: TimeSpan.FromMilliseconds(50), limit: limit);
        var schedule = Stopwatch.GetElapsedTime(started);
        var scheduleRss = Memory.PeakMiB();

        pipeline.Clock.Advance(TimeSpan.FromDays(1));
        Memory.ResetPeak();
        started = Stopwatch.GetTimestamp();
        await pipeline.StartSendAsync([id]);
        await pipeline.WaitForAsync([id], "sent", TimeSpan.FromMilliseconds(50), limit);
        return (schedule, scheduleRss, Stopwatch.GetElapsedTime(started), Memory.PeakMiB());
    }
}
