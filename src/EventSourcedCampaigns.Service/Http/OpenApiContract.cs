using System.Text.Json.Nodes;
using EventSourcedCampaigns.Service.Security;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> (docs/api.md): every operation's answer, every problem it can
/// answer with the exact codes (from <see cref="Refusals"/>), the security schemes and scopes, in OpenAPI 3.0 so that
/// generators (NSwag, Kiota, openapi-generator) read nullability and enums the same way. The committed copy is
/// docs/openapi/v1.json; a test fails when the served one differs.
/// </summary>
public static class OpenApiContract
{
    public const string DocumentName = "v1";
    /// <summary>The API's version: the major is the document's name (v1); minor and patch grow with additive changes.</summary>
    public const string Version = "1.9.0";
    public const string BearerScheme = "Bearer";
    public const string ApiKeyScheme = "ApiKey";
    private const string ProblemsKey = "campaigns:problem-codes";
    private const string ProblemJson = "application/problem+json";

    private static readonly (string Name, string Description)[] Tags =
    [
        ("Campaigns", "Create, schedule, pause, resume, revert, cancel and clone campaigns; the Campaigns list, send reports and event histories."),
        ("Recipients", "Who received a campaign, and the erase of a recipient."),
        ("Audit", "The cancellation audit: every cancel attempt, its CSV export and the verification of its hash chain."),
        ("Operations", "For operators: the projections' progress on this node."),
    ];

    public static IServiceCollection AddCampaignOpenApi(this IServiceCollection services) => services.AddOpenApi(DocumentName, o =>
    {
        o.OpenApiVersion = OpenApiSpecVersion.OpenApi3_0;
        // HEAD is GET without the body (HeadRequests): operations of their own would repeat every GET under the same operationId.
        var include = o.ShouldInclude;
        o.ShouldInclude = description => !HttpMethods.IsHead(description.HttpMethod ?? "") && include(description);
        o.AddOperationTransformer((operation, context, _) =>
        {
            Describe(operation, context);
            return Task.CompletedTask;
        });
        // The exporter describes the enums of JsonStringEnumConverter only: those StrictEnumConverter reads get their names here,
        // a string enum as before (the committed document does not change).
        o.AddSchemaTransformer((schema, context, _) =>
        {
            // The domain's limits, which the exporter cannot see (they are rules, not attributes).
            if (context.JsonPropertyInfo is { Name: "variants" } && schema.Items is not null) schema.MaxItems = CampaignLimits.MaxVariants;
            if (context.JsonPropertyInfo is { } property && MaxLengths.TryGetValue((property.DeclaringType, property.Name), out var max))
            {
                if (schema.Items is OpenApiSchema items) (schema.MaxItems, items.MaxLength) = (CampaignLimits.MaxLists, max);
                else schema.MaxLength = max;
            }
            var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
            if (StrictEnumConverter.ReadsOneName(type) && schema is { Enum: not { Count: > 0 }, OneOf: null, AnyOf: null, AllOf: null })
            {
                schema.Enum = [.. Enum.GetNames(type).Select(n => (JsonNode)n)];
                schema.Type = JsonSchemaType.String;
            }
            // A set of flags is written as its names joined by ", ": the names are given, as an enum's are.
            if (type == typeof(CampaignActions))
                schema.Description = $"{schema.Description} The names of the actions available now, joined by \", \" (\"Pause, RevertToDraft, Cancel\"), " +
                                     $"in this order: {string.Join(", ", Enum.GetNames<CampaignActions>().Where(n => n != nameof(CampaignActions.None)))}; " +
                                     $"\"{nameof(CampaignActions.None)}\" when there is none (a campaign Cancelling).";
            return Task.CompletedTask;
        });
        o.AddDocumentTransformer((document, _, _) =>
        {
            Describe(document);
            return Task.CompletedTask;
        });
    });

    /// <summary>
    /// The longest text each body property may hold (in characters, code points, as the rules and JSON Schema count them; for a list of ids, each
    /// id, and at most <see cref="CampaignLimits.MaxLists"/> ids).
    /// </summary>
    private static readonly Dictionary<(Type, string), int> MaxLengths = new()
    {
        [(typeof(CreateCampaignBody), "name")] = CampaignLimits.MaxNameLength,
        [(typeof(EditCampaignBody), "name")] = CampaignLimits.MaxNameLength,
        [(typeof(Variant), "key")] = CampaignLimits.MaxVariantKeyLength,
        [(typeof(Variant), "subject")] = CampaignLimits.MaxSubjectLength,
        [(typeof(Variant), "content")] = CampaignLimits.MaxContentLength,
        [(typeof(CancelCampaignBody), "reason")] = EventSourcedCampaigns.Decisions.CancellingRules.MaxReasonLength,
        [(typeof(ScheduleCampaignBody), "included")] = CampaignLimits.MaxListIdLength,
        [(typeof(ScheduleCampaignBody), "excluded")] = CampaignLimits.MaxListIdLength,
    };

