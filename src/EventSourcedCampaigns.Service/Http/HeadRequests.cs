using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>
/// HEAD as HTTP defines it (RFC 9110 9.3.2): the status and headers GET would answer, without the body. MapGet maps GET
/// only, so routing answered HEAD with 405; the server drops what a handler writes for HEAD. Not in the OpenAPI document
/// (<see cref="OpenApiContract"/>): every GET operation has it.
/// </summary>
public static class HeadRequests
{
    /// <summary>The GET endpoints of <paramref name="builder"/> (an endpoint or a group) answer HEAD too.</summary>
    public static TBuilder AnswerHeadAsGet<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            // Routing reads the last method metadata: the one MapGet added, replaced by one that names HEAD too.
            if (endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault() is { } methods
                && methods.HttpMethods.Contains(HttpMethods.Get) && !methods.HttpMethods.Contains(HttpMethods.Head))
                endpoint.Metadata.Add(new HttpMethodMetadata([.. methods.HttpMethods, HttpMethods.Head], methods.AcceptCorsPreflight));
        });
        return builder;
    }
}
