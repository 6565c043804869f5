using System.Net;
using System.Net.Sockets;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>The address a request's limits count against.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The connection's remote address (after forwarded headers, when the operator configured trusted proxies): an IPv4
    /// address as it is, an IPv6 address by its /64 network, since one client usually holds a whole /64 and could otherwise
    /// take a fresh address for every guess.
    /// </summary>
    public static string Of(HttpContext http)
    {
        if (http.Connection.RemoteIpAddress is not { } address) return "unknown";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
