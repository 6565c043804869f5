using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace EventSourcedCampaigns.Providers;

/// <summary>
/// Binds a provider's settings from configuration so that a value which does not convert (<c>Security=Tls1</c>,
/// <c>Port=abc</c>) fails the host's start as every other unusable setting does: an <see cref="OptionsValidationException"/>
/// naming the setting and what it takes, not the binder's <see cref="InvalidOperationException"/>. Compiled into each
/// provider package (linked source), so none of them depends on another for it.
/// </summary>
internal static class CheckedBinding
{
    public static OptionsBuilder<T> BindChecked<T>(this OptionsBuilder<T> builder, IConfiguration section) where T : class =>
        builder.Configure(options =>
        {
            try
            {
                section.Bind(options);
            }
            catch (InvalidOperationException e)
            {
                var unreadable = Unreadable(typeof(T), section).ToList();
                throw new OptionsValidationException(builder.Name, typeof(T), unreadable.Count > 0 ? unreadable : [$"{typeof(T).Name}: {e.Message}"]);
            }
        });

    private static IEnumerable<string> Unreadable(Type type, IConfiguration section)
    {
        foreach (var property in type.GetProperties().Where(p => p.CanWrite))
        {
            var setting = section.GetSection(property.Name);
            if (setting.Value is not { } value) continue;
            string? problem = null;
            try
            {
                setting.Get(property.PropertyType);
            }
            catch (InvalidOperationException)
            {
                problem = $"{type.Name}.{property.Name} is '{value}'; use {Expected(Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType)}.";
            }
            if (problem is not null) yield return problem;
        }
    }

    private static string Expected(Type type) => type switch
    {
        { IsEnum: true } => string.Join(", ", Enum.GetNames(type)),
        _ when type == typeof(int) || type == typeof(long) => "a whole number",
        _ when type == typeof(TimeSpan) => "a duration such as 00:00:30",
        _ when type == typeof(bool) => "true or false",
        _ => $"a {type.Name}",
    };
}