    private static void Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var description = context.Description;
        var metadata = new EndpointMetadataCollection(description.ActionDescriptor.EndpointMetadata);
        var parameters = description.ParameterDescriptions;
        var hasBody = parameters.Any(p => p.Source == BindingSource.Body);
        var hasParameters = parameters.Any(p => p.Source == BindingSource.Query || p.Source == BindingSource.Header);
        operation.Parameters ??= [];

        if (metadata.GetMetadata<ReadYourWritesMetadata>() is not null && HttpMethods.IsGet(description.HttpMethod ?? ""))
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "afterSequence", In = ParameterLocation.Query,
                Description = "Read your writes: wait (at most 10 s) until the read models have applied this event sequence, a command's \"sequence\".",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0" },
            });
            hasParameters = true;
        }
        if (metadata.GetMetadata<CreatesCampaignMetadata>() is not null)
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = CommandEndpoints.IdempotencyKeyHeader, In = ParameterLocation.Header,
                Description = "A retry with the same key (1 to 200 characters) answers with the campaign the first request made.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 200 },
            });
            foreach (var (_, response) in operation.Responses ?? [])
                if (response is OpenApiResponse created)
                    (created.Headers ??= new Dictionary<string, IOpenApiHeader>())["Location"] = new OpenApiHeader
                    {
                        Description = "The new campaign's send report, /api/campaigns/{id}/report?afterSequence={sequence}: it answers once the report shows the campaign.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri-reference" },
                    };
        }
        if (metadata.GetMetadata<IfMatchMetadata>() is not null)
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match", In = ParameterLocation.Header,
                Description = "Apply only if the campaign is still at this version: the ETag GetCampaignEvents answered (\"7\"), " +
                              "or * for any campaign that exists. Otherwise 412 precondition_failed, nothing applied.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = $"^(\\*|\"({Preconditions.VersionPattern})\")$" },
            });
        if (metadata.GetMetadata<ETagMetadata>() is not null && operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse answered)
            (answered.Headers ??= new Dictionary<string, IOpenApiHeader>())["ETag"] = new OpenApiHeader
            {
                Description = "The campaign's stream version, a strong ETag (\"7\"): send it as If-Match with EditCampaign.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            };
        foreach (var parameter in operation.Parameters)
            if (parameter is OpenApiParameter { In: ParameterLocation.Query, Schema: OpenApiSchema text } && QueryEndpoints.TextFilters.Contains(parameter.Name))
                text.MaxLength = QueryEndpoints.MaxTextFilterLength;
        if (operation.Parameters.Count == 0) operation.Parameters = null;
        if (RequestExamples.TryGetValue(operation.OperationId ?? "", out var example)
            && operation.RequestBody?.Content?.TryGetValue("application/json", out var json) == true)
            json.Example = JsonNode.Parse(example);

        // Who may call, and with which scope.
        if (metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>() is not null)
        {
            var scopes = Refusals.ScopesOf(metadata);
            // OpenAPI 3.0 lists scopes only for OAuth 2 schemes: the scopes are said in words and in x-required-scopes.
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] },
            ];
            if (scopes.Count > 0)
            {
                (operation.Extensions ??= new Dictionary<string, IOpenApiExtension>())["x-required-scopes"] =
                    new JsonNodeExtension(new JsonArray([.. scopes.Select(s => (JsonNode)s)]));
                operation.Description = $"{operation.Description}{(operation.Description is { Length: > 0 } ? "\n\n" : "")}Requires the scope `{string.Join("`, `", scopes)}`.";
            }
        }

        // Every problem it can answer, grouped by status, each with its codes.
        var codes = Refusals.Of(metadata, description.HttpMethod ?? "GET", hasBody, hasParameters);
        if (codes.Count == 0) return;
        operation.Metadata ??= new Dictionary<string, object>();
        operation.Metadata[ProblemsKey] = codes;
        operation.Responses ??= [];
        foreach (var group in codes.GroupBy(ProblemCodes.StatusOf))
        {
            var status = group.Key;
            var first = group.First();
            var response = new OpenApiResponse
            {
                Description = $"{ReasonPhrase(status)}: {string.Join(", ", group)}.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [ProblemJson] = new()
                    {
                        Schema = new OpenApiSchemaReference(ProblemSchemaName(operation.OperationId!), context.Document),
                        Example = new JsonObject
                        {
                            ["type"] = $"urn:campaigns:problem:{first}", ["title"] = ReasonPhrase(status), ["status"] = status,
                            ["detail"] = ProblemCodes.ExampleOf(first), ["code"] = first,
                        },
                    },
                },
            };
            if (status == StatusCodes.Status429TooManyRequests)
                response.Headers = new Dictionary<string, IOpenApiHeader>
                {
                    ["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait before retrying: the limit's window (60), so at most that; the count may start again sooner.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } },
                };
            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = response;
        }
    }

    private static void Describe(OpenApiDocument document)
    {
        document.Info = new OpenApiInfo
        {
            Title = "EventSourcedCampaigns API",
            Version = Version,
            Description =
                "Marketing campaigns as event streams: create a draft, schedule it, watch it send, cancel it at any moment with a reason, " +
                "and read who received it. Every refusal is a problem details (RFC 9457) document with a machine-readable `code`: " +
                "the decider's rejection codes (CampaignNotFound, NotCancellableSent...) and the HTTP layer's (malformed_id, " +
                "insufficient_scope...). Each operation lists exactly the codes it can answer. Callers act for the tenant of their " +
                "credentials: a bearer token (claims sub, tenant_id, scope) or an API key.",
            Contact = new OpenApiContact { Name = "EventSourcedCampaigns contributors" },
            License = new OpenApiLicense { Name = "MIT", Url = new Uri("https://opensource.org/license/mit") },
        };
        document.Servers = [new OpenApiServer { Url = "http://127.0.0.1:5080", Description = "bash eng/serve.sh on this machine; use your deployment's address." }];
        document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));

        var components = document.Components ??= new OpenApiComponents();
        components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            [BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT",
                Description = "A JWT from the configured identity provider (or signed with Campaigns:Auth:SigningKeys) with the claims " +
                              $"sub, tenant_id and scope (space-separated, some of {string.Join(", ", Scopes.All)}).",
            },
            [ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = ApiKeyAuthenticationHandler.Header,
                Description = "An API key of a machine client (esc_...), made with the service's api-keys command; it carries its tenant " +
                              "and scopes. Also accepted as \"Authorization: ApiKey esc_...\".",
            },
        };

        var schemas = components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        // A variant is only ever sent (create, edit), never answered: its nullable subject is optional as a body's fields are.
        foreach (var (name, schema) in schemas)
        {
            var requestBody = name.EndsWith("Body", StringComparison.Ordinal) || name == nameof(Variant);
            Normalize(schema, requestBody);
            // An answer carries every property, null ones as null (the service leaves none out): all required, so that a
            // generated client does not make a count or a date optional.
            if (!requestBody && schema is OpenApiSchema { Properties: { Count: > 0 } properties } answer)
                answer.Required = new HashSet<string>(properties.Keys, StringComparer.Ordinal);
        }
        foreach (var operation in document.Paths.Values.SelectMany(p => p.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>()))
        {
            foreach (var parameter in operation.Parameters ?? []) if (parameter.Schema is { } s) Normalize(s, false);
            foreach (var content in operation.RequestBody?.Content?.Values ?? []) if (content.Schema is { } s) Normalize(s, true);
            foreach (var content in (operation.Responses ?? []).Values.SelectMany(r => r.Content?.Values ?? [])) if (content.Schema is { } s) Normalize(s, false);
            if (operation.Metadata?.TryGetValue(ProblemsKey, out var codes) == true)
                schemas[ProblemSchemaName(operation.OperationId!)] = new OpenApiSchema
                {
                    Description = $"A refusal of {operation.OperationId}: problem details with one of the codes this operation can answer.",
                    AllOf =
                    [
                        new OpenApiSchemaReference(nameof(ProblemDetails), document),
                        new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Required = new HashSet<string> { "code" },
                            Properties = new Dictionary<string, IOpenApiSchema>
                            {
                                ["code"] = new OpenApiSchema
                                {
                                    Type = JsonSchemaType.String, Description = "What went wrong, for programs to branch on.",
                                    Enum = [.. ((IReadOnlyList<string>)codes).Select(c => (JsonNode)c)],
                                },
                            },
                        },
                    ],
                };
        }
        schemas[nameof(ProblemDetails)] = ProblemDetails;
        components.Schemas = new SortedDictionary<string, IOpenApiSchema>(schemas, StringComparer.Ordinal);
    }

    private static string ProblemSchemaName(string operationId) => operationId + "Problem";

    /// <summary>RFC 9457 problem details as the service writes them (its <c>code</c> is declared per operation).</summary>
    private static OpenApiSchema ProblemDetails => new()
    {
        Type = JsonSchemaType.Object,
        Description = "Problem details (RFC 9457). type is urn:campaigns:problem:{code}; detail is written for a marketer.",
        Required = new HashSet<string> { "type", "title", "status" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "urn:campaigns:problem:{code}" },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The status's reason phrase." },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What happened and what to do, in plain words." },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request's trace, for the operators." },
        },
    };

    /// <summary>
    /// What generators need: a nullable reference as allOf + nullable (OpenAPI 3.0), numbers as numbers (the service also
    /// reads them from strings, which the document does not promise), enums without null, and in request bodies only the
    /// non-nullable properties required (the others may be left out).
    /// </summary>
    private static void Normalize(IOpenApiSchema schema, bool requestBody)
    {
        if (schema is not OpenApiSchema s) return;
        if (s.OneOf is [var a, var b] && (a.Type == JsonSchemaType.Null || b.Type == JsonSchemaType.Null))
        {
            s.AllOf = [a.Type == JsonSchemaType.Null ? b : a];
            s.OneOf = null;
            s.Type = JsonSchemaType.Null;
        }
        if (requestBody && s.Properties is { } bodyProperties)
            foreach (var name in bodyProperties.Keys.ToList())
            {
                // A nullable enum in a request is an optional one: a client leaves it out rather than sending null.
                if (bodyProperties[name] is OpenApiSchema { OneOf: [var x, var y] } && (x.Type == JsonSchemaType.Null || y.Type == JsonSchemaType.Null))
                {
                    bodyProperties[name] = x.Type == JsonSchemaType.Null ? y : x;
                    s.Required?.Remove(name);
                }
                else if (bodyProperties[name] is OpenApiSchema { Type: { } t } && t.HasFlag(JsonSchemaType.Null)) s.Required?.Remove(name);
            }
        if (s.Type is { } type && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && type.HasFlag(JsonSchemaType.String))
        {
            s.Type = type & ~JsonSchemaType.String;
            s.Pattern = null;
        }
        if (s.Enum is { Count: > 0 } values && values.Any(v => v is null))
        {
            s.Enum = [.. values.Where(v => v is not null)];
            s.Type ??= JsonSchemaType.String;
        }
        if (s.Enum is { Count: > 0 } strings && s.Type is null && strings.All(v => v is JsonValue j && j.TryGetValue<string>(out _)))
            s.Type = JsonSchemaType.String;
        foreach (var child in (s.Properties?.Values ?? []).Concat(s.AllOf ?? []).Concat(s.AnyOf ?? []).Concat(s.OneOf ?? []))
            Normalize(child, false);
        if (s.Items is { } items) Normalize(items, false);
        if (s.AdditionalProperties is { } additional) Normalize(additional, false);
    }

    // The titles the service's problems carry: ASP.NET Core's problem details name 413 in RFC 9110's words, its reason
    // phrases still in RFC 7231's ("Payload Too Large").
    private static string ReasonPhrase(int status) =>
        status == StatusCodes.Status413PayloadTooLarge ? "Content Too Large" : Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);

    /// <summary>Request examples, in the words of docs/service.md.</summary>
    private static readonly Dictionary<string, string> RequestExamples = new()
    {
        ["CreateCampaign"] = """{"name":"Winter sale","channel":"Email","variants":[{"key":"A","subject":"Hi","content":"-30%","splitPercent":100}]}""",
        ["EditCampaign"] = """{"name":"Winter sale (final)","variants":[{"key":"A","subject":"Hi again","content":"-40%","splitPercent":100}]}""",
        ["ScheduleCampaign"] = """{"sendAt":"2027-12-01T09:00:00+01:00","included":["newsletter"],"excluded":["unsubscribed"],"batchSize":500}""",
        ["CancelCampaign"] = """{"reasonCode":"ContentError","reason":"Wrong discount code"}""",
        ["CloneCampaign"] = """{"remainderOnly":true}""",
    };
}
