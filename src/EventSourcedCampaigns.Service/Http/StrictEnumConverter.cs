using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>
/// Enums in JSON bodies are their names (docs/api.md): one name of the enum, read in any case (<c>"sms"</c>), as before.
/// <see cref="JsonStringEnumConverter"/> also reads names joined by commas, their values OR-ed (<c>"Email, Sms"</c> is Sms,
/// <c>"WrongAudience, ContentError"</c> is ComplianceHold, <c>"Sms, Push"</c> no channel at all), and a name with spaces
/// or a comma around it: here these do not parse, like a number or an unknown name, so the request is refused (400
/// bad_request) before anything runs, as the query string refuses them (<see cref="StrictValues"/>). Values are written
/// as that converter writes them, so answers and the OpenAPI document do not change. A [Flags] enum (the campaign's
/// actions, which the API only answers with) is its converter's, combinations included.
/// </summary>
public sealed class StrictEnumConverter : JsonConverterFactory
{
    private readonly JsonStringEnumConverter names = new(allowIntegerValues: false);

    /// <summary>Whether a value of <paramref name="type"/> is read as exactly one of its names (an enum that is not [Flags]).</summary>
    public static bool ReadsOneName(Type type) => type.IsEnum && !type.IsDefined(typeof(FlagsAttribute), false);

    public override bool CanConvert(Type typeToConvert) => names.CanConvert(typeToConvert);

    public override JsonConverter? CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        var named = names.CreateConverter(typeToConvert, options);
        return ReadsOneName(typeToConvert)
            ? (JsonConverter?)Activator.CreateInstance(typeof(OneName<>).MakeGenericType(typeToConvert), named)
            : named;
    }

    /// <summary>Reads exactly one name (its own case first, then any case); writes as <paramref name="named"/> does.</summary>
    private sealed class OneName<T>(JsonConverter<T> named) : JsonConverter<T> where T : struct, Enum
    {
        private static readonly string[] Names = Enum.GetNames<T>();

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String ? Parse(reader.GetString()) : throw NotAName();

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => named.Write(writer, value, options);

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(reader.GetString());

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            named.WriteAsPropertyName(writer, value, options);

        private static T Parse(string? text) =>
            (Array.Find(Names, n => n == text) ?? Array.Find(Names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase))) is { } name
                ? Enum.Parse<T>(name)
                : throw NotAName();

        private static JsonException NotAName() => new($"A {typeof(T).Name} is one of {string.Join(", ", Names)}, by name.");
    }
}
