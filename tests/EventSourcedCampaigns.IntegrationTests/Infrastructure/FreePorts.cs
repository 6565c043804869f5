using System.Net;
using System.Net.Sockets;

namespace EventSourcedCampaigns.IntegrationTests.Infrastructure;

/// <summary>
/// Free local ports for a process a test starts and may restart on the same port, taken below the range the system gives
/// outgoing connections their ports from (32768-60999 on Linux): a port from that range, free when picked, can be taken
/// by any process's new connection before the server binds it again (a soak's second node once exited at start that way).
/// </summary>
public static class FreePorts
{
    /// <summary><paramref name="count"/> free consecutive ports: the first of them.</summary>
    public static int Take(int count = 1)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var first = Random.Shared.Next(20_000, 32_000);
            var listeners = new List<TcpListener>();
            try
            {
                for (var port = first; port < first + count; port++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, port);
                    listeners.Add(listener);
                    listener.Start();
                }
                return first;
            }
            catch (SocketException) { }
            finally
            {
                foreach (var listener in listeners) listener.Dispose();
            }
        }
        throw new InvalidOperationException($"No {count} free consecutive ports between 20000 and 32000.");
    }
}
