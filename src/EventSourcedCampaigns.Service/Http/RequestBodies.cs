using Microsoft.AspNetCore.Http.Features;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>Request bodies sent without a Content-Length.</summary>
public static class RequestBodies
{
    /// <summary>
    /// Read a body sent without its length (chunked) into memory, up to <paramref name="limit"/> bytes, and hand it on with
    /// its length; false when it is longer (nothing is handed on). A request that cannot have a body is left as it is.
    /// </summary>
    public static async Task<bool> BufferAtMostAsync(HttpContext http, long limit)
    {
        if (http.Features.Get<IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: true }) return true;
        var buffered = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
            {
                if (buffered.Length + read > limit) return false;
                buffered.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return false; // Kestrel's own limit, the same number
        }
        buffered.Position = 0;
        (http.Request.Body, http.Request.ContentLength) = (buffered, buffered.Length);
        return true;
    }
}
